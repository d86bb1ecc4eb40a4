/**
 * Raw WebSocket/HTTP helpers for tests: hand-written upgrade requests over `Deno.connect` (or
 * `Deno.connectTls`), masked client frames, and a frame reader that keeps frame boundaries so
 * tests can check opcodes, sizes and close codes exactly as the server put them on the wire.
 */
import { encodeFrame, OPCODE } from "../../lib/transport/ws/frames.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A parsed HTTP response head (+ body when Content-Length says so). */
export interface HttpResponse {
  status: number;
  statusLine: string;
  /** Header lines in wire order. */
  headerLines: [string, string][];
  headers: Headers;
  body: string;
}

/** One frame sent by the server. */
export interface Frame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  masked: boolean;
  payload: Uint8Array;
}

/** Where to connect. */
export interface ConnectTarget {
  port: number;
  hostname?: string;
  /** PEM CA: connect with TLS and verify against it. */
  caCert?: string;
  /** TLS server name (default "localhost"). */
  serverName?: string;
}

async function dial(t: ConnectTarget): Promise<Deno.Conn> {
  const hostname = t.hostname ?? "127.0.0.1";
  if (t.caCert !== undefined) {
    return await Deno.connectTls({
      hostname: t.serverName ?? "localhost",
      port: t.port,
      caCerts: [t.caCert],
    });
  }
  return await Deno.connect({ hostname, port: t.port });
}

/** Bytes from a connection with bounded waits and no lost reads across timeouts. */
class Reader {
  buf = new Uint8Array(0);
  eof = false;
  private pending: Promise<number | null> | null = null;
  private readonly chunk = new Uint8Array(64 * 1024);
  constructor(readonly conn: Deno.Conn) {}

  /** Reads more bytes; false on timeout. */
  async more(deadline: number): Promise<boolean> {
    if (this.eof) return true;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    this.pending ??= this.conn.read(this.chunk).catch(() => null);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      this.pending,
      new Promise<"timeout">((res) => timer = setTimeout(() => res("timeout"), left)),
    ]);
    clearTimeout(timer);
    if (r === "timeout") return false;
    this.pending = null;
    if (r === null) {
      this.eof = true;
      return true;
    }
    const next = new Uint8Array(this.buf.length + r);
    next.set(this.buf);
    next.set(this.chunk.subarray(0, r), this.buf.length);
    this.buf = next;
    return true;
  }

  take(n: number): Uint8Array {
    const out = this.buf.slice(0, n);
    this.buf = this.buf.slice(n);
    return out;
  }
}

function indexOfHeadEnd(b: Uint8Array): number {
  for (let i = 0; i + 3 < b.length; i++) {
    if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i;
  }
  return -1;
}

async function readResponse(r: Reader, timeoutMs: number, wantBody: boolean) {
  const deadline = Date.now() + timeoutMs;
  let end = indexOfHeadEnd(r.buf);
  while (end < 0) {
    if (r.eof) throw new Error(`connection closed before a response: ${dec.decode(r.buf)}`);
    if (!await r.more(deadline)) {
      throw new Error(`timeout; got ${JSON.stringify(dec.decode(r.buf))}`);
    }
    end = indexOfHeadEnd(r.buf);
  }
  const head = dec.decode(r.take(end + 4)).slice(0, -4);
  const [statusLine, ...lines] = head.split("\r\n");
  const headerLines: [string, string][] = lines.map((l) => {
    const i = l.indexOf(":");
    return [l.slice(0, i), l.slice(i + 1).trim()];
  });
  const headers = new Headers();
  for (const [k, v] of headerLines) headers.append(k, v);
  const status = Number(statusLine.split(" ")[1]);
  let body = "";
  if (wantBody && status >= 200 && status !== 204 && status !== 304) {
    const len = Number(headers.get("content-length") ?? "-1");
    if (len >= 0) {
      while (r.buf.length < len && !r.eof) {
        if (!await r.more(deadline)) break;
      }
      body = dec.decode(r.take(len));
    } else {
      while (!r.eof && await r.more(deadline)) { /* read to EOF */ }
      body = dec.decode(r.take(r.buf.length));
    }
  }
  return { status, statusLine, headerLines, headers, body };
}

/** Sends a hand-written HTTP request and reads one response (head + Content-Length body). */
export async function rawHttp(
  target: ConnectTarget,
  request: string,
  timeoutMs = 5000,
): Promise<HttpResponse> {
  const conn = await dial(target);
  try {
    await writeAll(conn, enc.encode(request));
    return await readResponse(new Reader(conn), timeoutMs, true);
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.length) off += await conn.write(bytes.subarray(off));
}

/** A valid upgrade request with `extra` headers (a null value removes a header). */
export function upgradeRequest(
  path = "/",
  extra: Record<string, string | null> = {},
  method = "GET",
): string {
  const h: Record<string, string | null> = {
    Host: "127.0.0.1",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-WebSocket-Version": "13",
  };
  for (const [k, v] of Object.entries(extra)) {
    const existing = Object.keys(h).find((x) => x.toLowerCase() === k.toLowerCase());
    if (existing) delete h[existing];
    h[k] = v;
  }
  let s = `${method} ${path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(h)) if (v !== null) s += `${k}: ${v}\r\n`;
  return s + "\r\n";
}

/** A raw WebSocket client connection (frames masked as a client must). */
export class RawWs {
  readonly frames: Frame[] = [];
  /** Concatenated text of all data frames. */
  text = "";
  /** The server's close frame, if one came. */
  closeFrame?: { code: number; reason: string };
  private constructor(readonly conn: Deno.Conn, private readonly r: Reader) {}

  /**
   * Opens a connection and sends an upgrade request. Returns the response; `ws` is set when it
   * was a 101.
   */
  static async connect(
    target: ConnectTarget,
    opts: { path?: string; headers?: Record<string, string | null>; timeoutMs?: number } = {},
  ): Promise<{ res: HttpResponse; ws: RawWs | null }> {
    const conn = await dial(target);
    const r = new Reader(conn);
    await writeAll(conn, enc.encode(upgradeRequest(opts.path ?? "/", opts.headers ?? {})));
    let res: HttpResponse;
    try {
      res = await readResponse(r, opts.timeoutMs ?? 5000, false);
    } catch (err) {
      conn.close();
      throw err;
    }
    if (res.status !== 101) {
      conn.close();
      return { res, ws: null };
    }
    const ws = new RawWs(conn, r);
    ws.parse();
    return { res, ws };
  }

  /** Opens a client connection or throws. */
  static async open(
    target: ConnectTarget,
    opts: { path?: string; headers?: Record<string, string | null> } = {},
  ): Promise<RawWs> {
    const { res, ws } = await RawWs.connect(target, opts);
    if (!ws) throw new Error(`expected 101, got ${res.statusLine}`);
    return ws;
  }

  /** Whether the server closed the TCP connection. */
  get eof(): boolean {
    return this.r.eof;
  }

  /** Sends NATS bytes in one masked frame (binary by default). */
  async send(
    data: string | Uint8Array,
    opts: { opcode?: number; mask?: boolean } = {},
  ): Promise<void> {
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    await this.sendRaw(
      encodeFrame(opts.opcode ?? OPCODE.BINARY, bytes, { mask: opts.mask ?? true }),
    );
  }

  /** Writes raw bytes. */
  async sendRaw(bytes: Uint8Array): Promise<void> {
    await writeAll(this.conn, bytes);
  }

  private parse(): void {
    while (true) {
      const b = this.r.buf;
      if (b.length < 2) return;
      let len = b[1] & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = (b[2] << 8) | b[3];
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0));
        off = 10;
      }
      const masked = (b[1] & 0x80) !== 0;
      if (masked) off += 4;
      if (b.length < off + len) return;
      const payload = b.slice(off, off + len);
      if (masked) {
        const key = b.slice(off - 4, off);
        for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
      }
      const f: Frame = {
        fin: (b[0] & 0x80) !== 0,
        rsv1: (b[0] & 0x40) !== 0,
        opcode: b[0] & 0x0f,
        masked,
        payload,
      };
      this.r.take(off + len);
      this.frames.push(f);
      if (f.opcode === OPCODE.CLOSE) {
        this.closeFrame = {
          code: payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005,
          reason: dec.decode(payload.subarray(2)),
        };
      } else if (f.opcode <= OPCODE.BINARY) {
        this.text += dec.decode(payload);
      }
    }
  }

  /** Reads until `done()` holds, EOF, or the timeout (then throws with what came). */
  async readUntil(done: (ws: RawWs) => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this)) {
      if (this.r.eof) return;
      if (!await this.r.more(deadline)) {
        throw new Error(
          `timeout; text=${JSON.stringify(this.text)} close=${JSON.stringify(this.closeFrame)}`,
        );
      }
      this.parse();
    }
  }

  /** Reads until the text contains `s`. */
  async waitText(s: string, timeoutMs = 5000): Promise<void> {
    await this.readUntil((w) => w.text.includes(s), timeoutMs);
    if (!this.text.includes(s)) {
      throw new Error(`connection ended without ${JSON.stringify(s)}; got ${this.text}`);
    }
  }

  /** Reads the INFO line and returns its JSON; drops it from `text`. */
  async info(): Promise<Record<string, unknown>> {
    await this.waitText("\r\n");
    const end = this.text.indexOf("\r\n");
    const line = this.text.slice(0, end);
    this.text = this.text.slice(end + 2);
    if (!line.startsWith("INFO ")) throw new Error(`expected INFO, got ${line}`);
    return JSON.parse(line.slice(5));
  }

  /** Reads until the server's close frame (or EOF). */
  async waitClose(timeoutMs = 5000): Promise<{ code: number; reason: string } | undefined> {
    await this.readUntil((w) => w.closeFrame !== undefined, timeoutMs);
    return this.closeFrame;
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}
