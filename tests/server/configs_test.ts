/**
 * Configs that must start, against this server and nats-server 2.9.10 in the same test:
 * `cluster { name }` (INFO and /varz), `server_tags` (/varz `tags`, `-t` valid), `allow_non_tls`
 * (plain and TLS clients on one port), `https_port` (monitoring over TLS), and a cluster with
 * routes refused with a hint to use leafnodes.
 */
import { assertEquals, assertMatch } from "../helpers/assert.ts";
import https from "node:https";
import { RawClient } from "../helpers/raw.ts";
import { haveNatsServer } from "../helpers/reference.ts";
import { pingOverTls, sameOnBoth, tlsClient } from "./_reload_harness.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const TLS_DIR = new URL("../fixtures/config/tls/", import.meta.url).pathname;
const TLS_BLOCK =
  `tls { cert_file: "${TLS_DIR}server-cert.pem", key_file: "${TLS_DIR}server-key.pem" }`;

/** The monitoring port from the log (`Starting http(s) monitor on host:port`). */
function monitorPort(log: string): number {
  return Number(/Starting https? monitor on [^\s]*:(\d+)/.exec(log)![1]);
}

Deno.test(
  "configs: cluster { name } starts; the name is in INFO, /varz and the banner",
  opts,
  async () => {
    const seen = await sameOnBoth(
      `cluster { name: "testing" }\nhttp_port: -1\nserver_tags: ["Region:EU", " b c ", "region:eu"]`,
      async (p) => {
        const c = await RawClient.connect(p.port);
        const info = await c.info();
        c.close();
        const varz = await (await fetch(`http://127.0.0.1:${monitorPort(p.stderr())}/varz`)).json();
        return {
          info: info.cluster,
          varzCluster: varz.cluster,
          tags: varz.tags,
          banner: /\[INF\] {3}Cluster: {2}testing$/m.test(p.stderr()),
        };
      },
    );
    assertEquals(seen, {
      info: "testing",
      varzCluster: { name: "testing" },
      tags: ["region:eu", "b c"],
      banner: true,
    });
  },
);

/** `-t -c <file>` with the given program. */
async function checkConfig(program: "ours" | "nats-server", file: string) {
  const [cmd, args] = program === "ours"
    ? [Deno.execPath(), ["run", "--allow-read", "--allow-env", MAIN, "-t", "-c", file]]
    : ["nats-server", ["-t", "-c", file]];
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("configs: -t says valid for cluster name, server_tags, allow_non_tls, https_port", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natscfg" });
  const file = `${dir}/nats.conf`;
  await Deno.writeTextFile(
    file,
    `cluster { name: c }\nserver_tags: [a, b]\nallow_non_tls: true\nhttps_port: 8443\n${TLS_BLOCK}\n`,
  );
  const ours = await checkConfig("ours", file);
  assertEquals(ours, { code: 0, stderr: `nats-server: configuration file ${file} is valid\n` });
  if (haveNatsServer()) assertEquals(ours, await checkConfig("nats-server", file));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("configs: a cluster with routes or a listener is refused, saying to use leafnodes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natscfg" });
  const file = `${dir}/nats.conf`;
  await Deno.writeTextFile(file, `cluster { name: c, listen: "127.0.0.1:-1" }\n`);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-net", "--allow-env", MAIN, "-c", file],
    stdout: "null",
    stderr: "piped",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assertEquals(out.code, 1);
  assertMatch(
    new TextDecoder().decode(out.stderr),
    /cluster listen: not supported yet \(routes are not implemented; to join a nats-server cluster, connect to it with leafnodes\)/,
  );
});

/** PING/PONG over TLS after the plaintext INFO; resolves with what came back. */
async function tlsPing(port: number): Promise<string> {
  const { socket } = await tlsClient(port);
  const ok = await pingOverTls(socket, true);
  socket.destroy();
  return ok ? "PONG\r\n" : "";
}

Deno.test("configs: allow_non_tls serves plaintext and TLS clients on one port", opts, async () => {
  const seen = await sameOnBoth(`${TLS_BLOCK}\nallow_non_tls: true`, async (p) => {
    const c = await RawClient.connect(p.port);
    const info = await c.info();
    await c.send('CONNECT {"verbose":false}\r\nPING\r\n');
    const plain = await c.readUntil((t) => t.includes("PONG"), 3000).catch(() => c.text);
    c.close();
    return {
      tls_required: info.tls_required ?? false,
      tls_available: info.tls_available ?? false,
      plain,
      tls: await tlsPing(p.port),
    };
  });
  assertEquals(seen, {
    tls_required: false,
    tls_available: true,
    plain: "PONG\r\n",
    tls: "PONG\r\n",
  });
});

/** GET over HTTPS, verifying the server against `ca` (node:https). */
function httpsGet(
  port: number,
  path: string,
  ca: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: "127.0.0.1", servername: "localhost", port, path, ca }, (res) => {
      let body = "";
      res.on("data", (d: Uint8Array) => body += new TextDecoder().decode(d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
  });
}

Deno.test(
  "configs: https_port serves monitoring over TLS with the tls block's certificate",
  opts,
  async () => {
    const ca = await Deno.readTextFile(`${TLS_DIR}ca.pem`);
    const seen = await sameOnBoth(`${TLS_BLOCK}\nhttps_port: -1`, async (p) => {
      const port = monitorPort(p.stderr());
      const res = await httpsGet(port, "/varz", ca);
      const varz = JSON.parse(res.body);
      return {
        status: res.status,
        httpsPortSet: varz.https_port === -1,
        httpPort: varz.http_port,
        banner: /Starting https monitor on /.test(p.stderr()),
      };
    });
    assertEquals(seen, {
      status: 200,
      httpsPortSet: true,
      httpPort: 0,
      banner: true,
    });
  },
);

Deno.test(
  "configs: allow_non_tls keeps a client silent past the TLS timeout in plaintext",
  opts,
  async () => {
    const block = TLS_BLOCK.replace(/ }$/, ", timeout: 0.3 }");
    const seen = await sameOnBoth(`${block}\nallow_non_tls: true`, async (p) => {
      const c = await RawClient.connect(p.port);
      await c.info();
      // Silent past the TLS timeout (a pending read here would swallow the reply later).
      await new Promise((r) => setTimeout(r, 700));
      await c.send('CONNECT {"verbose":false}\r\nPING\r\n').catch(() => {});
      const got = await c.readUntil((t) => t.includes("PONG"), 3000).catch(() => c.text);
      c.close();
      return { got, closed: c.closed };
    });
    assertEquals(seen, { got: "PONG\r\n", closed: false });
  },
);
