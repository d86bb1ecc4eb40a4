/**
 * Config reload on SIGHUP, against this server and nats-server 2.9.10 in the same test: the
 * `Reloaded: ...` log lines, refusals that leave the old config in force, and what connected
 * clients see (credentials and permissions re-checked, TLS certificates rotated for new
 * handshakes only).
 */
import tls from "node:tls";
import { X509Certificate } from "node:crypto";
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveOpenssl, testPki } from "../helpers/certs.ts";
import { RawClient } from "../helpers/raw.ts";
import {
  connected,
  nextSeen,
  normaliseLog,
  pingOverTls,
  reloadWith,
  sameOnBoth,
  tlsClient,
} from "./_reload_harness.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

const users = (a: string, b: string, perms = `["foo", "bar"]`) =>
  `authorization { users: [
    { user: a, password: ${a}, permissions: { subscribe: ${perms} } }
    { user: b, password: ${b} }
  ] }`;

Deno.test("reload: a changed password closes that user's client, others stay", opts, async () => {
  const seen = await sameOnBoth(users("pa", "pb"), async (p) => {
    const a = await connected(p.port, '{"verbose":false,"user":"a","pass":"pa"}');
    const b = await connected(p.port, '{"verbose":false,"user":"b","pass":"pb"}');
    const log = await reloadWith(p, users("pa", "changed"));
    const result = { log, a: await nextSeen(a), b: await nextSeen(b) };
    a.close();
    b.close();
    return result;
  });
  assertEquals(seen.b, "-ERR 'Authorization Violation'\r\n<EOF>");
  assertEquals(seen.a, "PONG\r\n");
  assert(seen.log.includes(`ERR <client> - authentication error - User "b"`), seen.log.join("\n"));
  assertEquals(seen.log.at(-1), "INF Reloaded server configuration");
});

Deno.test("reload: a removed permission drops the subscription with -ERR", opts, async () => {
  const seen = await sameOnBoth(users("pa", "pb"), async (p) => {
    const a = await connected(p.port, '{"verbose":false,"user":"a","pass":"pa"}');
    await a.send("SUB foo 1\r\nSUB bar 2\r\n");
    assertEquals(await nextSeen(a), "PONG\r\n");
    const log = await reloadWith(p, users("pa", "pb", `["foo"]`));
    const first = await nextSeen(a);
    await a.send("PUB bar 2\r\nhi\r\nPUB foo 2\r\nok\r\n");
    const after = await nextSeen(a);
    a.close();
    return { log, first, after };
  });
  assertEquals(
    seen.first,
    `-ERR 'Permissions Violation for Subscription to "bar" (sid "2")'\r\nPONG\r\n`,
  );
  assertEquals(seen.after, "MSG foo 1 2\r\nok\r\nPONG\r\n", "bar is no longer delivered");
  assert(seen.log.includes(`INF Removed sub "bar" (sid "2") for User "a" - not authorized`));
});

Deno.test("reload: an added user can connect; log lines as the reference", opts, async () => {
  const base = `authorization { users: [ { user: a, password: pa } ] }`;
  const seen = await sameOnBoth(base, async (p) => {
    const before = await RawClient.connect(p.port);
    await before.info();
    await before.send('CONNECT {"user":"c","pass":"pc"}\r\nPING\r\n');
    const refused = await before.readUntil(() => false).catch(() => before.text);
    before.close();
    const log = await reloadWith(
      p,
      `authorization { users: [ { user: a, password: pa }, { user: c, password: pc } ] }`,
    );
    const c = await connected(p.port, '{"verbose":false,"user":"c","pass":"pc"}');
    const after = await nextSeen(c);
    c.close();
    return { refused, log, after };
  });
  assertEquals(seen.refused, "-ERR 'Authorization Violation'\r\n");
  assertEquals(seen.after, "PONG\r\n");
  assertEquals(seen.log, [
    "INF Reloaded: authorization users",
    "INF Reloaded: accounts",
    "INF Reloaded server configuration",
  ]);
});

Deno.test("reload: log level and limits change; lines in the reference's order", opts, async () => {
  const seen = await sameOnBoth("", async (p) => {
    const log = await reloadWith(
      p,
      `debug: true\nmax_payload: 2000\nping_interval: "30s"\nwrite_deadline: "3s"\nmax_connections: 50`,
    );
    const mark = p.stderr().length;
    const c = await RawClient.connect(p.port);
    const info = await c.info();
    await p.waitForLog((l) => l.slice(mark).includes("Client connection created"), 5000);
    c.close();
    const debugLine = p.stderr().slice(mark).includes("[DBG] 127.0.0.1:");
    return { log, maxPayload: info.max_payload, debugLine };
  });
  assertEquals(seen.log, [
    "INF Reloaded: debug = true",
    "INF Reloaded: max_connections = 50",
    "INF Reloaded: authorization users",
    "INF Reloaded: accounts",
    "INF Reloaded: ping_interval = 30s",
    "INF Reloaded: max_payload = 2000",
    "INF Reloaded: write_deadline = 3s",
    "INF Reloaded server configuration",
  ]);
  assertEquals(seen.maxPayload, 2000, "INFO carries the new max_payload");
  assert(seen.debugLine, "debug lines are written after the reload");
});

/** Reloads that must change nothing: the error line, and the old config still in force. */
const REFUSED: { name: string; next: string; error: (line: string) => boolean }[] = [
  {
    name: "a change that cannot be reloaded is refused",
    next: "max_payload: 200\nmax_subscriptions: 10",
    error: (l) =>
      l === "ERR Failed to reload server configuration: config reload not supported for " +
          "MaxSubs: old=0, new=10",
  },
  {
    name: "a broken file is reported",
    next: "max_payload: 200\nfoo {\n",
    error: (l) => l.startsWith("ERR Failed to reload server configuration: "),
  },
];

for (const { name, next, error } of REFUSED) {
  Deno.test(`reload: ${name}; the old config stays`, opts, async () => {
    const seen = await sameOnBoth("max_payload: 100", async (p) => {
      const c = await connected(p.port, `{"verbose":false}`);
      const log = await reloadWith(p, next);
      const fresh = await RawClient.connect(p.port);
      const info = await fresh.info();
      fresh.close();
      const still = await nextSeen(c);
      c.close();
      return { failed: log.length === 1 && error(log[0]), maxPayload: info.max_payload, still };
    });
    assertEquals(seen, { failed: true, maxPayload: 100, still: "PONG\r\n" });
  });
}

/**
 * A certificate pair at fixed paths that a test rotates: the test PKI's server certificate first,
 * the fixture one after `rotate()`; `restore()` puts the first back (for the next server).
 */
async function rotatingCert() {
  const pki = await testPki();
  const fixtures = new URL("../fixtures/config/tls/", import.meta.url).pathname;
  const dir = await Deno.makeTempDir({ prefix: "natsrot" });
  const cert = `${dir}/cert.pem`;
  const key = `${dir}/key.pem`;
  const restore = async () => {
    await Deno.writeTextFile(cert, pki.server.certPem);
    await Deno.writeTextFile(key, pki.server.keyPem);
  };
  await restore();
  return {
    cert,
    key,
    first: new X509Certificate(pki.server.certPem).fingerprint256,
    second: new X509Certificate(await Deno.readTextFile(`${fixtures}server-cert.pem`))
      .fingerprint256,
    restore,
    rotate: async () => {
      await Deno.copyFile(`${fixtures}server-cert.pem`, cert);
      await Deno.copyFile(`${fixtures}server-key.pem`, key);
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

Deno.test(
  "reload: a rotated TLS certificate serves new handshakes, old connections stay",
  opts,
  async () => {
    if (!haveOpenssl()) return console.log("openssl missing: TLS rotation test skipped");
    const rot = await rotatingCert();
    const { first, second } = rot;
    const config = `tls { cert_file: "${rot.cert}", key_file: "${rot.key}" }`;
    const result = await sameOnBoth(config, async (p) => {
      const old = await tlsClient(p.port);
      const oldOk = await pingOverTls(old.socket, true);
      await rot.rotate();
      const log = await reloadWith(p, config);
      const fresh = await tlsClient(p.port);
      const freshOk = await pingOverTls(fresh.socket, true);
      const stillOk = await pingOverTls(old.socket, false);
      old.socket.destroy();
      fresh.socket.destroy();
      await rot.restore(); // the next server starts with the first certificate again
      return {
        log,
        oldCert: old.fingerprint === first,
        newCert: fresh.fingerprint === second,
        oldOk,
        freshOk,
        stillOk,
      };
    });
    await rot.cleanup();
    assertEquals(result.log, [
      "INF Reloaded: authorization users",
      "INF Reloaded: accounts",
      "INF Reloaded: tls = enabled",
      "INF Reloaded server configuration",
    ]);
    assert(result.oldCert && result.newCert, "the new handshake sees the rotated certificate");
    assert(result.oldOk && result.freshOk && result.stillOk, "both connections answer PING");
  },
);

Deno.test("reload: the diff agrees with the key table on what reloads", async () => {
  const { diffFields, tableReloadability } = await import("../../lib/server/reload_diff.ts");
  const table = tableReloadability();
  for (const f of diffFields()) {
    const verdict = table.get(f.name);
    assert(verdict !== undefined, `${f.name}: no key of the table sets it`);
    if (verdict === false) assert(!f.reloads, `${f.name}: the table says it does not reload`);
    if (verdict === true) assert(f.reloads, `${f.name}: the table says it reloads`);
  }
});

Deno.test(
  "reload: accounts change; a user moved to another account is closed, others keep their subscriptions",
  opts,
  async () => {
    const accounts = (bIn: string) =>
      `accounts {
      A { users: [ { user: a, password: pa } ] }
      B { users: [ ${bIn === "B" ? "{ user: b, password: pb }" : ""} ] }
      C { users: [ ${bIn === "C" ? "{ user: b, password: pb }" : ""} ] }
    }`;
    const seen = await sameOnBoth(accounts("B"), async (p) => {
      const a = await connected(p.port, '{"verbose":false,"user":"a","pass":"pa"}');
      await a.send("SUB x 1\r\n");
      assertEquals(await nextSeen(a), "PONG\r\n");
      const b = await connected(p.port, '{"verbose":false,"user":"b","pass":"pb"}');
      const log = await reloadWith(p, accounts("C"));
      const bSaw = await nextSeen(b);
      await a.send("PUB x 2\r\nhi\r\n");
      const aSaw = await nextSeen(a);
      a.close();
      b.close();
      return { log, aSaw, bSaw };
    });
    assertEquals(seen.bSaw, "<EOF>");
    assertEquals(seen.aSaw, "MSG x 1 2\r\nhi\r\nPONG\r\n");
    assertEquals(seen.log.at(-1), "INF Reloaded server configuration");
  },
);

Deno.test("reload: a lower max_connections closes the clients beyond it", opts, async () => {
  const seen = await sameOnBoth("", async (p) => {
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await connected(p.port, `{"verbose":false}`));
    const log = await reloadWith(p, "max_connections: 1");
    const saw = [];
    for (const c of clients) {
      saw.push(await nextSeen(c));
      c.close();
    }
    return { log, closed: saw.filter((t) => t.includes("maximum connections exceeded")).length };
  });
  assertEquals(seen.closed, 2);
  assert(seen.log.includes("INF Closed 2 connections to fall within max_connections"));
  assert(seen.log.includes("INF Reloaded: max_connections = 1"));
});

Deno.test("reload: turning trace on traces the clients already connected", opts, async () => {
  const seen = await sameOnBoth("", async (p) => {
    const c = await connected(p.port, `{"verbose":false}`);
    const log = await reloadWith(p, "trace: true");
    const mark = p.stderr().length;
    await nextSeen(c);
    await p.waitForLog((l) => l.slice(mark).includes("->> [PONG]"), 5000);
    c.close();
    return { log, traced: normaliseLog(p.stderr().slice(mark)).filter((l) => l.startsWith("TRC")) };
  });
  assertEquals(seen.log[0], "INF Reloaded: trace = true");
  assertEquals(seen.traced, ["TRC <client> - <<- [PING]", "TRC <client> - ->> [PONG]"]);
});

/** The SHA-256 fingerprint of the certificate a TLS listener presents now. */
async function presentedCert(port: number): Promise<string> {
  const s = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false });
  await new Promise<void>((resolve, reject) => {
    s.once("secureConnect", () => resolve());
    s.once("error", reject);
  });
  const fp = new X509Certificate(s.getPeerCertificate(false).raw).fingerprint256;
  s.destroy();
  return fp;
}

Deno.test(
  "reload: rotated WebSocket certificates serve new handshakes (codec engine)",
  opts,
  async () => {
    if (!haveOpenssl()) return console.log("openssl missing: WebSocket TLS rotation test skipped");
    const rot = await rotatingCert();
    const { cert, key, first, second } = rot;
    // compression makes the auto engine choice the codec engine (the reference knows the key).
    const config = `websocket {
    listen: "127.0.0.1:-1"
    compression: true
    tls { cert_file: "${cert}", key_file: "${key}" }
  }`;
    const seen = await sameOnBoth(config, async (p) => {
      const before = await presentedCert(p.wsPort!);
      await rot.rotate();
      const log = await reloadWith(p, config);
      const after = await presentedCert(p.wsPort!);
      await rot.restore();
      return { log, before: before === first, after: after === second };
    });
    await rot.cleanup();
    assertEquals(seen, {
      log: [
        "INF Reloaded: authorization users",
        "INF Reloaded: accounts",
        "INF Reloaded server configuration",
      ],
      before: true,
      after: true,
    });
  },
);

Deno.test(
  "reload: a changed token closes its clients with Authorization Violation",
  opts,
  async () => {
    const seen = await sameOnBoth("authorization { token: t1 }", async (p) => {
      const c = await connected(p.port, '{"verbose":false,"auth_token":"t1"}');
      const log = await reloadWith(p, "authorization { token: t2 }");
      const saw = await nextSeen(c);
      c.close();
      return { log, saw };
    });
    assertEquals(seen.saw, "-ERR 'Authorization Violation'\r\n<EOF>");
    assertEquals(seen.log, [
      "INF Reloaded: authorization users",
      "INF Reloaded: accounts",
      "INF Reloaded: authorization token",
      "ERR <client> - authentication error",
      "INF Reloaded server configuration",
    ]);
  },
);
