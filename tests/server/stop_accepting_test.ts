/**
 * Listeners that stop accepting (what lame-duck mode starts with): after `stopAccepting()`
 * new connects are refused on the client port (plain and TLS) and both WebSocket engines, while
 * connections already open keep working and monitoring keeps answering.
 */
import { connect } from "nats";
import { assert, assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { WsConn } from "../helpers/conn.ts";
import { optionsFromText } from "../../lib/config/mod.ts";
import { NatsServer } from "../../lib/server/server.ts";
import { silentLogger } from "../../lib/server/log.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const TLS_DIR = new URL("../fixtures/config/tls/", import.meta.url).pathname;

async function startWith(config: string): Promise<NatsServer> {
  const loaded = optionsFromText(config, { file: "<test>" });
  assertEquals(loaded.errors.map(String), []);
  const server = new NatsServer(
    { ...structuredClone(loaded.options), host: "127.0.0.1", port: -1 },
    silentLogger,
  );
  await server.start();
  return server;
}

/**
 * Whether a new TCP connect is turned away: refused, or (right after the close, while the
 * kernel still completes a handshake) reset or ended before any byte.
 */
async function refused(port: number): Promise<boolean> {
  let c: RawClient;
  try {
    c = await RawClient.connect(port);
  } catch (err) {
    return err instanceof Deno.errors.ConnectionRefused ||
      err instanceof Deno.errors.ConnectionReset;
  }
  try {
    await c.readUntil((t) => t.length > 0, 2000);
    return c.closed && c.text === "";
  } finally {
    c.close();
  }
}

/** PING → PONG on an open raw connection (TCP or WebSocket). */
async function pingPong(c: RawClient | WsConn): Promise<boolean> {
  c.text = "";
  await c.send("PING\r\n");
  return (await c.readUntil((t) => t.includes("PONG"), 3000)).includes("PONG");
}

Deno.test(
  "stopAccepting: TCP client port refuses new connects, open clients keep working",
  opts,
  async () => {
    const server = await startWith("http: 127.0.0.1:-1");
    try {
      const old = await RawClient.connect(server.ports.client);
      await old.info();
      await old.send('CONNECT {"verbose":false}\r\nSUB a 1\r\n');
      assert(await pingPong(old));
      server.stopAccepting();
      assert(!server.accepting);
      assert(await refused(server.ports.client), "new TCP connect refused");
      await old.send("PUB a 2\r\nhi\r\n");
      assert(await pingPong(old), "old client still answers");
      assert(old.text.includes("MSG a 1 2\r\nhi"), `delivery still works: ${old.text}`);
      const res = await fetch(`http://127.0.0.1:${server.ports.monitor}/varz`);
      assertEquals(res.status, 200, "monitoring stays");
      assertEquals((await res.json()).connections, 1);
      old.close();
    } finally {
      await server.shutdown();
    }
  },
);

Deno.test(
  "stopAccepting: TLS client port (node:tls) refuses new connects, a TLS client stays",
  opts,
  async () => {
    const server = await startWith(`tls {
    cert_file: "${TLS_DIR}server-cert.pem"
    key_file: "${TLS_DIR}server-key.pem"
  }`);
    const ca = await Deno.readTextFile(`${TLS_DIR}ca.pem`);
    try {
      const nc = await connect({ servers: `127.0.0.1:${server.ports.client}`, tls: { ca } });
      server.stopAccepting();
      assert(await refused(server.ports.client), "new connect refused on the TLS port");
      const sub = nc.subscribe("x", { max: 1 });
      nc.publish("x", "still");
      for await (const m of sub) assertEquals(m.string(), "still");
      await nc.close();
    } finally {
      await server.shutdown();
    }
  },
);

for (const engine of ["native", "codec"] as const) {
  Deno.test(
    `stopAccepting: websocket (${engine}) refuses new clients, open ones keep working`,
    opts,
    async () => {
      const server = await startWith(
        `websocket { listen: "127.0.0.1:-1", no_tls: true, engine: ${engine} }`,
      );
      const wsPort = server.ports.websocket!;
      try {
        const old = await WsConn.connect(wsPort);
        await old.info();
        await old.send('CONNECT {"verbose":false}\r\n');
        assert(await pingPong(old));
        server.stopAccepting();
        if (engine === "codec") assert(await refused(wsPort), "codec: listening socket closed");
        let upgraded = true;
        try {
          const c = await WsConn.connect(wsPort);
          await c.dispose();
        } catch {
          upgraded = false;
        }
        assert(!upgraded, "a new websocket client is not accepted");
        assert(await pingPong(old), "old websocket client still answers");
        assertEquals(server.numClients, 1);
        await old.dispose();
      } finally {
        await server.shutdown();
      }
    },
  );
}
