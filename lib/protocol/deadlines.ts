/**
 * Many deadlines on one timer: a binary min-heap of items ordered by their due time, with a
 * single `setTimeout` armed for the earliest. Each connection's ping timer is such an item: a
 * `setTimeout` per connection costs a timer object of its own (about 0.7 KiB in Deno 2.9, measured
 * with 2,000 idle connections), which is a noticeable share of an idle connection's memory.
 *
 * The timer is cleared when the heap empties, so an idle process without connections holds no
 * timer (embedders' and tests' resource checks see none).
 *
 * @module
 */

/** Something with one deadline at a time, fired once when it is due. */
export interface DeadlineItem {
  /** Due time (performance.now() milliseconds); managed by the queue. */
  deadlineAt: number;
  /** Position in the heap, -1 when not scheduled; managed by the queue. */
  deadlineSlot: number;
  /** Called once when the deadline passed (the item is no longer scheduled). */
  deadlineFired(): void;
}

/** A min-heap of deadlines driving one timer. */
export class DeadlineQueue {
  readonly #heap: DeadlineItem[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The due time the timer is armed for (Infinity: not armed). */
  #armedAt = Infinity;

  /** Number of scheduled items. */
  get size(): number {
    return this.#heap.length;
  }

  /** Schedules (or moves) `item` to fire `ms` from now. */
  schedule(item: DeadlineItem, ms: number): void {
    const at = performance.now() + Math.max(0, ms);
    if (item.deadlineSlot >= 0) {
      const old = item.deadlineAt;
      item.deadlineAt = at;
      if (at < old) this.#up(item.deadlineSlot);
      else this.#down(item.deadlineSlot);
    } else {
      item.deadlineAt = at;
      item.deadlineSlot = this.#heap.length;
      this.#heap.push(item);
      this.#up(item.deadlineSlot);
    }
    this.#arm();
  }

  /** Unschedules `item` (nothing happens when it is not scheduled). */
  cancel(item: DeadlineItem): void {
    const i = item.deadlineSlot;
    if (i < 0) return;
    this.#removeAt(i);
    this.#arm();
  }

  #removeAt(i: number): void {
    const heap = this.#heap;
    const item = heap[i];
    const last = heap.pop()!;
    item.deadlineSlot = -1;
    if (last !== item) {
      heap[i] = last;
      last.deadlineSlot = i;
      this.#up(i);
      this.#down(last.deadlineSlot);
    }
  }

  #arm(): void {
    const first = this.#heap[0];
    const at = first ? first.deadlineAt : Infinity;
    if (at === this.#armedAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = at;
    if (at === Infinity) return;
    this.#timer = setTimeout(this.#fire, Math.max(0, at - performance.now()));
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    this.#armedAt = Infinity;
    const now = performance.now();
    // Items fired here may schedule again; those are due later than now, so the loop ends.
    while (this.#heap.length > 0 && this.#heap[0].deadlineAt <= now) {
      const item = this.#heap[0];
      this.#removeAt(0);
      try {
        item.deadlineFired();
      } catch (err) {
        // One item's failure must not stop the others' deadlines.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
    this.#arm();
  };

  #up(i: number): void {
    const heap = this.#heap;
    const item = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (parent.deadlineAt <= item.deadlineAt) break;
      heap[i] = parent;
      parent.deadlineSlot = i;
      i = p;
    }
    heap[i] = item;
    item.deadlineSlot = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const item = heap[i];
    while (true) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && heap[r].deadlineAt < heap[l].deadlineAt ? r : l;
      if (heap[c].deadlineAt >= item.deadlineAt) break;
      heap[i] = heap[c];
      heap[i].deadlineSlot = i;
      i = c;
    }
    heap[i] = item;
    item.deadlineSlot = i;
  }
}

/** The process-wide queue the connections' ping timers share. */
export const pingDeadlines: DeadlineQueue = new DeadlineQueue();
