/**
 * The own-codec engine over `wss://`: TLS through node:tls, client-certificate verification
 * (accept/reject table), `peer.tls` for verify_and_map, plain HTTP on the TLS port, and a
 * handshake_timeout that runs from TCP accept through TLS and the HTTP upgrade. Each table is
 * also run against nats-server 2.9.10 when it is on PATH.
 */
import tls from "node:tls";
import { mapCertificateToUser } from "../../lib/auth/tls_map.ts";
import type { WsTlsConfig } from "../../lib/transport/ws/engine.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { type CertPair, haveOpenssl, pemToDer, type TestPki, testPki } from "../helpers/certs.ts";
import { haveNatsServer, type ReferenceServer, startReference } from "../helpers/reference.ts";
import {
  assertCutAtTimeout,
  assertOutlivesTimeout,
  eofAfter,
  HT_MS,
  startOurs,
  upgradeHead,
  WsTestClient,
} from "./_ws_codec_harness.ts";

/** node:tls sockets and the engine's node:net listener are not tracked by the sanitizers well. */
const opts = { sanitizeOps: false, sanitizeResources: false };

import { startOurs as startOursFromConfig } from "../helpers/server.ts";

function tlsConfig(pki: TestPki, verify: boolean): WsTlsConfig {
  return { certPem: pki.server.certPem, keyPem: pki.server.keyPem, caPem: pki.ca.certPem, verify };
}

function refConfig(pki: TestPki, tlsExtra: string, wsExtra = ""): string {
  return `websocket {
  listen: "127.0.0.1:-1"
  ${wsExtra}
  tls {
    cert_file: ${JSON.stringify(pki.server.certFile)}
    key_file: ${JSON.stringify(pki.server.keyFile)}
    ca_file: ${JSON.stringify(pki.ca.certFile)}
    ${tlsExtra}
  }
}`;
}

async function withReference<T>(config: string, fn: (ref: ReferenceServer) => Promise<T>) {
  if (!haveNatsServer()) return;
  const ref = await startReference(config);
  try {
    await fn(ref);
  } finally {
    await ref.stop();
  }
}

/**
 * Opens TLS with node:tls (it presents any client cert, v1 included), sends an upgrade and
 * returns the status line, or `rejected: …` when TLS fails or the server closes first.
 */
function tlsUpgrade(port: number, pki: TestPki, cert?: CertPair): Promise<string> {
  return new Promise<string>((resolve) => {
    const s = tls.connect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: [pki.ca.certPem],
      cert: cert?.certPem,
      key: cert?.keyPem,
    });
    let got = "";
    const done = (r: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => done(`timeout: ${got}`), 5000);
    s.on("secureConnect", () => s.write(upgradeHead({ Host: "localhost" })));
    s.on("data", (d: Uint8Array) => {
      got += new TextDecoder().decode(d);
      if (got.includes("\r\n")) done(got.slice(0, got.indexOf("\r\n")));
    });
    s.on("error", (e: Error) => done(`rejected: ${e.message}`));
    s.on("close", () => done(`rejected: closed`));
  });
}

Deno.test({
  name: "wss codec: TLS upgrade with compression and peer.tls",
  ...opts,
  fn: async () => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    const ours = await startOurs({ tls: tlsConfig(pki, false) });
    const c = await WsTestClient.open({ port: ours.port, tls: { caPem: pki.ca.certPem } });
    try {
      await c.upgrade({ "Sec-WebSocket-Extensions": "permessage-deflate" });
      const info = await c.info();
      assertEquals(info.max_payload, 1048576);
      assertEquals(c.frames[0].b0, 0xc2, "INFO compressed over TLS");
      await c.send("PING\r\n");
      await c.expectText("PONG\r\n");
      const peer = ours.transports[0].peer;
      assertEquals(peer.kind, "WEBSOCKET");
      assertEquals(peer.tls?.version, "TLSv1.3");
      assert((peer.tls?.cipher ?? "").length > 0, "cipher");
      assertEquals(peer.tls?.chainDer, [], "no client certificate requested");
      assertEquals(peer.tls?.verified, false);
    } finally {
      c.shut();
      await ours.stop();
    }
  },
});

Deno.test({
  name: "wss codec: plain HTTP on the TLS port gets Go's 400, ours and nats-server",
  ...opts,
  fn: async (t) => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    const want =
      "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";
    const check = async (port: number) => {
      const c = await WsTestClient.open({ port });
      try {
        await c.write(upgradeHead());
        assert(await c.waitEof(3000), "closed");
        assertEquals(new TextDecoder().decode(c.r.bytes), want);
      } finally {
        c.shut();
      }
    };
    const ours = await startOurs({ tls: tlsConfig(pki, false) });
    try {
      await t.step("ours", () => check(ours.port));
    } finally {
      await ours.stop();
    }
    await withReference(
      refConfig(pki, ""),
      (ref) => t.step("nats-server", () => check(ref.wsPort!)),
    );
  },
});

/** [row, certificate, ours accepts, nats-server accepts]. */
const CERT_TABLE: [string, keyof TestPki | null, boolean, boolean][] = [
  ["good v3 client cert", "client", true, true],
  ["no client cert", null, false, false],
  ["signed by another CA", "rogue", false, false],
  ["expired", "expired", false, false],
  ["EKU serverAuth only", "serverAuthOnly", false, false],
  // rustls rejects X.509 v1 end-entity certificates; Go's crypto/x509 accepts them.
  ["X.509 v1 cert", "v1", false, true],
];

Deno.test({
  name: "wss codec: client certificate table with verify, ours and nats-server",
  ...opts,
  fn: async (t) => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    const ours = await startOurs({ tls: tlsConfig(pki, true) });
    const run = async (port: number, isRef: boolean) => {
      for (const [row, cert, oursOk, refOk] of CERT_TABLE) {
        const pair = cert ? pki[cert] as CertPair : undefined;
        const status = await tlsUpgrade(port, pki, pair);
        const ok = isRef ? refOk : oursOk;
        if (ok) assertEquals(status, "HTTP/1.1 101 Switching Protocols", row);
        else assert(status.startsWith("rejected"), `${row}: ${status}`);
      }
    };
    try {
      await t.step("ours", () => run(ours.port, false));
      await t.step("peer.tls of the accepted client", () => {
        assertEquals(ours.transports.length, 1);
        const peerTls = ours.transports[0].peer.tls!;
        assertEquals(peerTls.verified, true);
        assertEquals(peerTls.chainDer[0], pemToDer(pki.client.certPem));
        assertEquals(peerTls.chainDer.at(-1), pemToDer(pki.ca.certPem), "chain up to the CA");
        assertEquals(
          mapCertificateToUser(peerTls.chainDer[0], ["CN=alice,OU=NATS.io,O=Synadia,C=US"]),
          { user: "CN=alice,OU=NATS.io,O=Synadia,C=US", via: "dn" },
        );
      });
      await t.step("rejections are logged as TLS handshake errors", () => {
        const tlsErrors = ours.logs.filter((l) =>
          /^ERR websocket: http: TLS handshake error from 127\.0\.0\.1:\d+: /.test(l)
        );
        assertEquals(tlsErrors.length, 5, ours.logs.join("\n"));
        assert(tlsErrors.some((l) => l.endsWith(": peer sent no certificates")));
      });
    } finally {
      await ours.stop();
    }
    await withReference(
      refConfig(pki, "verify: true"),
      (ref) => t.step("nats-server", () => run(ref.wsPort!, true)),
    );
  },
});

// ---------------------------------------------------------------------------------------------
// handshake_timeout through TLS

Deno.test({
  name: "wss codec: handshake_timeout from TCP accept through TLS and HTTP, ours and nats-server",
  ...opts,
  fn: async (t) => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    const run = async (port: number) => {
      assertCutAtTimeout(await eofAfter({ port }, () => Promise.resolve()), "silent TCP");
      // A TLS record header announcing a ClientHello that never comes.
      const partialTls = await eofAfter(
        { port },
        (c) => c.write(new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])),
      );
      assertCutAtTimeout(partialTls, "silent TLS");
      // TLS completes, then a partial request head: cut at the deadline from TCP accept.
      const tlsDial = { port, tls: { caPem: pki.ca.certPem } };
      const partial = await eofAfter(
        tlsDial,
        (c) => c.write("GET / HTTP/1.1\r\nHost: localhost\r\n"),
      );
      assertCutAtTimeout(partial, "partial head after TLS");
      await assertOutlivesTimeout(tlsDial, { Host: "localhost" });
    };
    const ours = await startOurs({ tls: tlsConfig(pki, false), handshakeTimeoutMs: HT_MS });
    try {
      await t.step("ours", () => run(ours.port));
      await t.step("TLS timeouts are logged like the reference", () => {
        const lines = ours.logs.filter((l) =>
          l.startsWith("ERR websocket: ") && l.includes("timeout")
        );
        assertEquals(lines.length, 2, ours.logs.join("\n"));
      });
    } finally {
      await ours.stop();
    }
    await withReference(
      refConfig(pki, "", `handshake_timeout: "${HT_MS}ms"`),
      (ref) =>
        t.step("nats-server", async () => {
          await run(ref.wsPort!);
          assert(/websocket: .*TLS handshake error.*timeout/.test(ref.stderr()), ref.stderr());
        }),
    );
  },
});

// ---------------------------------------------------------------------------------------------
// verify_and_map: the names our pure mapping derives are the ones nats-server accepts

/** [certificate, user name, maps]. */
const MAP_TABLE: [keyof TestPki, string, boolean][] = [
  ["client", "alice@example.com", true],
  ["client", "alice.example.com", true],
  ["client", "nats://alice", true],
  ["client", "CN=alice,OU=NATS.io,O=Synadia,C=US", true],
  ["client", "C=US,O=Synadia,OU=NATS.io,CN=alice", true],
  ["client", "cn=alice, ou=NATS.io, o=Synadia, c=US", true],
  ["client", "CN=alice", false],
  ["clientDn", "CN=example.com,OU=NATS.io", true],
  ["clientDn", "CN=example.com", false],
  ["clientDc", "CN=bob,DC=nats,DC=org", true],
  ["clientDc", "CN=bob", true],
  ["clientEmail", "CN=carol,O=Acme\\, Inc.", true],
  ["clientEmail", "CN=carol", false],
];

/** CONNECT over wss with `cert`: "PONG" when authorized, else the -ERR line. */
async function connectAs(port: number, pki: TestPki, cert: CertPair): Promise<string> {
  const c = await WsTestClient.open({
    port,
    tls: { caPem: pki.ca.certPem, certPem: cert.certPem, keyPem: cert.keyPem },
  });
  try {
    await c.upgrade({ Host: "localhost" });
    await c.info();
    await c.send('CONNECT {"verbose":false}\r\nPING\r\n');
    await c.until((x) => x.text.includes("PONG") || x.text.includes("-ERR"), 5000);
    return c.text.includes("PONG") ? "PONG" : c.text.trim();
  } finally {
    c.shut();
  }
}

Deno.test({
  name: "wss codec: verify_and_map names match nats-server's",
  ...opts,
  fn: async (t) => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    for (const [cert, user, maps] of MAP_TABLE) {
      await t.step(`${cert} as ${JSON.stringify(user)}`, async () => {
        const pair = pki[cert] as CertPair;
        assertEquals(mapCertificateToUser(pemToDer(pair.certPem), [user]) !== null, maps, "ours");
        const config = `authorization { users = [ { user: ${JSON.stringify(user)} } ] }\n` +
          refConfig(pki, "verify_and_map: true");
        const ours = await startOursFromConfig(config);
        try {
          const r = await connectAs(ours.wsPort!, pki, pair);
          assertEquals(r, maps ? "PONG" : "-ERR 'Authorization Violation'", "ours, end to end");
        } finally {
          await ours.stop();
        }
        await withReference(
          config,
          async (ref) => {
            const r = await connectAs(ref.wsPort!, pki, pair);
            assertEquals(r, maps ? "PONG" : "-ERR 'Authorization Violation'", "nats-server");
          },
        );
      });
    }
  },
});

Deno.test({
  name: "wss codec: a verify_and_map user gets its permissions, ours and nats-server",
  ...opts,
  fn: async () => {
    if (!haveOpenssl()) return;
    const pki = await testPki();
    const config = `authorization { users = [ {
        user: "CN=example.com,OU=NATS.io"
        permissions: { publish: { deny: ["secret.>"] }, subscribe: { allow: ["public.>"] } }
      } ] }\n` + refConfig(pki, "verify_and_map: true");
    const run = async (port: number) => {
      const c = await WsTestClient.open({
        port,
        tls: { caPem: pki.ca.certPem, certPem: pki.clientDn.certPem, keyPem: pki.clientDn.keyPem },
      });
      try {
        await c.upgrade({ Host: "localhost" });
        await c.info();
        await c.send(
          'CONNECT {"verbose":false}\r\nSUB public.a 1\r\nSUB private.a 2\r\n' +
            "PUB secret.x 1\r\nx\r\nPUB public.a 2\r\nok\r\nPING\r\n",
        );
        await c.until((x) => x.text.includes("PONG"), 5000);
        return c.text;
      } finally {
        c.shut();
      }
    };
    const want = `-ERR 'Permissions Violation for Subscription to "private.a"'\r\n` +
      `-ERR 'Permissions Violation for Publish to "secret.x"'\r\n` +
      "MSG public.a 1 2\r\nok\r\nPONG\r\n";
    const ours = await startOursFromConfig(config);
    try {
      assertEquals(await run(ours.wsPort!), want, "ours");
    } finally {
      await ours.stop();
    }
    await withReference(config, async (ref) => assertEquals(await run(ref.wsPort!), want));
  },
});
