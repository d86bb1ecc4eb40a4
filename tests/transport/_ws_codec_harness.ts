/**
 * Harness for the own-codec engine tests: our server with the codec engine wired the way the
 * server wires an engine (`onClient` → `server.addClient`), and a test client over any
 * `Deno.Conn` (plain or TLS, with or without a client certificate): a hand-written upgrade,
 * frames written byte-exactly and the server's frames read back with their first byte, flags and
 * sizes, plus EOF timing.
 */
import { SERVER_SHUTDOWN_CLOSE } from "../../lib/core/close_reasons.ts";
import { defaultOptions, type ServerOptions } from "../../lib/config/options.ts";
import type { Logger } from "../../lib/protocol/context.ts";
import type { Transport } from "../../lib/protocol/transport.ts";
import { NatsServer } from "../../lib/server/server.ts";
import { startCodecWsListener } from "../../lib/transport/ws/codec_engine.ts";
import type { WsListener, WsListenerOptions } from "../../lib/transport/ws/engine.ts";
import {
  encodeFrame,
  type EncodeFrameOptions,
  inflateMessage,
  OPCODE,
} from "../../lib/transport/ws/frames.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** One server frame as it was on the wire. */
export interface WireFrame {
  /** First header byte (e.g. 0x82 binary, 0xC2 compressed binary, 0x88 close). */
  b0: number;
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  /** Header length: 2, 4 or 10 (7/16/64-bit payload length). */
  headerLen: number;
  payload: Uint8Array;
}

/** How to reach the server. */
export interface Dial {
  port: number;
  /** Connect with TLS (server name "localhost"). */
  tls?: { caPem: string; certPem?: string; keyPem?: string };
}

/** Opens a TCP or TLS connection to 127.0.0.1 / localhost. */
export async function dial(d: Dial): Promise<Deno.Conn> {
  if (!d.tls) return await Deno.connect({ hostname: "127.0.0.1", port: d.port });
  const opts: Deno.ConnectTlsOptions & { cert?: string; key?: string } = {
    hostname: "localhost",
    port: d.port,
    caCerts: [d.tls.caPem],
  };
  if (d.tls.certPem) {
    opts.cert = d.tls.certPem;
    opts.key = d.tls.keyPem;
  }
  return await Deno.connectTls(opts);
}

/** A valid upgrade request; `headers` adds or (with null) removes headers. */
export function upgradeHead(
  headers: Record<string, string | null> = {},
  path = "/",
): string {
  const base: [string, string | null][] = [
    ["Host", "127.0.0.1"],
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
    ["Sec-WebSocket-Version", "13"],
  ];
  const lower = (s: string) => s.toLowerCase();
  const lines = base.filter(([k]) => !Object.keys(headers).some((h) => lower(h) === lower(k)));
  lines.push(...Object.entries(headers));
  return `GET ${path} HTTP/1.1\r\n` +
    lines.filter(([, v]) => v !== null).map(([k, v]) => `${k}: ${v}\r\n`).join("") + "\r\n";
}

/** Reads a connection with bounded waits, keeping every byte. */
export class ConnReader {
  bytes = new Uint8Array(0);
  eof = false;
  /** performance.now() when EOF (or a reset) was seen. */
  eofAt = 0;
  #inflight: Promise<number | null> | null = null;
  readonly #scratch = new Uint8Array(256 * 1024);

  constructor(readonly conn: Deno.Conn) {}

  /** One more read; false when `deadline` (performance.now()) passed first. */
  async pull(deadline: number): Promise<boolean> {
    if (this.eof) return true;
    const wait = deadline - performance.now();
    if (wait <= 0) return false;
    this.#inflight ??= this.conn.read(this.#scratch).catch(() => null);
    let t: ReturnType<typeof setTimeout> | undefined;
    const got = await Promise.race([
      this.#inflight,
      new Promise<"late">((r) => t = setTimeout(() => r("late"), wait)),
    ]);
    clearTimeout(t);
    if (got === "late") return false;
    this.#inflight = null;
    if (got === null) {
      this.eof = true;
      this.eofAt = performance.now();
    } else {
      const grown = new Uint8Array(this.bytes.length + got);
      grown.set(this.bytes, 0);
      grown.set(this.#scratch.subarray(0, got), this.bytes.length);
      this.bytes = grown;
    }
    return true;
  }

  /** Waits for `cond` (bounded); returns whether it holds. */
  async until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (!cond()) {
      if (this.eof || !await this.pull(deadline)) return cond();
    }
    return true;
  }

  /** Consumes `n` bytes. */
  shift(n: number): Uint8Array {
    const head = this.bytes.slice(0, n);
    this.bytes = this.bytes.slice(n);
    return head;
  }
}

/** A parsed HTTP response head. */
export interface HeadReply {
  statusLine: string;
  status: number;
  /** The whole head text, CRLFs included. */
  raw: string;
  headers: Headers;
}

/** Position after "\r\n\r\n", or -1. */
function headEnd(b: Uint8Array): number {
  for (let i = 3; i < b.length; i++) {
    if (b[i] === 10 && b[i - 1] === 13 && b[i - 2] === 10 && b[i - 3] === 13) return i + 1;
  }
  return -1;
}

/** A client connection, before and after the upgrade. */
export class WsTestClient {
  readonly r: ConnReader;
  frames: WireFrame[] = [];
  /** Text of all data frames (compressed messages inflated). */
  text = "";
  close?: { code: number; reason: string };
  #message: { rsv1: boolean; parts: Uint8Array[] } | null = null;

  constructor(readonly conn: Deno.Conn) {
    this.r = new ConnReader(conn);
  }

  static async open(d: Dial): Promise<WsTestClient> {
    return new WsTestClient(await dial(d));
  }

  async write(data: string | Uint8Array): Promise<void> {
    const b = typeof data === "string" ? te.encode(data) : data;
    for (let off = 0; off < b.length;) off += await this.conn.write(b.subarray(off));
  }

  /** Reads one HTTP response head (throws on timeout or EOF before it). */
  async readHead(timeoutMs = 5000): Promise<HeadReply> {
    await this.r.until(() => headEnd(this.r.bytes) >= 0, timeoutMs);
    const end = headEnd(this.r.bytes);
    if (end < 0) {
      throw new Error(`no response head; got ${JSON.stringify(td.decode(this.r.bytes))}`);
    }
    const raw = td.decode(this.r.shift(end));
    const [statusLine, ...lines] = raw.slice(0, -4).split("\r\n");
    const headers = new Headers();
    for (const l of lines) {
      const c = l.indexOf(":");
      headers.append(l.slice(0, c), l.slice(c + 1).trim());
    }
    return { statusLine, status: Number(statusLine.split(" ")[1]), raw, headers };
  }

  /** Sends the upgrade request and reads the 101 (throws otherwise). */
  async upgrade(headers: Record<string, string | null> = {}, path = "/"): Promise<HeadReply> {
    await this.write(upgradeHead(headers, path));
    const head = await this.readHead();
    if (head.status !== 101) throw new Error(`expected 101, got ${head.raw}`);
    return head;
  }

  /** Sends one frame (masked unless `mask: false`). */
  async frame(
    opcode: number,
    payload: string | Uint8Array = new Uint8Array(0),
    opts: EncodeFrameOptions = {},
  ): Promise<void> {
    const p = typeof payload === "string" ? te.encode(payload) : payload;
    await this.write(encodeFrame(opcode, p, { mask: true, ...opts }));
  }

  /** Sends NATS text in one masked binary frame. */
  send(text: string): Promise<void> {
    return this.frame(OPCODE.BINARY, text);
  }

  #parse(): void {
    for (;;) {
      const b = this.r.bytes;
      if (b.length < 2) return;
      const len7 = b[1] & 0x7f;
      const headerLen = len7 === 127 ? 10 : len7 === 126 ? 4 : 2;
      const masked = (b[1] & 0x80) !== 0;
      const keyLen = masked ? 4 : 0;
      if (b.length < headerLen + keyLen) return;
      const dv = new DataView(b.buffer, b.byteOffset);
      const size = headerLen === 2
        ? len7
        : headerLen === 4
        ? dv.getUint16(2)
        : Number(dv.getBigUint64(2));
      if (b.length < headerLen + keyLen + size) return;
      const all = this.r.shift(headerLen + keyLen + size);
      const payload = all.slice(headerLen + keyLen);
      const f: WireFrame = {
        b0: all[0],
        opcode: all[0] & 0x0f,
        fin: (all[0] & 0x80) !== 0,
        rsv1: (all[0] & 0x40) !== 0,
        headerLen,
        payload,
      };
      this.frames.push(f);
      this.#collect(f);
    }
  }

  #collect(f: WireFrame): void {
    if (f.opcode === OPCODE.CLOSE) {
      const code = f.payload.length >= 2 ? (f.payload[0] << 8) | f.payload[1] : 1005;
      this.close = { code, reason: td.decode(f.payload.subarray(2)) };
      return;
    }
    if (f.opcode !== OPCODE.BINARY && f.opcode !== OPCODE.TEXT && f.opcode !== 0) return;
    if (f.opcode !== 0) this.#message = { rsv1: f.rsv1, parts: [] };
    const m = this.#message!;
    m.parts.push(f.payload);
    if (!f.fin) return;
    this.#message = null;
    const data = m.rsv1 ? inflateMessage(m.parts) : m.parts;
    for (const p of Array.isArray(data) ? data : [data]) this.text += td.decode(p);
  }

  /** Reads frames until `cond` holds, EOF or the timeout; returns whether `cond` holds. */
  async until(cond: (c: WsTestClient) => boolean, timeoutMs = 5000): Promise<boolean> {
    this.#parse();
    const deadline = performance.now() + timeoutMs;
    while (!cond(this)) {
      if (this.r.eof || !await this.r.pull(deadline)) break;
      this.#parse();
    }
    return cond(this);
  }

  /** Waits for `s` in the data text (throws with what came otherwise). */
  async expectText(s: string, timeoutMs = 5000): Promise<void> {
    if (!await this.until((c) => c.text.includes(s), timeoutMs)) {
      throw new Error(
        `no ${JSON.stringify(s)}; text=${JSON.stringify(this.text)} close=${
          JSON.stringify(this.close)
        } eof=${this.r.eof}`,
      );
    }
  }

  /** Reads the INFO line and removes it from `text`. */
  async info(): Promise<Record<string, unknown>> {
    await this.expectText("\r\n");
    const i = this.text.indexOf("\r\n");
    const line = this.text.slice(0, i);
    this.text = this.text.slice(i + 2);
    return JSON.parse(line.slice(5));
  }

  /** Waits for EOF (bounded); returns whether it came. */
  waitEof(timeoutMs = 5000): Promise<boolean> {
    return this.until((c) => c.r.eof, timeoutMs);
  }

  /** Number of PONG lines in the text. */
  get pongs(): number {
    return this.text.split("PONG\r\n").length - 1;
  }

  shut(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

// ---------------------------------------------------------------------------------------------
// Our server

/** Our server (TCP listener + protocol) with the codec engine wired like the server does. */
export interface Ours {
  port: number;
  server: NatsServer;
  listener: WsListener;
  logs: string[];
  /** Every transport handed to the server, in order. */
  transports: Transport[];
  stop(): Promise<void>;
}

/** A logger that records info, warning, error and debug lines. */
export function captureLogger(logs: string[]): Logger {
  return {
    info: (m) => logs.push(`INF ${m}`),
    warn: (m) => logs.push(`WRN ${m}`),
    error: (m) => logs.push(`ERR ${m}`),
    debug: (m) => logs.push(`DBG ${m}`),
    trace: () => {},
    debugEnabled: true,
    traceEnabled: false,
  };
}

export async function startOurs(
  ws: Partial<WsListenerOptions> = {},
  server: Partial<ServerOptions> = {},
): Promise<Ours> {
  const logs: string[] = [];
  const transports: Transport[] = [];
  const o: ServerOptions = { ...defaultOptions(), host: "127.0.0.1", port: -1, ...server };
  const srv = new NatsServer(o, captureLogger(logs));
  await srv.start();
  const listener = await startCodecWsListener({
    host: "127.0.0.1",
    port: 0,
    sameOrigin: false,
    allowedOrigins: new Map(),
    compression: true,
    handshakeTimeoutMs: 0,
    trustedProxies: [],
    ...ws,
  }, {
    onClient: (t) => {
      transports.push(t);
      return srv.addClient(t);
    },
    logError: (m) => logs.push(`ERR ${m}`),
    logDebug: (m) => logs.push(`DBG ${m}`),
  });
  return {
    port: listener.port,
    server: srv,
    listener,
    logs,
    transports,
    async stop() {
      await listener.close(SERVER_SHUTDOWN_CLOSE);
      await srv.shutdown();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// handshake_timeout measurements

/** The handshake_timeout the tests configure. */
export const HT_MS = 500;
/** Upper bound for a cut: well before twice the timeout, with slack for a loaded machine. */
export const HT_MAX_MS = 2 * HT_MS + 400;

/**
 * Connects (the clock starts when the connection is established, i.e. no later than the server's
 * accept), runs `act`, and returns the milliseconds until the server closed the connection.
 * `d.tls` makes the TLS handshake part of the measured time.
 */
export async function eofAfter(d: Dial, act: (c: WsTestClient) => Promise<void>): Promise<number> {
  const t0 = performance.now();
  const c = await WsTestClient.open(d);
  try {
    await act(c);
    if (!await c.waitEof(4 * HT_MS)) throw new Error("not closed by the server");
    return c.r.eofAt - t0;
  } finally {
    c.shut();
  }
}

/** The close came at the timeout: not before it, well before twice it. */
export function assertCutAtTimeout(ms: number, what: string): void {
  if (!(ms >= HT_MS - 5 && ms < HT_MAX_MS)) {
    throw new Error(`${what}: closed after ${ms.toFixed(0)} ms, want ${HT_MS}..${HT_MAX_MS}`);
  }
}

/** After the 101 the deadline is gone: the connection outlives twice the timeout. */
export async function assertOutlivesTimeout(
  d: Dial,
  headers: Record<string, string | null> = {},
): Promise<void> {
  const c = await WsTestClient.open(d);
  try {
    await c.upgrade(headers);
    await c.info();
    if (await c.waitEof(2 * HT_MS + 100)) throw new Error("upgraded connection was cut");
    await c.send("PING\r\n");
    await c.expectText("PONG\r\n");
  } finally {
    c.shut();
  }
}
