/**
 * The shared deadline queue behind the connections' ping timers: order, moving and cancelling
 * items, re-scheduling from inside a firing, and no timer left once the heap is empty.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { type DeadlineItem, DeadlineQueue } from "../../lib/protocol/deadlines.ts";

class Item implements DeadlineItem {
  deadlineAt = 0;
  deadlineSlot = -1;
  constructor(readonly name: string, readonly onFire: (it: Item) => void) {}
  deadlineFired(): void {
    this.onFire(this);
  }
}

/** Resolves once `fired` holds `n` names (bounded: rejects after `ms`). */
function waitFor(fired: string[], n: number, ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (fired.length >= n) return resolve();
      if (performance.now() > end) return reject(new Error(`only ${fired} fired`));
      setTimeout(check, 5);
    };
    check();
  });
}

Deno.test("deadlines: items fire once each, earliest first, whatever the order they were added in", async () => {
  const q = new DeadlineQueue();
  const fired: string[] = [];
  const delays = [60, 10, 40, 30, 50, 20, 0, 70];
  const items = delays.map((d) => new Item(`d${d}`, (it) => fired.push(it.name)));
  items.forEach((it, i) => q.schedule(it, delays[i]));
  assertEquals(q.size, delays.length);
  await waitFor(fired, delays.length);
  assertEquals(fired, [...delays].sort((a, b) => a - b).map((d) => `d${d}`));
  assertEquals(q.size, 0);
  assert(items.every((it) => it.deadlineSlot === -1));
});

Deno.test("deadlines: moving an item later or earlier and cancelling one are honoured", async () => {
  const q = new DeadlineQueue();
  const fired: string[] = [];
  const push = (it: Item) => fired.push(it.name);
  const a = new Item("a", push), b = new Item("b", push), c = new Item("c", push);
  q.schedule(a, 10);
  q.schedule(b, 20);
  q.schedule(c, 30);
  q.schedule(a, 60); // later
  q.schedule(c, 0); // earlier
  q.cancel(b);
  q.cancel(b); // twice is harmless
  await waitFor(fired, 2);
  assertEquals(fired, ["c", "a"]);
  assertEquals(q.size, 0);
});

Deno.test("deadlines: an item re-scheduled while firing fires again; the timer ends with the heap", async () => {
  const q = new DeadlineQueue();
  const fired: string[] = [];
  let rounds = 0;
  const it = new Item("tick", (self) => {
    fired.push(`${self.name}${rounds}`);
    if (++rounds < 3) q.schedule(self, 5);
  });
  q.schedule(it, 5);
  await waitFor(fired, 3);
  assertEquals(fired, ["tick0", "tick1", "tick2"]);
  assertEquals(q.size, 0);
  // Deno.test's resource sanitizer fails the test if a timer were still armed here.
});
