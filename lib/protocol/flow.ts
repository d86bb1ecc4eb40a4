/**
 * Flow control between producers and the consumers they fill, for one event loop.
 *
 * The reference (nats-server 2.9.10) blocks a publisher's read loop while a consumer it delivers
 * to has more than half of `max_pending` queued, until that consumer's writes catch up or a
 * stall of 100 ms – 1 s runs out. One thread cannot block, so here the publisher's input is
 * paused instead: its parser stops after the message that filled the consumer, the rest of its
 * input is held, and its transport stops reading (TCP then pushes back on the client). The
 * consumer's write progress resumes every producer waiting on it; the stall timer resumes a
 * producer anyway, as the reference's `stalledWait` times out. Only a consumer whose writes make
 * no progress for `write_deadline`, or whose queue passes `max_pending` regardless, is cut.
 *
 * The producer is the message's origin: delivery hands it to {@link Flow.filling}.
 *
 * @module
 */

/** The reference's shortest stall of a fast producer (`stallClientMinDuration`). */
export const STALL_MIN_MS = 100;
/** The reference's longest stall (`stallClientMaxDuration`). */
export const STALL_MAX_MS = 1000;

/**
 * How long a producer stalls for a consumer with `pending` of `maxPending` bytes queued: 100 ms
 * at half of `maxPending`, 100 ms more per further tenth of that half, 1 s at the limit.
 */
export function stallDurationMs(pending: number, maxPending: number): number {
  if (pending >= maxPending) return STALL_MAX_MS;
  const half = Math.floor(maxPending / 2);
  if (pending <= half) return STALL_MIN_MS;
  const step = Math.max(1, Math.floor(half / 10));
  return STALL_MIN_MS * (1 + Math.floor((pending - half) / step));
}

/**
 * Go's `time.Duration` text for a whole number of milliseconds (`100ms`, `1.5s`, `1m30s`), as
 * the stall and write-deadline log lines print durations.
 */
export function goDurationMs(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = `${(ms % 60_000) / 1000}s`;
  if (h > 0) return `${h}h${m}m${s}`;
  return m > 0 ? `${m}m${s}` : s;
}

/** What a connection offers to its {@link Flow}. */
export interface FlowHost {
  /** Stop parsing after the current op (the rest of the input is held). */
  pauseInput(): void;
  /** Continue with held input; called when a pause ends. Returns true when it paused again. */
  resumeInput(): boolean;
  /** A debug log line about this connection (only called when debug logging is on). */
  debug(text: string): void;
  readonly debugEnabled: boolean;
}

/**
 * One connection's flow state, in both roles: as a consumer it knows the producers paused on it;
 * as a producer it knows the consumers it waits for, its stall timer and the promise its
 * transport waits on before reading again.
 */
export class Flow {
  /** As consumer: producers paused until this connection drains (null when none). */
  private waiters: Set<Flow> | null = null;
  /** As producer: consumers this connection waits for (null when not paused). */
  private blockers: Set<Flow> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stallMs = 0;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  private disposed = false;

  constructor(private readonly host: FlowHost) {}

  /** Whether this connection's input is paused. */
  get paused(): boolean {
    return this.blockers !== null;
  }

  /** Whether producers wait on this connection (it is a stalled consumer). */
  get stalling(): boolean {
    return this.waiters !== null;
  }

  /** What the transport awaits before reading again (null when not paused). */
  readGate(): Promise<void> | null {
    if (this.blockers === null) return null;
    if (this.gate === null) this.gate = new Promise((resolve) => this.openGate = resolve);
    return this.gate;
  }

  /**
   * As consumer: a message from `producer` was queued and `pending` is over half of
   * `maxPending`. Pauses the producer until this connection's writes catch up.
   */
  filling(pending: number, maxPending: number, producer: Flow): void {
    if (producer.disposed || this.disposed) return;
    if (producer.blockers?.has(this)) return;
    (this.waiters ??= new Set()).add(producer);
    producer.pauseFor(this, stallDurationMs(pending, maxPending));
  }

  /**
   * As consumer: a write finished. `idle` is true when everything queued was written. Releases
   * the waiting producers once the queue is back under half of `maxPending` (or empty).
   */
  progressed(pending: number, maxPending: number, idle: boolean): void {
    const waiters = this.waiters;
    if (waiters === null || (!idle && pending >= maxPending / 2)) return;
    this.waiters = null;
    for (const p of waiters) p.release(this);
  }

  /** The connection closed: waiting producers go on, and this one stops waiting. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const waiters = this.waiters;
    this.waiters = null;
    if (waiters) { for (const p of waiters) p.release(this); }
    this.detach();
    this.openTheGate();
  }

  private pauseFor(consumer: Flow, ms: number): void {
    if (this.blockers === null) {
      this.blockers = new Set();
      this.stallMs = ms;
      this.timer = setTimeout(() => this.timedOut(), ms);
      this.host.pauseInput();
    }
    this.blockers.add(consumer);
  }

  private release(consumer: Flow): void {
    const b = this.blockers;
    if (b === null || !b.delete(consumer) || b.size > 0) return;
    this.resume();
  }

  private timedOut(): void {
    this.timer = undefined;
    if (this.blockers === null) return;
    if (this.host.debugEnabled) {
      this.host.debug(`Timed out of fast producer stall (${goDurationMs(this.stallMs)})`);
    }
    this.detach();
    this.resume();
  }

  /** Leaves every consumer this producer waits on. */
  private detach(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const b = this.blockers;
    this.blockers = null;
    if (b) { for (const c of b) c.waiters?.delete(this); }
  }

  private resume(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.blockers = null;
    if (this.disposed) return this.openTheGate();
    // Held input may pause this producer again; the transport keeps waiting then.
    if (!this.host.resumeInput()) this.openTheGate();
  }

  private openTheGate(): void {
    const open = this.openGate;
    this.gate = null;
    this.openGate = null;
    open?.();
  }
}
