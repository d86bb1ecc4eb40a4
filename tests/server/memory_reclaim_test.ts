import { assert, assertEquals } from "../helpers/assert.ts";
import { MemoryReclaimer, reclaimDue } from "../../lib/server/memory_reclaim.ts";

const MiB = 1024 * 1024;

Deno.test("reclaimDue: only after the load halved (by 1000+) and the RSS grew 32 MiB", () => {
  const cases: [load: number, peak: number, rssMiB: number, floorMiB: number, due: boolean][] = [
    [0, 100_000, 280, 50, true],
    [60_000, 100_000, 280, 50, false], // load still above half its peak
    [0, 500, 280, 50, false], // drop too small to matter
    [0, 100_000, 70, 50, false], // little to give back
    [10, 10, 280, 50, false], // steady load
  ];
  for (const [load, peak, rss, floor, due] of cases) {
    assertEquals(reclaimDue(load, peak, rss * MiB, floor * MiB), due, `${load}/${peak} ${rss}`);
  }
});

Deno.test("MemoryReclaimer gives emptied heap pages back once the load went away", () => {
  let load = 0;
  const r = new MemoryReclaimer(() => load);
  r.start();
  try {
    let junk: { a: number[]; s: Set<number> }[] | null = [];
    for (let i = 0; i < 300_000; i++) junk.push({ a: [i], s: new Set([i]) });
    load = 300_000;
    assertEquals(r.check(), false, "load at its peak: nothing to do");
    junk = null;
    load = 0;
    const before = Deno.memoryUsage().rss;
    assertEquals(r.check(), true, "load gone, RSS well above the floor");
    const after = Deno.memoryUsage().rss;
    assert(after < before - 32 * MiB, `RSS ${before / MiB} -> ${after / MiB} MiB`);
    assertEquals(r.check(), false, "at most once per gap");
    assertEquals(r.runs, 1);
  } finally {
    r.stop();
  }
});
