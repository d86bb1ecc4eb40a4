/**
 * A raw NATS client for load generation: one read loop into a large reusable buffer feeding a
 * `ProtoReader`, serialized writes, and promise-based waits on PONG / message counts with
 * timeouts. No subscription bookkeeping, no string decoding in the hot path.
 */
import type { ByteStream, Dialer } from "./stream.ts";
import { connectLine, PING, PONG, ProtoReader } from "./proto.ts";

interface Waiter {
  kind: "pong" | "msgs";
  target: number;
  resolve: (ok: boolean) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

export interface ClientOptions {
  /** Connection name sent in CONNECT. */
  name: string;
  /** Size of the reusable read buffer (default 256 KiB). */
  readBufSize?: number;
  /** Keep reply subjects of MSGs and call `onMsg` (for responders). */
  onMsg?: (reply: Uint8Array | null) => void;
  /** Handshake timeout (default 5 s). */
  timeoutMs?: number;
  /** Protocol bytes sent after CONNECT and before the handshake PING (e.g. a SUB). */
  afterConnect?: Uint8Array;
  /** Read slowly: sleep `ms` after every `every` messages (a consumer that reads, but lags). */
  pace?: { every: number; ms: number };
}

export class RawClient {
  readonly reader: ProtoReader;
  /** PINGs written (including those embedded in pre-built batches, via `countPing`). */
  pingsSent = 0;
  closed = false;
  /** First -ERR seen, or a socket error. */
  error: string | null = null;
  /** performance.now() of the last read that returned bytes. */
  lastReadAt = 0;

  #buf: Uint8Array;
  #waiters: Waiter[] = [];
  #wq: Promise<void> = Promise.resolve();
  #loopDone: Promise<void>;
  readonly #pace: { every: number; ms: number } | undefined;

  private constructor(readonly stream: ByteStream, opts: ClientOptions) {
    this.#pace = opts.pace;
    this.#buf = new Uint8Array(opts.readBufSize ?? 256 * 1024);
    this.reader = new ProtoReader({
      onMsg: opts.onMsg,
      onPing: () => void this.write(PONG).catch(() => {}),
      onPong: () => {},
      onErr: (text) => {
        if (this.error === null) this.error = text;
      },
    }, opts.onMsg !== undefined);
    this.#loopDone = this.#loop();
  }

  /** Dial, send CONNECT + PING and wait for the PONG. */
  static async open(dial: Dialer, opts: ClientOptions): Promise<RawClient> {
    const stream = await dial();
    const c = new RawClient(stream, opts);
    await c.write(connectLine(opts.name));
    if (opts.afterConnect) await c.write(opts.afterConnect);
    const ok = await c.ping(opts.timeoutMs ?? 5000);
    if (!ok) {
      const why = c.error ?? "no PONG after CONNECT";
      c.close();
      throw new Error(`handshake failed: ${why}`);
    }
    return c;
  }

  async #loop(): Promise<void> {
    const buf = this.#buf;
    const reader = this.reader;
    try {
      // Ends when the stream ends or errors (close() makes read throw).
      while (true) {
        const n = await this.stream.read(buf);
        if (n === null) break;
        this.lastReadAt = performance.now();
        const before = reader.msgs;
        reader.feed(buf.subarray(0, n));
        if (this.#waiters.length > 0) this.#check();
        const pace = this.#pace;
        if (pace) {
          const pauses = Math.floor(reader.msgs / pace.every) - Math.floor(before / pace.every);
          if (pauses > 0) await new Promise((r) => setTimeout(r, pauses * pace.ms));
        }
      }
    } catch (e) {
      if (!this.closed && this.error === null) this.error = String(e);
    } finally {
      this.closed = true;
      this.stream.close();
      const ws = this.#waiters;
      this.#waiters = [];
      for (const w of ws) {
        clearTimeout(w.timer);
        w.resolve(false);
      }
    }
  }

  #check(): void {
    const r = this.reader;
    const keep: Waiter[] = [];
    for (const w of this.#waiters) {
      const have = w.kind === "pong" ? r.pongs : r.msgs;
      if (have >= w.target) {
        clearTimeout(w.timer);
        w.resolve(true);
      } else keep.push(w);
    }
    this.#waiters = keep;
  }

  #wait(kind: "pong" | "msgs", target: number, timeoutMs: number): Promise<boolean> {
    const have = kind === "pong" ? this.reader.pongs : this.reader.msgs;
    if (have >= target) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const w: Waiter = { kind, target, resolve, timer: undefined };
      if (Number.isFinite(timeoutMs)) {
        w.timer = setTimeout(() => {
          this.#waiters = this.#waiters.filter((x) => x !== w);
          resolve(false);
        }, Math.max(0, timeoutMs));
      }
      this.#waiters.push(w);
    });
  }

  /** Serialized write of protocol bytes (safe against the PONG auto-reply). */
  write(data: Uint8Array): Promise<void> {
    const p = this.#wq.then(() => this.stream.writeAll(data));
    this.#wq = p.catch(() => {});
    return p;
  }

  /** Serialized write of bytes from `stream.prepare`. */
  writePrepared(wire: Uint8Array): Promise<void> {
    const p = this.#wq.then(() => this.stream.writePrepared(wire));
    this.#wq = p.catch(() => {});
    return p;
  }

  /** Record that a PING went out inside a pre-built buffer. */
  countPing(): void {
    this.pingsSent++;
  }

  /** Send PING and wait for its PONG. */
  async ping(timeoutMs: number): Promise<boolean> {
    this.pingsSent++;
    const target = this.pingsSent;
    await this.write(PING);
    return this.#wait("pong", target, timeoutMs);
  }

  /** Wait until at least `target` PONGs arrived in total. */
  waitPongs(target: number, timeoutMs: number): Promise<boolean> {
    return this.#wait("pong", target, timeoutMs);
  }

  /**
   * Wait until at least `target` messages arrived in total. With `timeoutMs` = Infinity no timer
   * is armed (latency loops use a watchdog that closes the client instead).
   */
  waitMsgs(target: number, timeoutMs: number): Promise<boolean> {
    return this.#wait("msgs", target, timeoutMs);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stream.close();
  }

  /** Close and wait for the read loop to finish. */
  async shutdown(): Promise<void> {
    this.close();
    await this.#loopDone;
  }
}
