import assert from "node:assert/strict";
import { subjectIsSubsetOf, subjectMatchesPattern } from "../../lib/core/subject.ts";
import { type MatchResult, Sublist, type Subscription } from "../../lib/routing/mod.ts";

interface TSub extends Subscription {
  readonly id: number;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ["a", "b", "c", "foo", "bar", "*x", "x>"];

/** Many distinct tokens, so trie levels outgrow their small-array form. */
const MANY_WORDS = [...WORDS, ...Array.from({ length: 40 }, (_, i) => `w${i}`)];

function randomLiteral(rnd: () => number, words: readonly string[] = WORDS): string {
  const n = 1 + Math.floor(rnd() * 4);
  const toks: string[] = [];
  for (let i = 0; i < n; i++) toks.push(words[Math.floor(rnd() * words.length)]);
  return toks.join(".");
}

function randomPattern(rnd: () => number, words: readonly string[] = WORDS): string {
  const n = 1 + Math.floor(rnd() * 4);
  const toks: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    if (i === n - 1 && r < 0.15) toks.push(">");
    else if (r < 0.35) toks.push("*");
    else toks.push(words[Math.floor(rnd() * words.length)]);
  }
  return toks.join(".");
}

/** Obviously-correct matcher, independent of the library. */
function bruteMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  if (s.some((t) => t === "")) return false;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

/** Canonical form of a match: sorted plain ids and sorted ids per queue name. */
function canon(r: MatchResult<TSub>): string {
  const plain = r.plain.map((s) => s.id).sort((a, b) => a - b);
  const queues: Record<string, number[]> = {};
  for (const g of r.queues) {
    assert.ok(g.length > 0, "empty group");
    const q = g[0].queue!;
    assert.equal(queues[q], undefined, `queue ${q} split across groups`);
    for (const m of g) assert.equal(m.queue, q);
    queues[q] = g.map((s) => s.id).sort((a, b) => a - b);
  }
  const keys = Object.keys(queues).sort();
  return JSON.stringify({ plain, queues: keys.map((k) => [k, queues[k]]) });
}

function bruteMatch(live: Iterable<TSub>, subject: string): MatchResult<TSub> {
  const plain: TSub[] = [];
  const byQueue = new Map<string, TSub[]>();
  for (const s of live) {
    if (!bruteMatches(s.subject, subject)) continue;
    if (s.queue) {
      const g = byQueue.get(s.queue) ?? [];
      g.push(s);
      byQueue.set(s.queue, g);
    } else {
      plain.push(s);
    }
  }
  return { plain, queues: [...byQueue.values()] };
}

Deno.test("sublist random: subjectMatchesPattern agrees with brute force", () => {
  const rnd = prng(7);
  for (let i = 0; i < 20000; i++) {
    const p = randomPattern(rnd);
    const s = randomLiteral(rnd);
    assert.equal(subjectMatchesPattern(p, s), bruteMatches(p, s), `${p} ~ ${s}`);
  }
});

Deno.test("sublist random: subjectIsSubsetOf agrees with brute force over a finite universe", () => {
  // Over a finite universe of literals, A ⊆ B implies every literal matched by A is matched by B.
  // The converse holds once the universe has a token neither pattern names and enough length,
  // except for `>`: A = `x.>` covers subjects of any length, B = `x.*.*...` never does.
  const rnd = prng(11);
  const universe: string[] = [];
  const words = ["a", "b", "*x"];
  const alphabet = [...words, "zz"];
  const build = (prefix: string[], depth: number) => {
    if (prefix.length > 0) universe.push(prefix.join("."));
    if (depth === 0) return;
    for (const w of alphabet) build([...prefix, w], depth - 1);
  };
  build([], 5);
  for (let i = 0; i < 3000; i++) {
    const a = randomPattern(rnd, words);
    const b = randomPattern(rnd, words);
    const covered = universe.every((s) => !bruteMatches(a, s) || bruteMatches(b, s));
    assert.equal(subjectIsSubsetOf(a, b), covered, `${a} ⊆ ${b}`);
  }
});

const RANDOM_CASES: [number, readonly string[]][] = [
  [1024, WORDS],
  [64, WORDS],
  [0, WORDS],
  [1024, MANY_WORDS],
];
for (const [cacheMax, words] of RANDOM_CASES) {
  const label = `cacheMax ${cacheMax}, ${words.length} words`;
  Deno.test(`sublist random: match agrees with brute force (${label})`, () => {
    const rnd = prng(1234 + cacheMax + words.length);
    const s = new Sublist<TSub>({ cacheMax });
    const live = new Set<TSub>();
    const liveList: TSub[] = [];
    const subjects: string[] = [];
    for (let i = 0; i < 300; i++) subjects.push(randomLiteral(rnd, words));
    let id = 0;

    const check = (subject: string) => {
      assert.equal(canon(s.match(subject)), canon(bruteMatch(live, subject)), subject);
    };

    // Build up to ~2000 subs, matching along the way so the cache fills and gets patched.
    for (let i = 0; i < 2000; i++) {
      const r = rnd();
      const queue = r < 0.3 ? `q${Math.floor(rnd() * 3)}` : undefined;
      const subject = rnd() < 0.5 ? randomPattern(rnd, words) : randomLiteral(rnd, words);
      const x: TSub = queue ? { subject, queue, id: id++ } : { subject, id: id++ };
      s.insert(x);
      live.add(x);
      liveList.push(x);
      if (i % 4 === 0) check(subjects[Math.floor(rnd() * subjects.length)]);
    }
    assert.equal(s.count, live.size);
    for (const subject of subjects) check(subject);

    // Churn: interleave removes, inserts and (cached) matches.
    for (let i = 0; i < 3000; i++) {
      const r = rnd();
      if (r < 0.45 && liveList.length > 0) {
        const k = Math.floor(rnd() * liveList.length);
        const x = liveList[k];
        liveList[k] = liveList[liveList.length - 1];
        liveList.pop();
        live.delete(x);
        assert.equal(s.remove(x), true);
        assert.equal(s.remove(x), false);
      } else if (r < 0.7) {
        const subject = rnd() < 0.5 ? randomPattern(rnd, words) : randomLiteral(rnd, words);
        const x: TSub = rnd() < 0.3
          ? { subject, queue: `q${Math.floor(rnd() * 3)}`, id: id++ }
          : { subject, id: id++ };
        s.insert(x);
        live.add(x);
        liveList.push(x);
      } else {
        check(subjects[Math.floor(rnd() * subjects.length)]);
      }
    }
    assert.equal(s.count, live.size);
    for (const subject of subjects) check(subject);

    // Drain: everything goes, nothing is left behind.
    for (const x of liveList) assert.equal(s.remove(x), true);
    live.clear();
    assert.equal(s.count, 0);
    assert.equal(s.nodeCount, 0);
    for (const subject of subjects) check(subject);
  });
}
