/**
 * TLS on the client (TCP) port: INFO in plaintext with `tls_required`, then the client upgrades
 * the same socket. A real client (npm:nats), a raw node:tls upgrade, client-certificate
 * verification, verify_and_map, the handshake timeout and plaintext instead of TLS; each case is
 * also run against nats-server 2.9.10 when it is on PATH.
 */
import net from "node:net";
import tls from "node:tls";
import { connect } from "nats";
import { assert, assertEquals } from "../helpers/assert.ts";
import { type CertPair, haveOpenssl, type TestPki, testPki } from "../helpers/certs.ts";
import { RawClient } from "../helpers/raw.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { spkiSha256 } from "../../lib/transport/tls_server.ts";
import { pemToDer } from "../helpers/certs.ts";

/** node:tls sockets and the node:net listener are not tracked by the sanitizers well. */
const opts = { sanitizeOps: false, sanitizeResources: false };

function tlsBlock(pki: TestPki, extra = ""): string {
  return `tls {
  cert_file: ${JSON.stringify(pki.server.certFile)}
  key_file: ${JSON.stringify(pki.server.keyFile)}
  ca_file: ${JSON.stringify(pki.ca.certFile)}
  ${extra}
}`;
}

interface Target {
  name: string;
  port: number;
  stop(): Promise<void>;
}

/** Runs `fn` against ours, then nats-server when on PATH, with the same config. */
async function both(config: string, fn: (s: Target) => Promise<void>): Promise<void> {
  const ours = await startOurs(config);
  try {
    await fn({ name: "ours", port: ours.port, stop: ours.stop });
  } finally {
    await ours.stop();
  }
  if (!haveNatsServer()) return;
  const ref = await startReference(config);
  try {
    await fn({ name: "nats-server", port: ref.port, stop: ref.stop });
  } finally {
    await ref.stop();
  }
}

/**
 * Reads INFO in plaintext, upgrades with node:tls, sends `send` and returns INFO plus what came
 * back up to PONG or -ERR, or `rejected` when TLS fails or the server closes first.
 */
function rawTls(
  port: number,
  pki: TestPki,
  send: string,
  cert?: CertPair,
): Promise<{ info: Record<string, unknown>; result: string }> {
  return new Promise((resolve) => {
    const raw = net.connect(port, "127.0.0.1");
    let info: Record<string, unknown> = {};
    let plain = "";
    let got = "";
    let ts: tls.TLSSocket | undefined;
    const done = (result: string) => {
      clearTimeout(timer);
      ts?.destroy();
      raw.destroy();
      resolve({ info, result });
    };
    const timer = setTimeout(() => done(`timeout: ${got}`), 5000);
    raw.on("error", () => done("rejected"));
    const onPlain = (d: Uint8Array) => {
      plain += new TextDecoder().decode(d);
      const end = plain.indexOf("\r\n");
      if (end < 0) return;
      raw.off("data", onPlain);
      info = JSON.parse(plain.slice(5, end));
      ts = tls.connect({
        socket: raw,
        ca: [pki.ca.certPem],
        servername: "localhost",
        cert: cert?.certPem,
        key: cert?.keyPem,
      });
      ts.on("secureConnect", () => ts!.write(send));
      ts.on("data", (d: Uint8Array) => {
        got += new TextDecoder().decode(d);
        if (got.includes("PONG\r\n")) done("PONG");
        else if (got.includes("-ERR")) done(got.slice(got.indexOf("-ERR")).trim());
      });
      ts.on("error", () => done("rejected"));
      ts.on("close", () => done("rejected"));
    };
    raw.on("data", onPlain);
  });
}

Deno.test({
  name: "tls port: INFO carries tls_required (and tls_verify), a raw node:tls upgrade PINGs",
  ...opts,
  fn: async () => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    await both(tlsBlock(pki), async (s) => {
      const { info, result } = await rawTls(s.port, pki, "CONNECT {}\r\nPING\r\n");
      assertEquals(info.tls_required, true, s.name);
      assertEquals(info.tls_verify, undefined, s.name);
      assertEquals(result, "PONG", s.name);
    });
    await both(tlsBlock(pki, "verify: true"), async (s) => {
      const { info, result } = await rawTls(s.port, pki, "CONNECT {}\r\nPING\r\n", pki.client);
      assertEquals(info.tls_required, true, s.name);
      assertEquals(info.tls_verify, true, s.name);
      assertEquals(info.auth_required, undefined, s.name);
      assertEquals(result, "PONG", s.name);
    });
  },
});

Deno.test({
  name: "tls port: npm:nats pub/sub over TLS",
  ...opts,
  fn: async () => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    await both(tlsBlock(pki), async (s) => {
      const nc = await connect({
        servers: `127.0.0.1:${s.port}`,
        tls: { caFile: pki.ca.certFile },
        timeout: 5000,
      });
      try {
        const sub = nc.subscribe("tls.>", { max: 1 });
        const got = (async () => {
          for await (const m of sub) return new TextDecoder().decode(m.data);
        })();
        await nc.flush();
        nc.publish("tls.hello", new TextEncoder().encode("over tls"));
        let timer: ReturnType<typeof setTimeout> | undefined;
        const timeout = new Promise<string>((r) => timer = setTimeout(() => r("timeout"), 5000));
        assertEquals(await Promise.race([got, timeout]), "over tls", s.name);
        clearTimeout(timer);
        const rtt = await nc.rtt();
        assert(rtt >= 0, s.name);
      } finally {
        await nc.close();
      }
    });
  },
});

Deno.test({
  name: "tls port: verify accepts a CA-signed client cert, rejects none, rogue and expired",
  ...opts,
  fn: async () => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    const table: [string, CertPair | undefined, string][] = [
      ["good", pki.client, "PONG"],
      ["none", undefined, "rejected"],
      ["rogue", pki.rogue, "rejected"],
      ["expired", pki.expired, "rejected"],
    ];
    await both(tlsBlock(pki, "verify: true"), async (s) => {
      for (const [name, cert, want] of table) {
        const { result } = await rawTls(s.port, pki, "CONNECT {}\r\nPING\r\n", cert);
        assertEquals(result, want, `${s.name} ${name}`);
      }
    });
  },
});

Deno.test({
  name: "tls port: verify_and_map maps the certificate to a user",
  ...opts,
  fn: async () => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    const config = `${tlsBlock(pki, "verify_and_map: true")}
authorization { users: [ { user: "alice@example.com" } ] }`;
    await both(config, async (s) => {
      const ok = await rawTls(s.port, pki, "CONNECT {}\r\nPING\r\n", pki.client);
      assertEquals(ok.info.auth_required, true, s.name);
      assertEquals(ok.info.tls_verify, true, s.name);
      assertEquals(ok.result, "PONG", `${s.name} mapped`);
      const bad = await rawTls(s.port, pki, "CONNECT {}\r\nPING\r\n", pki.clientDn);
      assertEquals(bad.result, "-ERR 'Authorization Violation'", `${s.name} unmapped`);
    });
  },
});

Deno.test({
  name: "tls port: no TLS within tls.timeout, or plaintext instead of TLS, is cut with no bytes",
  ...opts,
  fn: async () => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    await both(tlsBlock(pki, "timeout: 0.5"), async (s) => {
      // Silent after INFO: cut at the timeout.
      let c = await RawClient.connect(s.port);
      try {
        await c.info();
        const t0 = Date.now();
        await c.readUntil(() => false, 4000);
        const ms = Date.now() - t0;
        assertEquals(c.text, "", s.name);
        assert(c.closed, s.name);
        assert(ms >= 350 && ms < 2500, `${s.name} cut after ${ms} ms`);
      } finally {
        c.close();
      }
      // A partial ClientHello: cut at the timeout too.
      c = await RawClient.connect(s.port);
      try {
        await c.info();
        await c.send(new Uint8Array([0x16, 3, 1, 0, 50, 1, 0]));
        const t0 = Date.now();
        await c.readUntil(() => false, 4000);
        const ms = Date.now() - t0;
        assertEquals(c.text, "", s.name);
        assert(ms >= 350 && ms < 2500, `${s.name} partial hello cut after ${ms} ms`);
      } finally {
        c.close();
      }
      // Plaintext CONNECT instead of TLS: closed at once, nothing sent.
      c = await RawClient.connect(s.port);
      try {
        await c.info();
        await c.send("CONNECT {}\r\nPING\r\n");
        const t0 = Date.now();
        await c.readUntil(() => false, 4000);
        assertEquals(c.text, "", s.name);
        assert(Date.now() - t0 < 350, `${s.name} plaintext closed at once`);
      } finally {
        c.close();
      }
    });
  },
});

Deno.test({
  name: "tls port: closed reason and log line of a failed handshake",
  ...opts,
  fn: async () => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    const lines: string[] = [];
    const ours = await startOurs(`${tlsBlock(pki, "timeout: 0.5")}\nhttp: "127.0.0.1:-1"`, {
      log: {
        info: (l: string) => lines.push(l),
        warn: (l: string) => lines.push(l),
        error: (l: string) => lines.push(`[ERR] ${l}`),
        debug: () => {},
        trace: () => {},
        debugEnabled: false,
        traceEnabled: false,
      },
    });
    try {
      const c = await RawClient.connect(ours.port);
      await c.info();
      await c.send("CONNECT {}\r\n");
      await c.readUntil(() => false, 4000);
      c.close();
      assert(lines.includes("TLS required for client connections"), lines.join("\n"));
      assert(
        lines.some((l) =>
          /^\[ERR\] 127\.0\.0\.1:\d+ - cid:\d+ - TLS handshake error: tls: first record does not look like a TLS handshake$/
            .test(l)
        ),
        lines.join("\n"),
      );
      const res = await fetch(`http://127.0.0.1:${ours.monitorPort}/connz?state=closed`);
      const connz = await res.json();
      assertEquals(connz.connections.at(-1).reason, "TLS Handshake Failure");
      const varz = await (await fetch(`http://127.0.0.1:${ours.monitorPort}/varz`)).json();
      assertEquals(varz.tls_required, true);
      assertEquals(varz.tls_timeout, 0.5);
    } finally {
      await ours.stop();
    }
  },
});

Deno.test({
  name: "tls port: pinned_certs accepts the pinned client key only",
  ...opts,
  fn: async () => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    const pin = spkiSha256(pemToDer(pki.client.certPem));
    await both(tlsBlock(pki, `verify: true\n  pinned_certs: ["${pin}"]`), async (s) => {
      const ok = await rawTls(s.port, pki, "CONNECT {}\r\nPING\r\n", pki.client);
      assertEquals(ok.result, "PONG", `${s.name} pinned`);
      const bad = await rawTls(s.port, pki, "CONNECT {}\r\nPING\r\n", pki.clientDn);
      assertEquals(bad.result, "rejected", `${s.name} not pinned`);
    });
  },
});
