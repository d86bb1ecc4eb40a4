import assert from "node:assert/strict";
import { pickQueueMember } from "../../lib/routing/mod.ts";

Deno.test("pickQueueMember: empty group", () => {
  assert.equal(pickQueueMember([]), undefined);
  assert.equal(pickQueueMember([], Math.random, () => false), undefined);
});

Deno.test("pickQueueMember: single member does not consult random", () => {
  let calls = 0;
  const random = () => {
    calls++;
    return 0.5;
  };
  assert.equal(pickQueueMember(["a"], random), "a");
  assert.equal(calls, 0);
});

Deno.test("pickQueueMember: start index comes from random", () => {
  const members = ["a", "b", "c", "d"];
  // [random value, expected pick]
  const cases: [number, string][] = [
    [0, "a"],
    [0.24, "a"],
    [0.25, "b"],
    [0.5, "c"],
    [0.99, "d"],
    // A broken random source never yields an out-of-range index.
    [1, "a"],
    [-0.5, "a"],
    [Number.NaN, "a"],
  ];
  for (const [r, want] of cases) {
    assert.equal(pickQueueMember(members, () => r), want, `random ${r}`);
  }
});

Deno.test("pickQueueMember: skip moves on and wraps around", () => {
  const members = ["a", "b", "c", "d"];
  // Start at "c"; skip "c" and "d" → wraps to "a".
  assert.equal(pickQueueMember(members, () => 0.5, (m) => m === "c" || m === "d"), "a");
  // Start at "d"; skip "d" → "a".
  assert.equal(pickQueueMember(members, () => 0.9, (m) => m === "d"), "a");
  // Start at "a"; skip nothing → "a".
  assert.equal(pickQueueMember(members, () => 0, () => false), "a");
  // Everyone skipped.
  const seen: string[] = [];
  const none = pickQueueMember(members, () => 0.5, (m) => {
    seen.push(m);
    return true;
  });
  assert.equal(none, undefined);
  assert.deepEqual(seen, ["c", "d", "a", "b"], "each member tried once, in ring order");
});

Deno.test("pickQueueMember: default random spreads over all members", () => {
  const members = ["a", "b", "c"];
  const counts = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const m = pickQueueMember(members)!;
    counts.set(m, (counts.get(m) ?? 0) + 1);
  }
  for (const m of members) assert.ok((counts.get(m) ?? 0) > 700, `${m}: ${counts.get(m)}`);
});
