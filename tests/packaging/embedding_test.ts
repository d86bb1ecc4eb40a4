/**
 * The embedding API in mod.ts as a newcomer uses it: URL getters, `await using`, partial
 * `monitor` options, and start errors that name the address with the reference's fatal text
 * (compared with nats-server when it is on PATH).
 */
import { connect } from "nats";
import { startServer } from "../../mod.ts";
import { assert, assertEquals, assertRejects } from "../helpers/assert.ts";
import { haveNatsServer } from "../helpers/reference.ts";
import { exchange } from "./exchange.ts";

Deno.test("embedding: url, wsUrl and monitorUrl reach the listeners (partial monitor options)", async () => {
  const server = await startServer({
    host: "127.0.0.1",
    port: -1,
    config: "websocket { port: -1, no_tls: true }",
    monitor: { host: "127.0.0.1", port: -1 },
  });
  try {
    assertEquals(server.url, `nats://127.0.0.1:${server.ports.client}`);
    assertEquals(
      server.wsUrl,
      `ws://127.0.0.1:${server.ports.websocket}`,
      "0.0.0.0 dialled on loopback",
    );
    assertEquals(server.monitorUrl, `http://127.0.0.1:${server.ports.monitor}`);
    assertEquals(await exchange({ tcp: server.url, ws: server.wsUrl }), [
      "tcp>tcp",
      "tcp>ws",
      "ws>tcp",
      "ws>ws",
    ]);
    const varz = await (await fetch(`${server.monitorUrl}/varz`)).json();
    assertEquals(varz.port, server.ports.client);
    assertEquals(server.options.monitor.basePath, "", "defaults kept under the partial object");
  } finally {
    await server.close();
  }
});

Deno.test("embedding: monitorUrl carries http_base_path; no websocket or monitor means undefined", async () => {
  {
    await using server = await startServer({
      host: "127.0.0.1",
      port: -1,
      monitor: { host: "127.0.0.1", port: -1, basePath: "mon/" },
    });
    assertEquals(server.monitorUrl, `http://127.0.0.1:${server.ports.monitor}/mon`);
    const res = await fetch(`${server.monitorUrl}/healthz`);
    assertEquals(await res.json(), { status: "ok" });
    assertEquals(server.wsUrl, undefined);
  }
  await using plain = await startServer({ port: -1 });
  assertEquals(
    plain.url,
    `nats://127.0.0.1:${plain.ports.client}`,
    "0.0.0.0 is dialled on loopback",
  );
  assertEquals(plain.monitorUrl, undefined);
});

Deno.test("embedding: `await using` closes the server at the end of the scope", async () => {
  let url = "";
  {
    await using server = await startServer({ host: "127.0.0.1", port: -1 });
    url = server.url;
    const nc = await connect({ servers: url });
    await nc.flush();
    await nc.close();
  }
  const port = Number(new URL(url.replace("nats:", "http:")).port);
  await assertRejects(() => Deno.connect({ hostname: "127.0.0.1", port }), "port closed");
});

/** The reference's `[FTL]` text for `args` with a port taken, or undefined without nats-server. */
async function referenceFatal(config: string, args: string[]): Promise<string | undefined> {
  if (!haveNatsServer()) return undefined;
  const dir = await Deno.makeTempDir({ prefix: "natsref" });
  try {
    await Deno.writeTextFile(`${dir}/nats.conf`, config);
    const r = await new Deno.Command("nats-server", {
      args: ["-c", `${dir}/nats.conf`, ...args],
      stdout: "null",
      stderr: "piped",
    }).output();
    return /\[FTL\] (.*)/.exec(new TextDecoder().decode(r.stderr))?.[1];
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("embedding: a port in use names the address with the reference's fatal text", async (t) => {
  using taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const p = (taken.addr as Deno.NetAddr).port;
  const cases: { name: string; config: string; args: string[]; expected: string }[] = [
    {
      name: "client port",
      config: "",
      args: ["-a", "127.0.0.1", "-p", String(p)],
      expected: `Error listening on port: 127.0.0.1:${p}, ` +
        `"listen tcp 127.0.0.1:${p}: bind: address already in use"`,
    },
    {
      name: "websocket",
      config: `websocket { listen: "127.0.0.1:${p}", no_tls: true }`,
      args: ["-a", "127.0.0.1", "-p", "-1"],
      expected: `Unable to listen for websocket connections: listen tcp 127.0.0.1:${p}: ` +
        "bind: address already in use",
    },
    {
      name: "monitor",
      config: `http: "127.0.0.1:${p}"`,
      args: ["-a", "127.0.0.1", "-p", "-1"],
      expected: `Can't start monitoring: can't listen to the monitor port: listen tcp ` +
        `127.0.0.1:${p}: bind: address already in use`,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const theirs = await referenceFatal(c.config, c.args);
      if (theirs !== undefined) assertEquals(theirs, c.expected, "nats-server's [FTL] line");
      const port = c.name === "client port" ? p : -1;
      let message = "";
      try {
        await startServer({ host: "127.0.0.1", port, config: c.config });
      } catch (err) {
        message = (err as Error).message;
      }
      assertEquals(message, c.expected);
    });
  }
  // The failed starts released what they had opened: the same server starts fine now.
  await using ok = await startServer({
    host: "127.0.0.1",
    port: -1,
    config: cases[2].config.replace(String(p), "-1"),
  });
  assert(ok.monitorUrl !== undefined && ok.url.startsWith("nats://127.0.0.1:"));
});
