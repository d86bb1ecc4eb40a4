/**
 * The native WebSocket engine on its own (no NATS server): real sockets on 127.0.0.1, a raw
 * client that writes hand-made frames and reads the server's frames with their boundaries, and
 * recording hooks in place of the server.
 */
import { closeDescriptor, SERVER_SHUTDOWN_CLOSE } from "../../lib/core/close_reasons.ts";
import type { ByteSink, Transport } from "../../lib/protocol/transport.ts";
import type { WsEngineHooks, WsListenerOptions } from "../../lib/transport/ws/engine.ts";
import { acceptKey, parseTrustedProxies } from "../../lib/transport/ws/mod.ts";
import { OPCODE } from "../../lib/transport/ws/frames.ts";
import {
  type NativeWsTransport,
  startNativeWsListener,
  WS_HIGH_WATER_MARK,
} from "../../lib/transport/ws/native_engine.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { rawHttp, RawWs, upgradeRequest } from "../helpers/ws_raw.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A sink that records what the transport delivered. */
class RecordingSink implements ByteSink {
  text = "";
  closed = false;
  closeErr: unknown = undefined;
  private waiters: (() => void)[] = [];
  receive(bytes: Uint8Array): void {
    this.text += dec.decode(bytes);
    this.wake();
  }
  transportClosed(err?: unknown): void {
    this.closed = true;
    this.closeErr = err;
    this.wake();
  }
  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
  /** Waits (bounded) until `cond()` holds. */
  async until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; sink text=${JSON.stringify(this.text)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.waiters.push(r);
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
  }
}

interface Harness {
  port: number;
  errors: string[];
  /** Transports handed to onClient / onLeafnode, with their sinks, in arrival order. */
  clients: { t: NativeWsTransport; sink: RecordingSink }[];
  leafs: { t: NativeWsTransport; sink: RecordingSink }[];
  nextClient(timeoutMs?: number): Promise<{ t: NativeWsTransport; sink: RecordingSink }>;
  /** Waits (bounded) until a hook call makes `cond()` true. */
  waitFor(cond: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

async function harness(
  opts: Partial<WsListenerOptions> = {},
  withLeaf = false,
): Promise<Harness> {
  const errors: string[] = [];
  const clients: Harness["clients"] = [];
  const leafs: Harness["leafs"] = [];
  let waiters: (() => void)[] = [];
  const notify = () => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  const hooks: WsEngineHooks = {
    onClient(t: Transport) {
      const sink = new RecordingSink();
      clients.push({ t: t as NativeWsTransport, sink });
      notify();
      return sink;
    },
    logError: (m) => errors.push(m),
    logDebug: () => {},
  };
  if (withLeaf) {
    hooks.onLeafnode = (t: Transport) => {
      const sink = new RecordingSink();
      leafs.push({ t: t as NativeWsTransport, sink });
      notify();
      return sink;
    };
  }
  const listener = await startNativeWsListener({
    host: "127.0.0.1",
    port: 0,
    sameOrigin: false,
    allowedOrigins: new Map(),
    compression: false,
    handshakeTimeoutMs: 0,
    trustedProxies: [],
    ...opts,
  }, hooks);
  assertEquals(listener.engine, "native");
  let taken = 0;
  const waitFor = async (cond: () => boolean, timeoutMs = 5000) => {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error("timeout waiting for a connection");
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        waiters.push(r);
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
  };
  return {
    port: listener.port,
    errors,
    clients,
    leafs,
    waitFor,
    async nextClient(timeoutMs = 5000) {
      await waitFor(() => clients.length > taken, timeoutMs);
      return clients[taken++];
    },
    close: () => listener.close(SERVER_SHUTDOWN_CLOSE),
  };
}

async function withHarness(
  fn: (h: Harness) => Promise<void>,
  opts: Partial<WsListenerOptions> = {},
  withLeaf = false,
): Promise<void> {
  const h = await harness(opts, withLeaf);
  try {
    await fn(h);
  } finally {
    await h.close();
  }
}

Deno.test("native: 101 like the reference, peer facts, binary and text frames in as bytes", () =>
  withHarness(async (h) => {
    const key = "x3JJHMbDL1EzLkh9GBhXDw==";
    const { res, ws } = await RawWs.connect({ port: h.port }, {
      path: "/some/path?x=1",
      headers: { "Sec-WebSocket-Key": key, "Nats-No-Masking": "true" },
    });
    assert(ws);
    try {
      assertEquals(res.status, 101);
      assertEquals(res.headers.get("upgrade")?.toLowerCase(), "websocket");
      assertEquals(res.headers.get("connection")?.toLowerCase(), "upgrade");
      assertEquals(res.headers.get("sec-websocket-accept"), acceptKey(key));
      assertEquals(res.headers.get("nats-no-masking"), "true");
      assertEquals(res.headers.get("sec-websocket-protocol"), null);
      assertEquals(res.headers.get("sec-websocket-extensions"), null);
      const { t, sink } = await h.nextClient();
      assertEquals(t.peer.kind, "WEBSOCKET");
      assertEquals(t.peer.hostname, "127.0.0.1");
      assert(t.peer.port > 0);
      assertEquals(t.peer.ws?.browser, false);
      await ws.send("PING\r\n");
      await ws.send("PUB a 1\r\nx\r\n", { opcode: OPCODE.TEXT });
      await sink.until(() => sink.text === "PING\r\nPUB a 1\r\nx\r\n");
      await t.write(enc.encode("PONG\r\n"));
      await ws.waitText("PONG\r\n");
      assertEquals(ws.frames.length, 1);
      assertEquals(ws.frames[0].opcode, OPCODE.BINARY);
      assertEquals(ws.frames[0].fin, true);
      assertEquals(ws.frames[0].masked, false);
    } finally {
      ws.close();
    }
  }));

Deno.test("native: write() copies the bytes (caller may reuse its buffer at once)", () =>
  withHarness(async (h) => {
    const ws = await RawWs.open({ port: h.port });
    try {
      const { t } = await h.nextClient();
      const buf = enc.encode("0123456789");
      await t.write(buf.subarray(2, 6));
      buf.fill(0x5a);
      await t.write(buf.subarray(0, 2));
      await ws.readUntil((w) => w.frames.length === 2);
      assertEquals(ws.frames.map((f) => dec.decode(f.payload)), ["2345", "ZZ"]);
    } finally {
      ws.close();
    }
  }));

Deno.test("native: browsers get frames of at most 4096 bytes, others one frame per write", () =>
  withHarness(async (h) => {
    const payload = new Uint8Array(10_000).map((_, i) => 97 + (i % 26));
    for (const ua of ["Mozilla/5.0 (X11; Linux x86_64)", "nats.deno"]) {
      const ws = await RawWs.open({ port: h.port }, { headers: { "User-Agent": ua } });
      try {
        const { t } = await h.nextClient();
        const browser = ua.startsWith("Mozilla/");
        assertEquals(t.peer.ws?.browser, browser);
        await t.write(payload);
        await ws.readUntil((w) => w.text.length === payload.length);
        const sizes = ws.frames.map((f) => f.payload.length);
        assertEquals(sizes, browser ? [4096, 4096, 1808] : [10_000]);
        assert(ws.frames.every((f) => f.fin && f.opcode === OPCODE.BINARY));
        assertEquals(ws.text, dec.decode(payload));
      } finally {
        ws.close();
      }
    }
  }));

Deno.test("native: write() waits while the peer does not read, resumes when it does", () =>
  withHarness(async (h) => {
    const ws = await RawWs.open({ port: h.port });
    try {
      const { t } = await h.nextClient();
      const chunk = new Uint8Array(1024 * 1024).fill(120);
      // Fill the kernel buffers and the socket's own buffer: some write must stay pending.
      let pending: Promise<void> | null = null;
      let written = 0;
      for (let i = 0; i < 64 && pending === null; i++) {
        const w = t.write(chunk);
        written += chunk.length;
        let timer: ReturnType<typeof setTimeout> | undefined;
        const r = await Promise.race([
          w.then(() => "done"),
          new Promise<string>((res) => timer = setTimeout(() => res("pending"), 200)),
        ]);
        clearTimeout(timer);
        if (r === "pending") pending = w;
      }
      assert(pending, "64 MiB were accepted without the peer reading: no back-pressure");
      // Now read everything: the pending write resolves.
      let received = 0;
      await ws.readUntil((w) => {
        received += w.text.length;
        w.text = "";
        w.frames.length = 0;
        return received >= written;
      }, 20_000);
      assertEquals(received, written);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        pending.then(() => "resolved"),
        new Promise<string>((res) => timer = setTimeout(() => res("still pending"), 5000)),
      ]);
      clearTimeout(timer);
      assertEquals(r, "resolved");
      assert(written > WS_HIGH_WATER_MARK);
    } finally {
      ws.close();
    }
  }));

/** Reason → the close frame the raw client sees (reference codes; see frames.ts). */
const CLOSES: [string, number, string][] = [
  ["Protocol Violation", 1002, "Protocol Violation"],
  ["Parse Error", 1002, "Parse Error"],
  ["Maximum Message Payload Exceeded", 1009, "Maximum Message Payload Exceeded"],
  ["Authentication Failure", 1008, "Authentication Failure"],
  ["Authentication Timeout", 1008, "Authentication Timeout"],
  ["Maximum Connections Exceeded", 1008, "Maximum Connections Exceeded"],
  ["Server Shutdown", 1001, "Server Shutdown"],
  ["Client Closed", 1000, "Client Closed"],
  ["Stale Connection", 1006, "Stale Connection"],
  ["No Responders Requires Headers", 1011, "No Responders Requires Headers"],
  ["x".repeat(200), 1011, "x".repeat(120) + "..."],
  // The reference sends no close frame for these; Deno cannot drop the socket without one, so
  // the native engine sends an empty close (the peer reads 1005, "no status").
  ["Slow Consumer (Pending Bytes)", 1005, ""],
  ["Write Error", 1005, ""],
];

Deno.test("native: close(reason) sends the reference's close status and body", () =>
  withHarness(async (h) => {
    for (const [reason, code, body] of CLOSES) {
      const ws = await RawWs.open({ port: h.port });
      try {
        const { t, sink } = await h.nextClient();
        await t.write(enc.encode("-ERR 'x'\r\n"));
        t.close(closeDescriptor(reason));
        t.close(closeDescriptor(reason)); // idempotent
        const got = await ws.waitClose();
        assertEquals(got, { code, reason: body }, reason);
        assert(ws.text.startsWith("-ERR 'x'\r\n"), "data before the close frame is delivered");
        await t.write(new Uint8Array(1)).then(
          () => assert(false, "write after close must fail"),
          () => {},
        );
        // Answer the close like a client would: the sink learns the socket is gone.
        await ws.sendRaw(new Uint8Array([0x88, 0x80, 1, 2, 3, 4]));
        await sink.until(() => sink.closed);
        assertEquals(sink.closeErr, undefined);
      } finally {
        ws.close();
      }
    }
  }));

Deno.test("native: peer close frame and TCP drop reach the sink", () =>
  withHarness(async (h) => {
    const a = await RawWs.open({ port: h.port });
    const ca = await h.nextClient();
    await a.sendRaw(new Uint8Array([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xe8]));
    await ca.sink.until(() => ca.sink.closed);
    const echo = await a.waitClose();
    assertEquals(echo?.code, 1000);
    a.close();

    const b = await RawWs.open({ port: h.port });
    const cb = await h.nextClient();
    b.close();
    await cb.sink.until(() => cb.sink.closed);
  }));

Deno.test("native: listener close() sends 1001 'Server Shutdown' and stops accepting", async () => {
  const h = await harness();
  const a = await RawWs.open({ port: h.port });
  const b = await RawWs.open({ port: h.port });
  try {
    await h.nextClient();
    await h.nextClient();
    const closing = h.close();
    assertEquals(await a.waitClose(), { code: 1001, reason: "Server Shutdown" });
    assertEquals(await b.waitClose(), { code: 1001, reason: "Server Shutdown" });
    await closing;
    await Deno.connect({ hostname: "127.0.0.1", port: h.port }).then(
      (c) => {
        c.close();
        assert(false, "listener still accepts");
      },
      () => {},
    );
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("native: /leafnode and /mqtt → 101 then closed, logged; other paths are clients", () =>
  withHarness(async (h) => {
    const { res, ws } = await RawWs.connect({ port: h.port }, { path: "/leafnode" });
    assert(ws);
    try {
      assertEquals(res.status, 101);
      await ws.readUntil((w) => w.closeFrame !== undefined || w.eof);
      assertEquals(ws.text, "");
      assertEquals(h.clients.length, 0);
      assert(h.errors.includes("Not configured to accept leaf node connections"), h.errors.join());
    } finally {
      ws.close();
    }
    // No MQTT here: /mqtt is answered the same way (the reference would start an MQTT client).
    const mq = await RawWs.connect({ port: h.port }, { path: "/mqtt" });
    assert(mq.ws);
    try {
      assertEquals(mq.res.status, 101);
      assertEquals(mq.res.headers.get("sec-websocket-protocol"), null);
      await mq.ws.readUntil((w) => w.closeFrame !== undefined || w.eof);
      assert(h.errors.includes("Not configured to accept MQTT connections"), h.errors.join());
    } finally {
      mq.ws.close();
    }
    const c = await RawWs.open({ port: h.port }, { path: "/anything/here" });
    try {
      const { t } = await h.nextClient();
      assertEquals(t.peer.kind, "WEBSOCKET");
    } finally {
      c.close();
    }
  }));

Deno.test("native: /leafnode with a leafnode hook → LEAFNODE_WS transport", () =>
  withHarness(
    async (h) => {
      const ws = await RawWs.open({ port: h.port }, { path: "/leafnode" });
      try {
        await h.waitFor(() => h.leafs.length > 0);
        assertEquals(h.leafs.length, 1);
        assertEquals(h.leafs[0].t.peer.kind, "LEAFNODE_WS");
        assertEquals(h.clients.length, 0);
      } finally {
        ws.close();
      }
    },
    {},
    true,
  ));

Deno.test("native: rejected upgrades answer before Deno upgrades, with the reference's log line", () =>
  withHarness(async (h) => {
    const cases: [string, number, string][] = [
      [upgradeRequest("/", {}, "POST"), 405, "request method must be GET"],
      [upgradeRequest("/", { Upgrade: null }), 400, "invalid value for header 'Upgrade'"],
      [
        upgradeRequest("/", { Connection: "keep-alive" }),
        400,
        "invalid value for header 'Connection'",
      ],
      [upgradeRequest("/", { "Sec-WebSocket-Key": null }), 400, "key missing"],
      // Deno itself would accept a request without a version: the shared check runs first.
      [upgradeRequest("/", { "Sec-WebSocket-Version": null }), 400, "invalid version"],
      [upgradeRequest("/", { "Sec-WebSocket-Version": "8" }), 400, "invalid version"],
    ];
    for (const [req, status, reason] of cases) {
      h.errors.length = 0;
      const res = await rawHttp({ port: h.port }, req);
      assertEquals(res.status, status, reason);
      assertEquals(res.body, status === 405 ? "Method Not Allowed\n" : "Bad Request\n");
      assertEquals(res.headers.get("sec-websocket-version"), "13");
      assertEquals(res.headers.get("content-type"), "text/plain; charset=utf-8");
      assertEquals(res.headers.get("x-content-type-options"), "nosniff");
      assertEquals(h.errors.length, 1);
      assert(
        /^127\.0\.0\.1:\d+ - websocket handshake error: /.test(h.errors[0]) &&
          h.errors[0].endsWith(reason),
        h.errors[0],
      );
    }
    assertEquals(h.clients.length, 0);
  }));

Deno.test("native: same_origin → 403 for a foreign Origin, 101 for the same one", () =>
  withHarness(async (h) => {
    const bad = await rawHttp(
      { port: h.port },
      upgradeRequest("/", { Host: `127.0.0.1:${h.port}`, Origin: "http://example.com" }),
    );
    assertEquals(bad.status, 403);
    assertEquals(bad.body, "Forbidden\n");
    assert(
      h.errors.some((e) => e.endsWith("origin not allowed: not same origin")),
      h.errors.join(),
    );
    const ok = await RawWs.open({ port: h.port }, {
      headers: { Host: `127.0.0.1:${h.port}`, Origin: `http://127.0.0.1:${h.port}` },
    });
    ok.close();
  }, { sameOrigin: true }));

Deno.test("native: jwt cookie, trusted X-Forwarded-For and browser flag reach peer.ws", async () => {
  const proxies = parseTrustedProxies(["127.0.0.0/8"]);
  assert(proxies.ok);
  await withHarness(async (h) => {
    const ws = await RawWs.open({ port: h.port }, {
      headers: {
        Cookie: "other=1; jwt=eyJhbGciOi.payload.sig",
        "X-Forwarded-For": "203.0.113.7",
        "User-Agent": "Mozilla/5.0",
      },
    });
    try {
      const { t } = await h.nextClient();
      assertEquals(t.peer.ws?.cookieJwt, "eyJhbGciOi.payload.sig");
      assertEquals(t.peer.ws?.forwardedFor, "203.0.113.7");
      assertEquals(t.peer.ws?.browser, true);
      assertEquals(t.peer.hostname, "127.0.0.1");
    } finally {
      ws.close();
    }
  }, { jwtCookie: "jwt", trustedProxies: proxies.cidrs });
  // Untrusted peer: X-Forwarded-For is ignored.
  await withHarness(async (h) => {
    const ws = await RawWs.open({ port: h.port }, {
      headers: { "X-Forwarded-For": "203.0.113.7" },
    });
    try {
      const { t } = await h.nextClient();
      assertEquals(t.peer.ws?.forwardedFor, undefined);
      assertEquals(t.peer.ws?.cookieJwt, undefined);
    } finally {
      ws.close();
    }
  });
});
