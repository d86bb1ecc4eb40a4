import { assert, assertEquals } from "../helpers/assert.ts";
import { growthReclaimDue, MemoryReclaimer, reclaimDue } from "../../lib/server/memory_reclaim.ts";

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

Deno.test("MemoryReclaimer collects once the load went away, then waits for the gap", () => {
  let load = 0;
  let rss = 100 * MiB;
  const r = new MemoryReclaimer(() => load, () => rss);
  r.start(); // floor: 100 MiB
  try {
    let junk: { a: number[]; s: Set<number> }[] | null = [];
    for (let i = 0; i < 200_000; i++) junk.push({ a: [i], s: new Set([i]) });
    load = 200_000;
    rss = 300 * MiB;
    assertEquals(r.check(), false, "load at its peak: nothing to do");
    junk = null;
    load = 0;
    const before = Deno.memoryUsage().heapUsed;
    assertEquals(r.check(), true, "load gone, RSS well above the floor");
    const after = Deno.memoryUsage().heapUsed;
    assert(after < before - 8 * MiB, `heap ${before / MiB} -> ${after / MiB} MiB`);
    assertEquals(r.check(), false, "at most once per gap");
    assertEquals(r.runs, 1);
  } finally {
    r.stop();
  }
});

Deno.test("growthReclaimDue: only once a rise of 1000+ settled and the RSS grew 32 MiB", () => {
  const cases: [
    load: number,
    base: number,
    settled: boolean,
    rssMiB: number,
    floorMiB: number,
    due: boolean,
  ][] = [
    [4000, 0, true, 140, 50, true],
    [4000, 0, false, 140, 50, false], // still changing, or traffic flowing
    [800, 0, true, 140, 50, false], // rise too small to matter
    [4000, 0, true, 70, 50, false], // little to give back
    [4000, 3500, true, 140, 50, false], // no rise since the previous run
  ];
  for (const [load, base, settled, rss, floor, due] of cases) {
    assertEquals(
      growthReclaimDue(load, base, settled, rss * MiB, floor * MiB),
      due,
      `${load}/${base} ${settled} ${rss}`,
    );
  }
});

Deno.test("MemoryReclaimer collects once a rise settled, and still after the load then fell", () => {
  let load = 0;
  let msgs = 0;
  let rss = 100 * MiB;
  const r = new MemoryReclaimer(() => load, () => rss, () => msgs);
  r.start(); // floor: 100 MiB, base 0
  try {
    load = 4000;
    rss = 200 * MiB;
    assertEquals(r.check(0), false, "the load just changed");
    msgs += 50_000;
    assertEquals(r.check(250), false, "unchanged load but traffic flowing");
    assertEquals(r.check(500), true, "settled: unchanged and quiet");
    assertEquals(r.runs, 1);
    assertEquals(r.check(750), false, "no rise since that run");
    load = 0;
    assertEquals(r.check(1000), true, "the drop gets its own run (RSS still above the floor)");
    assertEquals(r.runs, 2);
  } finally {
    r.stop();
  }
});
