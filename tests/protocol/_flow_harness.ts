/**
 * Flow-control harness: raw, byte-level publishers and subscribers (TCP, TLS or WebSocket) with
 * sequence-numbered payloads, run against this server and nats-server as processes in the same
 * test. Subscribers can read slowly (pause N ms every M messages) or not at all; they check that
 * every message arrives exactly once and in order per publisher.
 */
import { encodeFrame, OPCODE } from "../../lib/transport/ws/frames.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startServerProcess } from "../helpers/server_process.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Which server. */
export type ServerName = "ours" | "nats-server";

/** A running server under test. */
export interface Target {
  name: ServerName;
  port: number;
  wsPort?: number;
  monitorPort: number;
  /** Its log so far. */
  log(): string;
  /** Resident memory in bytes (ours only). */
  rss?: () => Promise<number | null>;
}

/** How a client reaches the server. */
export type Wire = "tcp" | "tls" | "ws";

/** Extra facts a client needs: the CA for TLS. */
export interface WireOptions {
  caPem?: string;
}

/**
 * Runs `fn` against ours (`main.ts` as a process) and then nats-server, each started with
 * `config` and monitoring on a random port. nats-server missing: ours only, with a printed note.
 */
export async function eachServer(
  config: string | ((name: ServerName) => string),
  fn: (t: Target) => Promise<void>,
): Promise<void> {
  const text = (name: ServerName) => typeof config === "string" ? config : config(name);
  const ours = await startServerProcess(text("ours"), ["-m", "-1"]);
  try {
    const mon = /Starting http monitor on [^\s]*:(\d+)/.exec(ours.stderr());
    await fn({
      name: "ours",
      port: ours.port,
      wsPort: ours.wsPort,
      monitorPort: Number(mon![1]),
      log: ours.stderr,
      rss: ours.rss,
    });
  } finally {
    await ours.stop();
  }
  if (!haveNatsServer()) return;
  const ref = await startReference(text("nats-server"), ["-m", "-1"]);
  try {
    await fn({
      name: "nats-server",
      port: ref.port,
      wsPort: ref.wsPort,
      monitorPort: ref.monitorPort!,
      log: ref.stderr,
    });
  } finally {
    await ref.stop();
  }
}

/** GET a monitoring endpoint as JSON. */
export async function monitor(t: Target, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${t.monitorPort}${path}`);
  return await res.json();
}

/** Waits (bounded) until `cond()` holds, polling every 20 ms. */
export async function waitUntil(
  cond: () => boolean | Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** A timer promise. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

// ---- byte pipes -------------------------------------------------------------------------------

/** Bytes to and from the server after INFO, whatever the wire. */
interface Pipe {
  write(b: Uint8Array): Promise<void>;
  /** Next bytes, or null at EOF / close. */
  read(): Promise<Uint8Array | null>;
  close(): void;
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  let off = 0;
  while (off < b.length) off += await conn.write(b.subarray(off));
}

class ConnPipe implements Pipe {
  private readonly buf = new Uint8Array(256 * 1024);
  constructor(readonly conn: Deno.Conn) {}
  write(b: Uint8Array): Promise<void> {
    return writeAll(this.conn, b);
  }
  async read(): Promise<Uint8Array | null> {
    try {
      const n = await this.conn.read(this.buf);
      return n === null ? null : this.buf.subarray(0, n);
    } catch {
      return null;
    }
  }
  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/** A pipe whose first read returns bytes already read past a line. */
class PrefixPipe implements Pipe {
  constructor(private readonly inner: Pipe, private pre: Uint8Array | null) {}
  write(b: Uint8Array): Promise<void> {
    return this.inner.write(b);
  }
  read(): Promise<Uint8Array | null> {
    const p = this.pre;
    this.pre = null;
    return p !== null && p.length > 0 ? Promise.resolve(p) : this.inner.read();
  }
  close(): void {
    this.inner.close();
  }
}

/** Reads from `pipe` until `buf` holds a CRLF-terminated line; returns it and the rest. */
async function readLine(pipe: Pipe): Promise<[string, Uint8Array]> {
  let acc: Uint8Array = new Uint8Array(0);
  for (;;) {
    const i = indexOfCrlf(acc);
    if (i >= 0) return [dec.decode(acc.subarray(0, i)), acc.slice(i + 2)];
    const b = await pipe.read();
    if (b === null) throw new Error(`closed before a line: ${dec.decode(acc)}`);
    acc = concat(acc, b);
  }
}

function indexOfCrlf(b: Uint8Array, from = 0): number {
  for (let i = b.indexOf(13, from); i >= 0 && i + 1 < b.length; i = b.indexOf(13, i + 1)) {
    if (b[i + 1] === 10) return i;
  }
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** A client-side WebSocket over a raw socket: masked binary frames out, payloads in. */
class WsPipe implements Pipe {
  private acc: Uint8Array = new Uint8Array(0);
  private readonly inner: ConnPipe;
  constructor(conn: Deno.Conn, rest: Uint8Array) {
    this.inner = new ConnPipe(conn);
    this.acc = rest;
  }
  write(b: Uint8Array): Promise<void> {
    return this.inner.write(encodeFrame(OPCODE.BINARY, b, { mask: true }));
  }
  async read(): Promise<Uint8Array | null> {
    for (;;) {
      const frame = this.takeFrame();
      if (frame === "close") return null;
      if (frame !== null) {
        if (frame.length > 0) return frame;
        continue;
      }
      const b = await this.inner.read();
      if (b === null) return null;
      this.acc = this.acc.length === 0 ? b.slice() : concat(this.acc, b);
    }
  }
  /** One frame's payload, "close", or null when incomplete. Pings/pongs give empty payloads. */
  private takeFrame(): Uint8Array | "close" | null {
    const a = this.acc;
    if (a.length < 2) return null;
    const op = a[0] & 0x0f;
    let len = a[1] & 0x7f;
    let p = 2;
    if (len === 126) {
      if (a.length < 4) return null;
      len = (a[2] << 8) | a[3];
      p = 4;
    } else if (len === 127) {
      if (a.length < 10) return null;
      len = Number(new DataView(a.buffer, a.byteOffset + 2, 8).getBigUint64(0));
      p = 10;
    }
    if (a.length < p + len) return null;
    const payload = a.subarray(p, p + len);
    this.acc = a.subarray(p + len);
    if (op === OPCODE.CLOSE) return "close";
    if (op === OPCODE.PING) {
      this.inner.write(encodeFrame(OPCODE.PONG, payload.slice(), { mask: true })).catch(() => {});
      return new Uint8Array(0);
    }
    return op === OPCODE.PONG ? new Uint8Array(0) : payload;
  }
  close(): void {
    this.inner.close();
  }
}

/** Connects over `wire` and sends CONNECT; the INFO line is consumed. */
export async function openNats(
  t: Target,
  wire: Wire,
  opts: WireOptions = {},
): Promise<NatsPipe> {
  let pipe: Pipe;
  if (wire === "ws") {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: t.wsPort! });
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    await writeAll(
      conn,
      enc.encode(
        `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      ),
    );
    const raw = new ConnPipe(conn);
    let acc: Uint8Array = new Uint8Array(0);
    let end = -1;
    while (end < 0) {
      const b = await raw.read();
      if (b === null) throw new Error("closed during upgrade");
      acc = concat(acc, b);
      end = dec.decode(acc).indexOf("\r\n\r\n");
    }
    const head = dec.decode(acc);
    if (!head.startsWith("HTTP/1.1 101")) throw new Error(`upgrade failed: ${head}`);
    pipe = new WsPipe(conn, acc.slice(enc.encode(head.slice(0, end + 4)).length));
  } else {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    pipe = new ConnPipe(conn);
  }
  const [info, rest] = await readLine(pipe);
  if (!info.startsWith("INFO ")) throw new Error(`expected INFO: ${info}`);
  if (wire === "tls") {
    const conn = (pipe as ConnPipe).conn as Deno.TcpConn;
    const tls = await Deno.startTls(conn, { hostname: "localhost", caCerts: [opts.caPem!] });
    pipe = new ConnPipe(tls);
  } else pipe = new PrefixPipe(pipe, rest);
  await pipe.write(enc.encode('CONNECT {"verbose":false,"pedantic":false,"headers":true}\r\n'));
  return new NatsPipe(pipe);
}

/** How a subscriber reads. */
export interface Pace {
  /** Pause `ms` after every `every` messages (default: never). */
  every?: number;
  ms?: number;
}

/** A NATS connection: raw writes and a MSG parser. */
export class NatsPipe {
  closed = false;
  /** Server-sent lines other than MSG (e.g. -ERR). */
  readonly lines: string[] = [];
  constructor(private readonly pipe: Pipe) {}

  send(text: string | Uint8Array): Promise<void> {
    return this.pipe.write(typeof text === "string" ? enc.encode(text) : text);
  }

  /** Sends PING and resolves at its PONG (reading directly when no read loop runs yet). */
  async flush(timeoutMs = 10_000): Promise<void> {
    await this.send("PING\r\n");
    if (!this.reading) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const text = dec.decode(this.carry);
        const i = text.indexOf("PONG\r\n");
        if (i >= 0) {
          this.carry = enc.encode(text.slice(i + 6));
          return;
        }
        if (performance.now() > deadline) throw new Error("timed out waiting for PONG");
        const b = await this.pipe.read();
        if (b === null) throw new Error(`closed before PONG: ${text}`);
        this.carry = concat(this.carry, b);
      }
    }
    const before = this.pongs;
    await waitUntil(() => this.pongs > before || this.closed, timeoutMs, "PONG");
    if (this.closed) throw new Error("closed before PONG");
  }

  /** Bytes read by {@link flush} before the read loop started. */
  private carry: Uint8Array = new Uint8Array(0);
  pongs = 0;
  private reading = false;

  /**
   * Reads until close, calling `onMsg(sid, reply, payload)` per message (payload valid during
   * the call); pauses as `pace` says. Returns when the connection ends.
   */
  async readLoop(
    onMsg: (sid: string, reply: string | null, payload: Uint8Array) => void,
    pace: Pace = {},
    afterRead?: () => Promise<void>,
  ): Promise<void> {
    if (this.reading) throw new Error("already reading");
    this.reading = true;
    let acc: Uint8Array = new Uint8Array(0);
    let count = 0;
    for (;;) {
      const b = this.carry.length > 0 ? this.carry : await this.pipe.read();
      this.carry = new Uint8Array(0);
      if (b === null) break;
      acc = acc.length === 0 ? b : concat(acc, b);
      let p = 0;
      const before = count;
      for (;;) {
        const eol = indexOfCrlf(acc, p);
        if (eol < 0) break;
        if (acc[p] === 77 /* M */ || acc[p] === 72 /* H */) {
          const line = dec.decode(acc.subarray(p, eol));
          const parts = line.split(" ");
          const size = Number(parts[parts.length - 1]);
          if (acc.length < eol + 2 + size + 2) break;
          const hmsg = parts[0] === "HMSG";
          const reply = parts.length === (hmsg ? 6 : 5) ? parts[3] : null;
          const hdr = hmsg ? Number(parts[parts.length - 2]) : 0;
          onMsg(parts[2], reply, acc.subarray(eol + 2 + hdr, eol + 2 + size));
          count++;
          p = eol + 2 + size + 2;
        } else {
          const line = dec.decode(acc.subarray(p, eol));
          if (line === "PING") this.send("PONG\r\n").catch(() => {});
          else if (line === "PONG") this.pongs++;
          else if (line !== "+OK") this.lines.push(line);
          p = eol + 2;
        }
      }
      acc = p === acc.length ? new Uint8Array(0) : acc.slice(p);
      if (afterRead) await afterRead();
      if (pace.every && Math.floor(count / pace.every) > Math.floor(before / pace.every)) {
        await sleep(
          (pace.ms ?? 1) * (Math.floor(count / pace.every) - Math.floor(before / pace.every)),
        );
      }
    }
    this.closed = true;
  }

  close(): void {
    this.pipe.close();
  }
}

// ---- payloads -------------------------------------------------------------------------------

/** Payload layout: 2 digits publisher id, 8 digits sequence, filler. */
export const SEQ_BYTES = 10;

/**
 * Publishes `count` messages of `size` bytes (≥ 10) to `subject` from publisher `id`, in
 * batches of about 64 KiB; each write waits for the socket (TCP pushback slows this down).
 * Returns the achieved rate in messages per second.
 */
export async function publish(
  c: NatsPipe,
  subject: string,
  count: number,
  size: number,
  id = 0,
  reply?: string,
): Promise<number> {
  const head = enc.encode(`PUB ${subject} ${reply ? reply + " " : ""}${size}\r\n`);
  const one = head.length + size + 2;
  const perBatch = Math.max(1, Math.floor(65536 / one));
  const batch = new Uint8Array(one * perBatch);
  for (let k = 0; k < perBatch; k++) {
    const o = k * one;
    batch.set(head, o);
    batch.fill(120, o + head.length, o + head.length + size);
    batch[o + one - 2] = 13;
    batch[o + one - 1] = 10;
    putDigits(batch, o + head.length, id, 2);
  }
  const t0 = performance.now();
  for (let seq = 0; seq < count; seq += perBatch) {
    const n = Math.min(perBatch, count - seq);
    for (let k = 0; k < n; k++) putDigits(batch, k * one + head.length + 2, seq + k, 8);
    await c.send(batch.subarray(0, n * one));
  }
  return count / ((performance.now() - t0) / 1000);
}

function putDigits(b: Uint8Array, at: number, v: number, width: number): void {
  for (let i = width - 1; i >= 0; i--) {
    b[at + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
}

function readDigits(b: Uint8Array, at: number, width: number): number {
  let v = 0;
  for (let i = 0; i < width; i++) v = v * 10 + b[at + i] - 48;
  return v;
}

/**
 * Checks what a subscriber got: per publisher, sequence numbers in order with no gaps (or, with
 * `gaps`, strictly increasing: a queue member gets a share), and counts them.
 */
export class SeqCheck {
  received = 0;
  errors: string[] = [];
  private readonly next = new Map<number, number>();
  constructor(private readonly gaps = false, private readonly once?: Uint8Array) {}
  /** Records one payload. */
  add(payload: Uint8Array): void {
    this.received++;
    const id = readDigits(payload, 0, 2);
    const seq = readDigits(payload, 2, 8);
    const want = this.next.get(id) ?? 0;
    if ((this.gaps ? seq < want : seq !== want) && this.errors.length < 5) {
      this.errors.push(`publisher ${id}: got seq ${seq}, expected ${this.gaps ? "≥ " : ""}${want}`);
    }
    if (this.once) {
      if (this.once[seq] !== 0 && this.errors.length < 5) this.errors.push(`seq ${seq} twice`);
      this.once[seq] = 1;
    }
    this.next.set(id, seq + 1);
  }
  /** Messages seen from publisher `id`. */
  seen(id = 0): number {
    return this.next.get(id) ?? 0;
  }
}
