/**
 * A connection's outbound queue: protocol bytes are appended to one growable buffer and handed to
 * the transport in a single write per turn of the event loop. While a write is in flight, new
 * bytes collect in a second buffer (double buffering), so writes never overlap.
 */

const INITIAL = 1024;
/**
 * Written {@link INITIAL}-size buffers of drained queues wait here for the next queue that needs
 * one, so an idle connection holds no outbound buffer (writes finish before a buffer is reused:
 * the transport contract lets the caller reuse its bytes once `write` resolved).
 */
const smallPool: Uint8Array[] = [];
/** How many small buffers the pool keeps; a queue keeps its own spare beyond that. */
const SMALL_POOL_KEEP = 64;
/** Buffers above this size are dropped when the queue drains, so idle connections stay small. */
const IDLE_KEEP_LIMIT = 64 * 1024;
/** While busy, buffers up to this size are swapped back and forth instead of reallocated. */
const BUSY_KEEP_LIMIT = 8 * 1024 * 1024;
/**
 * A large flush goes to the transport in pieces of at most this size, so progress (what the
 * write deadline and flow control watch) is seen while a slow reader takes it.
 */
export const WRITE_CHUNK = 512 * 1024;
/**
 * A buffer that holds this much is sealed (set aside for the next flush) instead of growing
 * further: a consumer with megabytes queued costs no large copies (nats-server keeps a list of
 * buffers too).
 */
export const SEAL_AT = 4 * 1024 * 1024;
/** How many written sealed buffers a queue keeps for reuse. */
const FREE_KEEP = 2;

/** Where the outbound queue sends its bytes and reports failures. */
export interface OutboundSink {
  write(data: Uint8Array): Promise<void>;
  /** A write failed (the transport is gone). */
  onWriteError(err: unknown): void;
  /**
   * A write finished: `pending` bytes are still queued or in flight; `flushed` is true when the
   * whole batch handed to the transport was written.
   */
  onProgress?(pending: number, flushed: boolean): void;
}

/** Append-only byte queue with coalesced, non-overlapping flushes. */
export class Outbound {
  /** Bytes waiting to be written. */
  buf: Uint8Array = EMPTY;
  len = 0;
  private spare: Uint8Array = EMPTY;
  /** Full buffers waiting, in order, before `buf` (null until the first seal). */
  private sealed: Uint8Array[] | null = null;
  private sealedLen = 0;
  /** Written sealed buffers kept for reuse (a lagging consumer would churn them otherwise). */
  private free: Uint8Array[] | null = null;
  private inflightLen = 0;
  private scheduled = false;
  /**
   * performance.now() when the in-flight write started or last made progress (a piece of
   * {@link WRITE_CHUNK} was taken), 0 when idle.
   */
  writeStartedAt = 0;
  private closed = false;
  /** Resolvers waiting for the queue to drain (null while none waits). */
  private drainWaiters: (() => void)[] | null = null;

  constructor(private readonly sink: OutboundSink) {}

  /** Bytes queued or in flight (what max_pending bounds). */
  get pending(): number {
    return this.len + this.sealedLen + this.inflightLen;
  }

  /** Makes room for `n` more bytes; returns the buffer to write into at `this.len`. */
  reserve(n: number): Uint8Array {
    const need = this.len + n;
    if (need > this.buf.length) {
      if (this.len >= SEAL_AT) {
        (this.sealed ??= []).push(this.buf.subarray(0, this.len));
        this.sealedLen += this.len;
        const free = this.free;
        const reuse = free !== null && free.length > 0 && free[free.length - 1].length >= n;
        this.buf = reuse ? free.pop()! : new Uint8Array(Math.max(SEAL_AT + SEAL_AT / 4, n));
        this.len = 0;
        return this.buf;
      }
      let cap = Math.max(INITIAL, this.buf.length * 2);
      while (cap < need) cap *= 2;
      let next: Uint8Array;
      if (this.spare.length >= need) {
        next = this.spare;
        this.spare = EMPTY;
      } else if (cap === INITIAL && smallPool.length > 0) {
        next = smallPool.pop()!;
      } else {
        next = new Uint8Array(cap);
      }
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    return this.buf;
  }

  /** Appends bytes and schedules a flush. */
  push(bytes: Uint8Array): void {
    this.reserve(bytes.length).set(bytes, this.len);
    this.len += bytes.length;
    this.schedule();
  }

  /** Schedules one flush for the end of the current turn. */
  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    queueMicrotask(this.flushNow);
  }

  /** Resolves when everything queued so far has been written (or the queue closed). */
  drained(): Promise<void> {
    if (this.pending === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => (this.drainWaiters ??= []).push(resolve));
  }

  /** Stops writing; pending bytes are discarded. */
  close(): void {
    this.closed = true;
    this.len = 0;
    this.buf = EMPTY;
    this.sealed = null;
    this.sealedLen = 0;
    this.free = null;
    this.spare = EMPTY;
    this.wakeDrainWaiters();
  }

  private readonly flushNow = (): void => {
    this.scheduled = false;
    if (this.closed || this.inflightLen > 0 || this.pending === 0) return;
    const pieces = this.sealed ?? [];
    if (this.len > 0) pieces.push(this.buf.subarray(0, this.len));
    this.inflightLen = this.len + this.sealedLen;
    this.sealed = null;
    this.sealedLen = 0;
    // Swap buffers: new bytes go to the spare while this one is being written.
    const written = this.buf;
    this.buf = this.spare;
    this.spare = EMPTY;
    this.len = 0;
    this.writeStartedAt = performance.now();
    this.writeFrom(pieces, 0, 0, written);
  };

  /** Writes `pieces[i]` from `off` on, one piece at a time, then finishes the flush. */
  private writeFrom(pieces: Uint8Array[], i: number, off: number, written: Uint8Array): void {
    const data = pieces[i];
    const end = data.length - off > WRITE_CHUNK ? off + WRITE_CHUNK : data.length;
    const piece = off === 0 && end === data.length ? data : data.subarray(off, end);
    this.sink.write(piece).then(() => {
      if (this.closed) {
        this.inflightLen = 0;
        this.writeStartedAt = 0;
        return;
      }
      this.inflightLen -= piece.length;
      if (end === data.length && i + 1 < pieces.length && (this.free?.length ?? 0) < FREE_KEEP) {
        // A sealed buffer, all written (the last piece is the swapped `written` buffer).
        (this.free ??= []).push(new Uint8Array(data.buffer));
      }
      if (end < data.length || i + 1 < pieces.length) {
        this.writeStartedAt = performance.now();
        this.sink.onProgress?.(this.pending, false);
        if (this.closed) return;
        if (end < data.length) this.writeFrom(pieces, i, end, written);
        else this.writeFrom(pieces, i + 1, 0, written);
        return;
      }
      this.inflightLen = 0;
      this.writeStartedAt = 0;
      this.sink.onProgress?.(this.pending, true);
      if (this.closed) return;
      if (this.pending > 0) {
        if (written.length <= BUSY_KEEP_LIMIT) this.spare = written;
        this.flushNow();
      } else {
        if (written.length === INITIAL && smallPool.length < SMALL_POOL_KEEP) {
          smallPool.push(written);
        } else if (written.length <= IDLE_KEEP_LIMIT) this.spare = written;
        if (this.buf.length > IDLE_KEEP_LIMIT) this.buf = EMPTY;
        this.wakeDrainWaiters();
      }
    }, (err) => {
      this.inflightLen = 0;
      this.writeStartedAt = 0;
      if (!this.closed) this.sink.onWriteError(err);
    });
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    if (waiters === null) return;
    this.drainWaiters = null;
    for (const w of waiters) w();
  }
}

const EMPTY = new Uint8Array(0);
