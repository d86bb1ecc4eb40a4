/**
 * A real browser over WebSocket: headless Chromium (Debian's `chromium`) loads a page served by
 * this test; the page runs @nats-io/nats-core `wsconnect` and exchanges messages with an npm:nats
 * TCP client on the other side. The driver (bundling, page server, DevTools protocol) is
 * tests/helpers/chromium.ts; the page is tests/fixtures/browser/client_entry.ts.
 *
 * 1. Default config (native engine): messages, headers and a request both ways.
 * 2. `compression: true` (so the codec engine serves): the browser negotiates permessage-deflate
 *    (`ws.extensions`), a 10 KB message goes TCP→browser and another browser→TCP, both intact.
 *    The page connects through a relay in this test that walks the WebSocket frames both ways,
 *    which proves on the wire that the server sent compressed frames (RSV1) and that it inflated
 *    the browser's compressed frames.
 *
 * Skips (with a printed reason) when chromium is not installed.
 */
import { connect, headers as natsHeaders } from "nats";
import { assert, assertEquals } from "../helpers/assert.ts";
import { chromiumOrSkip, runChromiumPage } from "../helpers/chromium.ts";
import { startOurs } from "../helpers/server.ts";
import type { Logger } from "../../mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const skipWithoutChromium = chromiumOrSkip;

Deno.test({
  name: "browser: headless chromium (nats-core wsconnect) ↔ npm:nats TCP client",
  async fn() {
    const chromium = skipWithoutChromium();
    if (!chromium) return;
    const s = await startOurs(`websocket { listen: "127.0.0.1:-1", no_tls: true }`);
    const tcp = await connect({ servers: `127.0.0.1:${s.port}` });
    try {
      // The TCP side: when the page says it is subscribed, send it a big message with a header;
      // collect what it publishes; answer its request.
      const big = "B".repeat(10_000);
      tcp.subscribe("browser.ready", {
        callback: () => {
          const h = natsHeaders();
          h.set("X-From", "tcp");
          tcp.publish("browser.in", enc.encode(big), { headers: h });
        },
      });
      const fromBrowser: string[] = [];
      tcp.subscribe("browser.out", {
        callback: (_e, m) => {
          fromBrowser.push(`${dec.decode(m.data)}|${m.headers?.get("X-From")}`);
        },
      });
      tcp.subscribe("svc.tcp", {
        callback: (_e, m) => {
          m.respond(enc.encode(`pong:${dec.decode(m.data)}`));
        },
      });
      await tcp.flush();

      const report = await runChromiumPage(chromium, { ws: String(s.wsPort), case: "basic" });
      assertEquals(report.error, undefined);
      assertEquals(report.ok, true);
      assert(String(report.userAgent).startsWith("Mozilla/"), String(report.userAgent));
      assertEquals(report.received, {
        subject: "browser.in",
        length: big.length,
        header: "tcp",
        head: "BBBBBBBBBB",
      });
      assertEquals(report.reply, "pong:ping");
      // The page flushed before reporting, so its publish is already at the server.
      await tcp.flush();
      assertEquals(fromBrowser, ["hello from chromium|chromium"]);
    } finally {
      await tcp.close();
      await s.stop();
    }
  },
});

// ---------------------------------------------------------------------------------------------
// A relay that counts WebSocket frames on the wire

/** Counts the frames of one direction of a WebSocket connection (after the HTTP head). */
class FrameTap {
  /** The HTTP request or response head (latin-1). */
  head = "";
  frames = 0;
  rsv1Frames = 0;
  /** Payload bytes of data and control frames, as on the wire (compressed when RSV1). */
  payloadBytes = 0;
  #headDone = false;
  readonly #hdr = new Uint8Array(14);
  #hn = 0;
  #skip = 0;

  feed(chunk: Uint8Array): void {
    let i = 0;
    // Bounded by the chunk: every pass consumes at least one byte.
    while (!this.#headDone && i < chunk.length) {
      this.head += String.fromCharCode(chunk[i++]);
      this.#headDone = this.head.endsWith("\r\n\r\n");
    }
    while (i < chunk.length) {
      if (this.#skip > 0) {
        const n = Math.min(this.#skip, chunk.length - i);
        this.#skip -= n;
        i += n;
        continue;
      }
      const h = this.#hdr;
      h[this.#hn++] = chunk[i++];
      if (this.#hn < 2) continue;
      const code = h[1] & 0x7f;
      const need = 2 + (code === 126 ? 2 : code === 127 ? 8 : 0) + ((h[1] & 0x80) ? 4 : 0);
      if (this.#hn < need) continue;
      let len = code;
      if (code === 126) len = (h[2] << 8) | h[3];
      if (code === 127) {
        len = 0;
        for (let k = 2; k < 10; k++) len = len * 256 + h[k];
      }
      this.frames++;
      if (h[0] & 0x40) this.rsv1Frames++;
      this.payloadBytes += len;
      this.#skip = len;
      this.#hn = 0;
    }
  }
}

/** One relayed connection: browser→server and server→browser taps. */
interface Tapped {
  up: FrameTap;
  down: FrameTap;
}

/** A loopback TCP relay to `port` that taps every connection through it. */
function startTapRelay(port: number): {
  port: number;
  conns: Tapped[];
  close(): Promise<void>;
} {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const conns: Tapped[] = [];
  const sockets = new Set<Deno.Conn>();
  const pumps: Promise<void>[] = [];
  const pump = async (from: Deno.Conn, to: Deno.Conn, tap: FrameTap) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      // Ends when either side closes.
      while (true) {
        const n = await from.read(buf);
        if (n === null) break;
        tap.feed(buf.subarray(0, n));
        for (let off = 0; off < n;) off += await to.write(buf.subarray(off, n));
      }
    } catch { /* closed */ }
    for (const c of [from, to]) {
      try {
        c.close();
      } catch { /* closed */ }
    }
  };
  const accepting = (async () => {
    try {
      for await (const client of listener) {
        sockets.add(client);
        try {
          const server = await Deno.connect({ hostname: "127.0.0.1", port });
          sockets.add(server);
          const t: Tapped = { up: new FrameTap(), down: new FrameTap() };
          conns.push(t);
          pumps.push(pump(client, server, t.up), pump(server, client, t.down));
        } catch {
          client.close();
        }
      }
    } catch { /* listener closed */ }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    conns,
    async close() {
      listener.close();
      for (const c of sockets) {
        try {
          c.close();
        } catch { /* closed */ }
      }
      await accepting;
      await Promise.all(pumps);
    },
  };
}

/**
 * `n` characters of JSON-ish records with random ids: compressible (about 45 % at deflate level 1)
 * but not trivially, so a corrupted inflate or a dropped fragment shows. The page makes its own
 * the same way.
 */
function jsonRecords(n: number): string {
  const ids = crypto.getRandomValues(new Uint32Array(Math.ceil(n / 20)));
  let s = "";
  for (let i = 0; s.length < n; i++) s += `{"seq":${i},"id":"${ids[i].toString(16)}"},`;
  return s.slice(0, n);
}

/** Collects log lines (the server says which WebSocket engine it chose). */
function captureLogger(lines: string[]): Logger {
  const push = (m: string) => void lines.push(m);
  return {
    info: push,
    warn: push,
    error: push,
    debug: push,
    trace: push,
    debugEnabled: false,
    traceEnabled: false,
  };
}

Deno.test({
  name: "browser: chromium ↔ TCP with compression: true (codec engine, permessage-deflate)",
  async fn() {
    const chromium = skipWithoutChromium();
    if (!chromium) return;
    const logLines: string[] = [];
    const s = await startOurs(
      `websocket { listen: "127.0.0.1:-1", no_tls: true, compression: true }`,
      { log: captureLogger(logLines) },
    );
    const relay = startTapRelay(s.wsPort!);
    const tcp = await connect({ servers: `127.0.0.1:${s.port}` });
    try {
      assert(
        logLines.some((l) => l.startsWith("Websocket engine: codec")),
        `codec engine not chosen:\n${logLines.join("\n")}`,
      );
      const toBrowser = jsonRecords(10_000);
      tcp.subscribe("browser.z.ready", {
        callback: () => tcp.publish("browser.z.in", enc.encode(toBrowser)),
      });
      const fromBrowser: string[] = [];
      tcp.subscribe("browser.z.out", {
        callback: (_e, m) => fromBrowser.push(dec.decode(m.data)),
      });
      await tcp.flush();

      const report = await runChromiumPage(chromium, {
        ws: String(relay.port),
        case: "compression",
      });
      assertEquals(report.error, undefined);
      assertEquals(report.ok, true);
      // Negotiated, as the browser sees it, on the plain WebSocket (after INFO arrived).
      assertEquals(report.firstMessage, "INFO ");
      assert(
        String(report.extensions).includes("permessage-deflate"),
        `ws.extensions: ${report.extensions}`,
      );
      // TCP → browser, 10 KB intact.
      assertEquals(String(report.receivedText).length, 10_000);
      assert(report.receivedText === toBrowser, "TCP→browser message differs");
      // Browser → TCP, 10 KB intact (the page flushed before reporting).
      await tcp.flush();
      assertEquals(fromBrowser.length, 1);
      assertEquals(fromBrowser[0].length, 10_000);
      assert(fromBrowser[0] === report.sentText, "browser→TCP message differs");

      // On the wire: the probe socket and wsconnect's both went through the relay.
      assertEquals(relay.conns.length, 2);
      for (const c of relay.conns) {
        assert(/^sec-websocket-extensions:.*permessage-deflate/im.test(c.up.head), c.up.head);
        assert(/^sec-websocket-extensions:.*permessage-deflate/im.test(c.down.head), c.down.head);
      }
      const nats = relay.conns[1];
      // The server compressed (RSV1) what it sent; the 10 KB MSG went out smaller than 10 KB.
      assert(nats.down.rsv1Frames > 0, `server frames: ${nats.down.frames}, none with RSV1`);
      assert(
        nats.down.payloadBytes < 10_000,
        `server sent ${nats.down.payloadBytes} payload bytes for a 10 KB message`,
      );
      // Chromium compressed what it sent, and the server inflated it (the TCP side got it).
      assert(nats.up.rsv1Frames > 0, `browser frames: ${nats.up.frames}, none with RSV1`);
      assert(
        nats.up.payloadBytes < 10_000,
        `browser sent ${nats.up.payloadBytes} payload bytes for a 10 KB message`,
      );
    } finally {
      await tcp.close();
      await relay.close();
      await s.stop();
    }
  },
});
