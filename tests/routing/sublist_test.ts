import assert from "node:assert/strict";
import { type MatchResult, Sublist, type Subscription } from "../../lib/routing/mod.ts";

interface TSub extends Subscription {
  readonly id: number;
}

let nextId = 0;
function sub(subject: string, queue?: string): TSub {
  return queue === undefined ? { subject, id: nextId++ } : { subject, queue, id: nextId++ };
}

/** Run a test body against a cached and an uncached sublist (as the reference does). */
function both(name: string, fn: (s: Sublist<TSub>) => void): void {
  Deno.test(`sublist: ${name}`, () => fn(new Sublist<TSub>()));
  Deno.test(`sublist (no cache): ${name}`, () => fn(new Sublist<TSub>({ cacheMax: 0 })));
}

function sortedIds(subs: readonly TSub[]): number[] {
  return subs.map((s) => s.id).sort((a, b) => a - b);
}

/** Plain subs as sorted ids. */
function plainIds(r: MatchResult<TSub>): number[] {
  return sortedIds(r.plain);
}

/** Queue groups as { queueName: sorted ids }, asserting each group is homogeneous. */
function groups(r: MatchResult<TSub>): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const g of r.queues) {
    assert.ok(g.length > 0, "empty queue group in result");
    const q = g[0].queue!;
    for (const m of g) assert.equal(m.queue, q, "mixed queue group");
    assert.equal(out[q], undefined, `queue ${q} appears in two groups`);
    out[q] = sortedIds(g);
  }
  return out;
}

both("empty sublist", (s) => {
  assert.equal(s.count, 0);
  assert.equal(s.nodeCount, 0);
  const r = s.match("foo");
  assert.deepEqual(r.plain, []);
  assert.deepEqual(r.queues, []);
});

both("insert count", (s) => {
  s.insert(sub("foo"));
  s.insert(sub("bar"));
  s.insert(sub("foo.bar"));
  assert.equal(s.count, 3);
});

both("inserting the same object twice is a no-op", (s) => {
  const a = sub("foo");
  const q = sub("foo", "q");
  s.insert(a);
  s.insert(a);
  s.insert(q);
  s.insert(q);
  assert.equal(s.count, 2);
  assert.equal(s.match("foo").plain.length, 1);
  assert.equal(s.match("foo").queues[0].length, 1);
});

both("invalid subjects are rejected by insert without side effects", (s) => {
  for (const subject of [".foo", "foo.", "foo..bar", "foo.bar..baz", "foo.>.bar", ">.a", ""]) {
    assert.throws(() => s.insert(sub(subject)), TypeError, subject);
    assert.equal(s.remove(sub(subject)), false);
  }
  assert.equal(s.count, 0);
  assert.equal(s.nodeCount, 0);
});

// [pattern, subject, matches]: driven through the trie, alone in the sublist.
const TRIE_MATCHES: [string, string, boolean][] = [
  ["foo", "foo", true],
  ["foo.bar.baz", "foo.bar.baz", true],
  ["foo", "foo.bar", false],
  ["foo.bar", "foo", false],
  [">", "a", true],
  [">", "a.b", true],
  [">", "a.b.c", true],
  ["a.>", "a", false],
  ["a.>", "a.b", true],
  ["a.>", "a.b.c.d", true],
  ["*", "a", true],
  ["*", "a.b", false],
  ["a.*", "a", false],
  ["a.*", "a.b", true],
  ["a.*", "a.b.c", false],
  ["*.*", "a.b", true],
  ["a.*.c", "a.b.c", true],
  ["a.*.c", "a.b.d", false],
  ["a.b.*", "a.b.c", true],
  ["*.b.>", "a.b.c", true],
  ["*.b.>", "a.b", false],
  ["*.*.>", "a.b.c", true],
  ["foo.*-", "foo.bar", false],
  ["foo.*-", "foo.*-", true],
  ["foo.>-", "foo.bar", false],
  ["foo.>-", "foo.>-", true],
  ["foo.*bar", "foo.*bar", true],
  ["foo.*bar", "foo.xbar", false],
  // Subjects with empty tokens match nothing, even `>`.
  [">", ".foo", false],
  [">", "..foo", false],
  [">", "foo..", false],
  [">", "foo.", false],
  [">", "foo..bar", false],
  [">", "", false],
  // Matching a subject that itself has wildcard tokens (the reference allows it).
  ["a.>", "a.>", true],
  ["a.*", "a.*", true],
];

for (const cacheMax of [1024, 0]) {
  Deno.test(`sublist${cacheMax ? "" : " (no cache)"}: match table`, async (t) => {
    for (const [pattern, subject, want] of TRIE_MATCHES) {
      await t.step(`${pattern} ~ ${JSON.stringify(subject)}`, () => {
        const s = new Sublist<TSub>({ cacheMax });
        const p = sub(pattern);
        const q = sub(pattern, "q");
        s.insert(p);
        s.insert(q);
        for (let round = 0; round < 2; round++) { // second round is a cache hit
          const r = s.match(subject);
          assert.deepEqual(r.plain, want ? [p] : []);
          assert.deepEqual(r.queues, want ? [[q]] : []);
        }
      });
    }
  });
}

both("literal, partial and full wildcard together", (s) => {
  const lit = sub("a.b.c");
  const pwc = sub("a.*.c");
  const end = sub("a.b.*");
  const fwc = sub("a.>");
  const all = sub(">");
  const other = sub("a.b");
  for (const x of [lit, pwc, end, fwc, all, other]) s.insert(x);
  assert.deepEqual(plainIds(s.match("a.b.c")), sortedIds([lit, pwc, end, fwc, all]));
  assert.deepEqual(plainIds(s.match("a.b")), sortedIds([fwc, all, other]));
  assert.deepEqual(plainIds(s.match("a")), sortedIds([all]));
  assert.deepEqual(plainIds(s.match("a.x.c")), sortedIds([pwc, fwc, all]));
  assert.deepEqual(plainIds(s.match("a.>")), sortedIds([fwc, all]));
});

both("two subs on the same subject are both returned", (s) => {
  const a = sub("foo");
  const b = sub("foo");
  s.insert(a);
  s.insert(b);
  assert.deepEqual(plainIds(s.match("foo")), sortedIds([a, b]));
});

both("remove", (s) => {
  const x = sub("a.b.c.d");
  s.insert(x);
  assert.equal(s.count, 1);
  assert.equal(s.match("a.b.c.d").plain.length, 1);
  assert.equal(s.remove(sub("a.b.c")), false, "unknown subject");
  assert.equal(s.remove(sub("a.b.c.d")), false, "same subject, other object");
  assert.equal(s.count, 1);
  assert.equal(s.remove(x), true);
  assert.equal(s.remove(x), false, "second remove");
  assert.equal(s.count, 0);
  assert.equal(s.match("a.b.c.d").plain.length, 0);
});

both("remove wildcards", (s) => {
  const x = sub("a.b.c.d");
  const p = sub("a.b.*.d");
  const f = sub("a.b.>");
  s.insert(x);
  s.insert(p);
  s.insert(f);
  assert.equal(s.match("a.b.c.d").plain.length, 3);
  assert.equal(s.remove(x), true);
  assert.equal(s.count, 2);
  assert.deepEqual(plainIds(s.match("a.b.c.d")), sortedIds([p, f]));
  assert.equal(s.remove(f), true);
  assert.deepEqual(plainIds(s.match("a.b.c.d")), sortedIds([p]));
  assert.equal(s.remove(p), true);
  assert.equal(s.count, 0);
  assert.equal(s.match("a.b.c.d").plain.length, 0);
  assert.equal(s.nodeCount, 0);
});

both("remove with wildcard characters as literals", (s) => {
  for (const subject of ["foo.*-", "foo.>-"]) {
    const x = sub(subject);
    s.insert(x);
    assert.equal(s.remove(sub("foo.bar")), false);
    assert.equal(s.count, 1);
    assert.equal(s.remove(x), true);
    assert.equal(s.count, 0);
  }
});

both("remove a queue sub with the wrong queue name fails", (s) => {
  const q = sub("foo", "a");
  s.insert(q);
  assert.equal(s.remove({ ...q, queue: "b" }), false);
  assert.equal(s.remove({ subject: "foo", id: q.id }), false);
  assert.equal(s.count, 1);
  assert.equal(s.remove(q), true);
});

both("remove cleans up nodes", (s) => {
  for (const subject of ["a.b.c.d.e.f", "a.b.*.d.e.>", "*", ">", "*.>", "foo*.>bar"]) {
    const x = sub(subject);
    s.insert(x);
    assert.equal(s.nodeCount, subject.split(".").length, subject);
    s.remove(x);
    assert.equal(s.nodeCount, 0, subject);
  }
});

both("prune keeps shared prefixes alive", (s) => {
  const deep = sub("a.b.c");
  const mid = sub("a.b");
  const q = sub("a.b.c", "q");
  s.insert(deep);
  s.insert(mid);
  s.insert(q);
  assert.equal(s.nodeCount, 3);
  s.remove(deep);
  assert.equal(s.nodeCount, 3, "queue sub still on a.b.c");
  s.remove(q);
  assert.equal(s.nodeCount, 2);
  assert.deepEqual(plainIds(s.match("a.b")), [mid.id]);
  s.remove(mid);
  assert.equal(s.nodeCount, 0);
});

both("many inserts and removes leave no nodes behind", (s) => {
  const toks = ["a", "b", "c", "*", "d"];
  const subs: TSub[] = [];
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 600; i++) {
      const depth = 1 + (i % 5);
      const parts: string[] = [];
      for (let d = 0; d < depth; d++) parts.push(toks[(i * 7 + d * 3 + round) % toks.length]);
      if (i % 11 === 0) parts.push(">");
      const x = sub(parts.join("."), i % 3 === 0 ? `q${i % 4}` : undefined);
      s.insert(x);
      subs.push(x);
    }
    // Keep the cache busy so invalidation paths run too.
    for (const subject of ["a", "a.b", "a.b.c", "b.c.d.a", "d.d.d.d.d"]) s.match(subject);
    assert.ok(s.nodeCount > 0);
    // Remove in a different order than inserted.
    for (let i = subs.length - 1; i >= 0; i -= 2) assert.equal(s.remove(subs[i]), true);
    for (let i = subs.length - 2; i >= 0; i -= 2) assert.equal(s.remove(subs[i]), true);
    subs.length = 0;
    assert.equal(s.count, 0);
    assert.equal(s.nodeCount, 0);
    assert.deepEqual(plainIds(s.match("a.b.c")), []);
  }
});

both("large number of subs on one subject", (s) => {
  const xs: TSub[] = [];
  for (let i = 0; i < 512; i++) {
    const x = sub("foo");
    xs.push(x);
    s.insert(x);
  }
  assert.equal(s.match("foo").plain.length, 512);
  s.remove(xs[256]);
  s.remove(xs[0]);
  s.remove(xs[511]);
  const r = s.match("foo");
  assert.equal(r.plain.length, 509);
  assert.ok(!r.plain.includes(xs[256]) && !r.plain.includes(xs[0]) && !r.plain.includes(xs[511]));
});

both("basic queue results (reference TestSublistBasicQueueResults)", (s) => {
  const p = sub("foo");
  const q1 = sub("foo", "bar");
  const q2 = sub("foo", "baz");
  s.insert(q1);
  let r = s.match("foo");
  assert.deepEqual(r.plain, []);
  assert.deepEqual(groups(r), { bar: [q1.id] });

  s.insert(q2);
  r = s.match("foo");
  assert.deepEqual(groups(r), { bar: [q1.id], baz: [q2.id] });

  s.insert(p);
  r = s.match("foo");
  assert.deepEqual(plainIds(r), [p.id]);
  assert.deepEqual(groups(r), { bar: [q1.id], baz: [q2.id] });

  const q3 = sub("foo", "bar");
  const q4 = sub("foo", "baz");
  s.insert(q3);
  s.insert(q4);
  r = s.match("foo");
  assert.deepEqual(plainIds(r), [p.id]);
  assert.deepEqual(groups(r), { bar: sortedIds([q1, q3]), baz: sortedIds([q2, q4]) });

  s.remove(p);
  r = s.match("foo");
  assert.deepEqual(r.plain, []);
  assert.deepEqual(groups(r), { bar: sortedIds([q1, q3]), baz: sortedIds([q2, q4]) });

  s.remove(q1);
  r = s.match("foo");
  assert.deepEqual(groups(r), { bar: [q3.id], baz: sortedIds([q2, q4]) });

  s.remove(q3);
  r = s.match("foo");
  assert.deepEqual(groups(r), { baz: sortedIds([q2, q4]) });

  s.remove(q2);
  s.remove(q4);
  r = s.match("foo");
  assert.deepEqual(r.plain, []);
  assert.deepEqual(r.queues, []);
  assert.equal(s.nodeCount, 0);
});

both("queue groups merge by name across matching patterns", (s) => {
  const lit = sub("foo.bar", "q1");
  const pwc = sub("foo.*", "q1");
  const fwc = sub("foo.>", "q1");
  const other = sub("foo.*", "q2");
  const miss = sub("foo.baz", "q1");
  for (const x of [lit, pwc, fwc, other, miss]) s.insert(x);
  const r = s.match("foo.bar");
  assert.equal(r.queues.length, 2);
  assert.deepEqual(groups(r), { q1: sortedIds([lit, pwc, fwc]), q2: [other.id] });
  assert.deepEqual(groups(s.match("foo.baz")), {
    q1: sortedIds([miss, pwc, fwc]),
    q2: [other.id],
  });
  assert.deepEqual(groups(s.match("foo.bar.x")), { q1: [fwc.id] });
});

both("queue name equal to a subject token does not interfere", (s) => {
  const a = sub("foo", "foo");
  const b = sub("foo");
  s.insert(a);
  s.insert(b);
  const r = s.match("foo");
  assert.deepEqual(plainIds(r), [b.id]);
  assert.deepEqual(groups(r), { foo: [a.id] });
});

Deno.test("sublist: empty results are one shared object", () => {
  const s = new Sublist<TSub>();
  const r1 = s.match("foo");
  const r2 = s.match("bar");
  assert.equal(r1, r2);
  assert.equal(s.match(".."), r1);
});

Deno.test("sublist: cache hit returns the identical result object", () => {
  const s = new Sublist<TSub>();
  s.insert(sub("foo.*"));
  const r1 = s.match("foo.bar");
  assert.equal(s.cacheSize, 1);
  assert.equal(s.match("foo.bar"), r1);
});

Deno.test("sublist: no cache when cacheMax is 0", () => {
  const s = new Sublist<TSub>({ cacheMax: 0 });
  s.insert(sub("foo"));
  for (let i = 0; i < 10; i++) s.match("foo");
  assert.equal(s.cacheSize, 0);
});

Deno.test("sublist: cache invalidation on insert and remove", () => {
  const s = new Sublist<TSub>();
  const x = sub("a.b.c.d");
  const p = sub("a.b.*.d");
  const f = sub("a.b.>");
  s.insert(x);
  assert.deepEqual(plainIds(s.match("a.b.c.d")), [x.id]);
  const before = s.match("a.b.c.d");
  s.insert(p);
  s.insert(f);
  assert.equal(s.count, 3);
  assert.deepEqual(plainIds(s.match("a.b.c.d")), sortedIds([x, p, f]));
  assert.deepEqual(plainIds(before), [x.id], "results handed out earlier are not mutated");
  s.remove(x);
  assert.deepEqual(plainIds(s.match("a.b.c.d")), sortedIds([p, f]));
  s.remove(f);
  assert.deepEqual(plainIds(s.match("a.b.c.d")), sortedIds([p]));
  s.remove(p);
  assert.equal(s.count, 0);
  assert.equal(s.cacheSize, 0, "removing the last matching sub drops the entry");
  assert.deepEqual(plainIds(s.match("a.b.c.d")), []);

  // Adding to a wildcard patches cached entries it matches (reference TestSublistCache).
  const t = new Sublist<TSub>();
  t.insert(sub("foo.*"));
  t.insert(sub("foo.bar"));
  assert.equal(t.match("foo.baz").plain.length, 1);
  assert.equal(t.match("foo.bar").plain.length, 2);
  t.insert(sub("foo.>"));
  assert.equal(t.match("foo.bar").plain.length, 3);
  assert.equal(t.match("foo.baz").plain.length, 2);
});

Deno.test("sublist: invalidation is precise", () => {
  const s = new Sublist<TSub>();
  s.insert(sub("a.x"));
  s.insert(sub("b.x"));
  for (const subject of ["a.x", "b.x", "a.y", "c"]) s.match(subject);
  assert.equal(s.cacheSize, 4);
  const bx = s.match("b.x");
  const c = s.match("c");

  // Literal insert: only its own entry changes.
  const ay = sub("a.y");
  s.insert(ay);
  assert.equal(s.cacheSize, 4);
  assert.equal(s.match("b.x"), bx);
  assert.deepEqual(plainIds(s.match("a.y")), [ay.id]);

  // Wildcard insert: patches a.x and a.y, leaves b.x and c alone.
  const aw = sub("a.*", "q");
  s.insert(aw);
  assert.equal(s.cacheSize, 4);
  assert.equal(s.match("b.x"), bx);
  assert.equal(s.match("c"), c);
  assert.deepEqual(groups(s.match("a.x")), { q: [aw.id] });
  assert.deepEqual(groups(s.match("a.y")), { q: [aw.id] });

  // Wildcard remove: drops a.x and a.y only.
  s.remove(aw);
  assert.equal(s.cacheSize, 2);
  assert.equal(s.match("b.x"), bx);
  assert.deepEqual(s.match("a.x").queues, []);

  // Literal remove: drops its own entry only.
  s.match("a.y");
  s.remove(ay);
  assert.equal(s.cacheSize, 3);
  assert.deepEqual(s.match("a.y").plain, []);
});

Deno.test("sublist: insert on a cached empty subject shows up", () => {
  const s = new Sublist<TSub>();
  assert.deepEqual(s.match("foo.bar").plain, []);
  assert.deepEqual(s.match("x.y").plain, []);
  const f = sub("foo.bar");
  s.insert(f);
  assert.deepEqual(plainIds(s.match("foo.bar")), [f.id]);
  const w = sub(">", "g");
  s.insert(w);
  assert.deepEqual(groups(s.match("x.y")), { g: [w.id] });
  assert.deepEqual(groups(s.match("foo.bar")), { g: [w.id] });
  assert.deepEqual(s.match(">").plain, [], "cache never makes `>` match literally");
});

Deno.test("sublist: cache is bounded", () => {
  const s = new Sublist<TSub>();
  s.insert(sub(">"));
  for (let i = 0; i < 2 * 1024; i++) {
    s.match(`foo-${i}`);
    assert.ok(s.cacheSize <= 1024);
  }
  assert.ok(s.cacheSize >= 512);
  // Still correct after eviction.
  assert.equal(s.match("foo-0").plain.length, 1);
  assert.equal(s.match("foo-2047").plain.length, 1);

  const small = new Sublist<TSub>({ cacheMax: 8 });
  for (let i = 0; i < 100; i++) {
    small.match(`s${i}`);
    assert.ok(small.cacheSize <= 8);
  }
});

Deno.test("sublist: subjects with empty tokens are not cached", () => {
  const s = new Sublist<TSub>();
  s.insert(sub(">"));
  for (const subject of [".foo", "..foo", "foo..", "foo.", "foo..bar", "foo...bar", ""]) {
    assert.deepEqual(s.match(subject).plain, [], subject);
  }
  assert.equal(s.cacheSize, 0);
});

both("wide levels (array → map → array) stay correct", (s) => {
  const wild = sub("a.*");
  s.insert(wild);
  const leaves: TSub[] = [];
  for (let i = 0; i < 100; i++) {
    const x = sub(`a.t${i}`);
    leaves.push(x);
    s.insert(x);
    // Wide root too.
    s.insert(sub(`r${i}`));
  }
  for (let i = 0; i < 100; i++) {
    assert.deepEqual(plainIds(s.match(`a.t${i}`)), sortedIds([wild, leaves[i]]));
    assert.equal(s.match(`r${i}`).plain.length, 1);
  }
  assert.deepEqual(plainIds(s.match("a.t100")), [wild.id]);
  // Shrink back below the array threshold, checking at every step.
  for (let i = 0; i < 97; i++) {
    assert.equal(s.remove(leaves[i]), true);
    assert.deepEqual(plainIds(s.match(`a.t${i}`)), [wild.id]);
    assert.deepEqual(plainIds(s.match(`a.t${i + 1}`)), sortedIds([wild, leaves[i + 1]]));
  }
  for (let i = 97; i < 100; i++) {
    assert.deepEqual(plainIds(s.match(`a.t${i}`)), sortedIds([wild, leaves[i]]));
  }
  // Grow again.
  const again = sub("a.t5");
  s.insert(again);
  assert.deepEqual(plainIds(s.match("a.t5")), sortedIds([wild, again]));
  assert.equal(s.count, 1 + 3 + 100 + 1);
});

Deno.test("sublist: big cached results are dropped, not copied, on insert", () => {
  const s = new Sublist<TSub>();
  const plain: TSub[] = [];
  const queue: TSub[] = [];
  for (let i = 0; i < 100; i++) {
    const p = sub("busy");
    const q = sub("busy", "g");
    plain.push(p);
    queue.push(q);
    s.insert(p);
    s.insert(q);
    // Every insert must show up whether the entry was patched or dropped.
    const r = s.match("busy");
    assert.equal(r.plain.length, i + 1);
    assert.equal(r.queues[0].length, i + 1);
  }
  const before = s.match("busy");
  const extra = sub("*");
  s.insert(extra);
  assert.equal(s.cacheSize, 0, "entry over the patch limit is dropped");
  const after = s.match("busy");
  assert.notEqual(after, before);
  assert.deepEqual(plainIds(after), sortedIds([...plain, extra]));
  assert.deepEqual(groups(after), { g: sortedIds(queue) });
  assert.equal(before.plain.length, 100, "old result untouched");
});

both("a node's plain subscriptions: one, a few, many, and back, in insertion order", (s) => {
  const subs = Array.from({ length: 12 }, () => sub("p.q"));
  const ids = (n: number[]) => n.map((i) => subs[i].id);
  const order = () => s.match("p.q").plain.map((x) => x.id);
  s.insert(subs[0]);
  s.insert(subs[0]);
  assert.deepEqual(order(), ids([0]));
  s.insert(subs[1]);
  assert.deepEqual(order(), ids([0, 1]));
  assert.ok(s.remove(subs[0]));
  assert.ok(!s.remove(subs[0]));
  assert.deepEqual(order(), ids([1]));
  for (let i = 2; i < 12; i++) s.insert(subs[i]);
  assert.equal(s.count, 11);
  assert.deepEqual(order(), ids([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
  for (let i = 1; i < 12; i++) assert.ok(s.remove(subs[i]));
  assert.deepEqual(order(), []);
  assert.equal(s.nodeCount, 0);
});
