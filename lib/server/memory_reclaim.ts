/**
 * Gives memory back to the OS after load went away.
 *
 * V8's regular collections free objects but keep the emptied heap pages resident: after 100 000
 * subscriptions were removed the live heap is back at a few MB while the RSS stays at its peak
 * (measured: heapUsed 130 → 7 MB, RSS 272 → 284 MB; nats-server's Go scavenger returns it). A
 * memory-reducing ("last resort") collection compacts and releases those pages (RSS 284 → ~55 MB
 * in the same experiment). It is only reachable through the `gc` function, which
 * `--expose-gc` gives to new contexts, so the flag is set at run time through `node:v8`.
 *
 * The reclaimer polls a load figure (connections plus subscriptions, given by the server) and
 * runs that collection when the load fell to less than half of its peak since the previous run,
 * by at least {@link MIN_LOAD_DROP}, and the RSS is at least {@link MIN_SLACK_BYTES} above what
 * the previous such run left; at most once per {@link RECLAIM_MIN_GAP_MS}. The pause is that of
 * one full compacting collection of what is still live (tens of ms at the sizes above).
 *
 * It also runs once a rise settles ({@link growthReclaimDue}): objects that survive young
 * collections make V8 double its young generation up to 2 × 16 MiB, and it keeps that size
 * however quiet the process becomes (measured: +28 MiB of new space for 2000 idle WebSocket
 * connections, 14 KiB per connection, still there 15 s later). Only a memory-reducing
 * collection shrinks it. The load must have grown by {@link MIN_LOAD_DROP} or more since the
 * previous run, held still over the last poll with at most {@link QUIET_MSGS} messages moving,
 * and the RSS be {@link MIN_SLACK_BYTES} above what the previous run left; at most once per
 * {@link RECLAIM_MIN_GAP_MS} too (each rule has its own gap, so a rise followed by a drop gets
 * both runs).
 *
 * @module
 */
import { nodeBuiltin } from "../core/node_builtin.ts";

/** How often the load is polled (a settled rise is seen within two polls). */
const POLL_MS = 250;
/** Least time between two reclaiming collections. */
const RECLAIM_MIN_GAP_MS = 30_000;
/** Reclaim only when the RSS grew by this much since the previous run (or the start). */
const MIN_SLACK_BYTES = 32 * 1024 * 1024;
/** Least drop (from its peak) or rise (from the previous run) of the load figure worth a run. */
const MIN_LOAD_DROP = 1000;
/** At most this many messages in and out during the last poll for a settled rise. */
const QUIET_MSGS = 1000;

type GcFn = (opts: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

let gcFn: GcFn | null | undefined;

/** The engine's `gc` (memory-reducing flavour), or null where it cannot be had. */
function engineGc(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  try {
    nodeBuiltin("node:v8").setFlagsFromString("--expose-gc");
    const f = nodeBuiltin("node:vm").runInNewContext("gc");
    gcFn = typeof f === "function" ? f as GcFn : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/**
 * Whether a reclaiming collection is due: the load fell below half its peak (by MIN_LOAD_DROP or
 * more) and the RSS is MIN_SLACK_BYTES above the floor the previous run left.
 */
export function reclaimDue(load: number, peak: number, rss: number, floor: number): boolean {
  return peak - load >= MIN_LOAD_DROP && load * 2 < peak && rss > floor + MIN_SLACK_BYTES;
}

/**
 * Whether a reclaiming collection is due after a rise: the load grew by MIN_LOAD_DROP or more
 * from `base` (its value after the previous run), it is `settled` (unchanged over the last poll,
 * traffic quiet) and the RSS is MIN_SLACK_BYTES above the floor the previous run left.
 */
export function growthReclaimDue(
  load: number,
  base: number,
  settled: boolean,
  rss: number,
  floor: number,
): boolean {
  return settled && load - base >= MIN_LOAD_DROP && rss > floor + MIN_SLACK_BYTES;
}

/** A polling reclaimer; {@link MemoryReclaimer.stop} ends it (the timer never holds the process). */
export class MemoryReclaimer {
  #timer: ReturnType<typeof setInterval> | undefined;
  /** When the last run after a drop / after a rise happened. */
  #lastDrop = -Infinity;
  #lastRise = -Infinity;
  /** RSS right after the previous run after a drop (or at start). */
  #floor = 0;
  /** RSS right after the previous run of either kind (or at start). */
  #riseFloor = 0;
  /** Highest load seen since the previous run. */
  #peak = 0;
  /** The load after the previous run (or at start). */
  #base = 0;
  /** Load and message count at the previous poll. */
  #prevLoad = -1;
  #prevMsgs = 0;
  /** Reclaiming collections run so far. */
  runs = 0;

  /**
   * `load` returns the current connections plus subscriptions; `rss` the resident set size in
   * bytes (tests pass their own); `msgs` a count of messages in plus out so far.
   */
  constructor(
    private readonly load: () => number,
    private readonly rss: () => number = () => Deno.memoryUsage().rss,
    private readonly msgs: () => number = () => 0,
  ) {}

  /** Starts polling. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#floor = this.#riseFloor = this.rss();
    this.#base = this.#prevLoad = this.load();
    this.#prevMsgs = this.msgs();
    this.#timer = setInterval(() => this.check(), POLL_MS);
    Deno.unrefTimer(this.#timer);
  }

  /**
   * One poll: collect when {@link reclaimDue} or {@link growthReclaimDue} and the last run of
   * that kind is long enough ago.
   */
  check(now = performance.now()): boolean {
    const load = this.load();
    const msgs = this.msgs();
    const settled = load === this.#prevLoad && msgs - this.#prevMsgs <= QUIET_MSGS;
    this.#prevLoad = load;
    this.#prevMsgs = msgs;
    if (load > this.#peak) this.#peak = load;
    const dropOk = now - this.#lastDrop >= RECLAIM_MIN_GAP_MS;
    const riseOk = now - this.#lastRise >= RECLAIM_MIN_GAP_MS;
    if (!dropOk && !riseOk) return false;
    const rss = this.rss();
    const afterDrop = dropOk && reclaimDue(load, this.#peak, rss, this.#floor);
    if (
      !afterDrop && !(riseOk && growthReclaimDue(load, this.#base, settled, rss, this.#riseFloor))
    ) {
      return false;
    }
    const gc = engineGc();
    if (gc === null) return false;
    if (afterDrop) this.#lastDrop = now;
    else this.#lastRise = now;
    this.runs++;
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    this.#riseFloor = this.rss();
    if (afterDrop) this.#floor = this.#riseFloor;
    this.#peak = this.#base = load;
    return true;
  }

  /** Stops polling. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
