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
 * the previous run left; at most once per {@link RECLAIM_MIN_GAP_MS}. The pause is that of one
 * full compacting collection of what is still live (tens of ms at the sizes above).
 *
 * @module
 */
import { nodeBuiltin } from "../core/node_builtin.ts";

/** How often the RSS is compared with the live heap. */
const POLL_MS = 1_000;
/** Least time between two reclaiming collections. */
const RECLAIM_MIN_GAP_MS = 30_000;
/** Reclaim only when the RSS grew by this much since the previous run (or the start). */
const MIN_SLACK_BYTES = 32 * 1024 * 1024;
/** Least drop of the load figure (from its peak) worth a run. */
const MIN_LOAD_DROP = 1000;

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

/** A polling reclaimer; {@link MemoryReclaimer.stop} ends it (the timer never holds the process). */
export class MemoryReclaimer {
  #timer: ReturnType<typeof setInterval> | undefined;
  #last = -Infinity;
  /** RSS right after the previous run (or at start). */
  #floor = 0;
  /** Highest load seen since the previous run. */
  #peak = 0;
  /** Reclaiming collections run so far. */
  runs = 0;

  /**
   * `load` returns the current connections plus subscriptions; `rss` the resident set size in
   * bytes (tests pass their own).
   */
  constructor(
    private readonly load: () => number,
    private readonly rss: () => number = () => Deno.memoryUsage().rss,
  ) {}

  /** Starts polling. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#floor = this.rss();
    this.#timer = setInterval(() => this.check(), POLL_MS);
    Deno.unrefTimer(this.#timer);
  }

  /** One poll: collect when {@link reclaimDue} and the last run is long enough ago. */
  check(now = performance.now()): boolean {
    const load = this.load();
    if (load > this.#peak) this.#peak = load;
    if (now - this.#last < RECLAIM_MIN_GAP_MS) return false;
    if (!reclaimDue(load, this.#peak, this.rss(), this.#floor)) return false;
    const gc = engineGc();
    if (gc === null) return false;
    this.#last = now;
    this.runs++;
    gc({ type: "major", execution: "sync", flavor: "last-resort" });
    this.#floor = this.rss();
    this.#peak = load;
    return true;
  }

  /** Stops polling. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
