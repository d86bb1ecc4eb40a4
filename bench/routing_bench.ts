/**
 * Sublist / subject benchmarks. Run: `deno bench bench/routing_bench.ts`.
 *
 * The population mirrors the reference's sublist benchmarks (`server/sublist_test.go`):
 * every subject of 1–5 tokens over 8 words (37,448 literal subs) plus three wildcard subs.
 */
import {
  isValidLiteralSubject,
  isValidSubject,
  subjectIsSubsetOf,
  subjectMatchesPattern,
} from "../lib/core/subject.ts";
import { pickQueueMember, Sublist, type Subscription } from "../lib/routing/mod.ts";

type Sub = Subscription;

const WORDS = ["synadia", "nats", "jetstream", "nkeys", "jwt", "deny", "auth", "drain"];

function population(): Sub[] {
  const out: Sub[] = [];
  const walk = (prefix: string) => {
    for (const w of WORDS) {
      const subject = prefix ? `${prefix}.${w}` : w;
      out.push({ subject });
      if (subject.split(".").length < 5) walk(subject);
    }
  };
  walk("");
  return out;
}

const SUBS = population();
const WILDCARDS: Sub[] = [
  { subject: "cloud.>" },
  { subject: "cloud.nats.component.>" },
  { subject: "cloud.*.*.nkeys.*" },
];

function populated(cacheMax?: number): Sublist<Sub> {
  const s = new Sublist<Sub>({ cacheMax });
  for (const x of SUBS) s.insert(x);
  for (const x of WILDCARDS) s.insert(x);
  return s;
}

const cached = populated();
const uncached = populated(0);

/** 512 distinct literal subjects that exist in the population (fit in the cache). */
const HOT = SUBS.filter((_, i) => i % 73 === 0).slice(0, 512).map((x) => x.subject);
/** Copies of HOT (not the cache's key objects), reused every round so their hash is cached. */
const HOT_COPY = HOT.map((s) => s.split("").join(""));
/**
 * HOT joined with spaces: `slice` of it yields a brand-new string (hash not yet computed) for
 * about 8ns, like a subject freshly decoded by the parser.
 */
const HOT_JOINED = HOT.join(" ");
const HOT_SPANS: number[] = [];
{
  let p = 0;
  for (const s of HOT) {
    HOT_SPANS.push(p, p + s.length);
    p += s.length + 1;
  }
}

let sink = 0;

// ---- match ----

Deno.bench("match cache hit, 1 token", { group: "match-hit", baseline: true }, () => {
  sink += cached.match("synadia").plain.length;
});
Deno.bench("match cache hit, 4 tokens", { group: "match-hit" }, () => {
  sink += cached.match("synadia.nats.jetstream.nkeys").plain.length;
});
{
  for (const subject of HOT) cached.match(subject);
  let i = 0;
  Deno.bench("match cache hit, 512 rotating subjects", { group: "match-hit" }, () => {
    sink += cached.match(HOT_COPY[i++ & 511]).plain.length;
  });
  let j = 0;
  Deno.bench("(baseline) slice a fresh subject string", { group: "match-hit" }, () => {
    const k = (j++ & 511) << 1;
    sink += HOT_JOINED.slice(HOT_SPANS[k], HOT_SPANS[k + 1]).length;
  });
  let m = 0;
  Deno.bench("match cache hit, fresh subject string (incl. slice)", { group: "match-hit" }, () => {
    const k = (m++ & 511) << 1;
    sink += cached.match(HOT_JOINED.slice(HOT_SPANS[k], HOT_SPANS[k + 1])).plain.length;
  });
}

Deno.bench("match miss (no cache), 1 token", { group: "match-miss", baseline: true }, () => {
  sink += uncached.match("synadia").plain.length;
});
Deno.bench("match miss (no cache), 4 tokens", { group: "match-miss" }, () => {
  sink += uncached.match("synadia.nats.jetstream.nkeys").plain.length;
});
Deno.bench("match miss (no cache), 5 tokens, miss on last", { group: "match-miss" }, () => {
  sink += uncached.match("synadia.nats.jetstream.nkeys.ZZZZ").plain.length;
});
{
  let m = 0;
  Deno.bench("match miss (no cache), fresh subject (incl. slice)", { group: "match-miss" }, () => {
    const k = (m++ & 511) << 1;
    sink += uncached.match(HOT_JOINED.slice(HOT_SPANS[k], HOT_SPANS[k + 1])).plain.length;
  });
}
Deno.bench("match miss (no cache), wildcards hit", { group: "match-miss" }, () => {
  sink += uncached.match("cloud.nats.component.nkeys.x").plain.length;
});
{
  // Misses that also pay for the cache store and eviction (a churn of unique subjects).
  const s = populated();
  let i = 0;
  Deno.bench("match miss + cache store/evict (unique subjects)", { group: "match-miss" }, () => {
    sink += s.match(`synadia.nats.${i++}`).plain.length;
  });
}

// ---- insert / remove ----

{
  const s = populated();
  for (const subject of HOT) s.match(subject);
  const lit: Sub = { subject: "synadia.nats.jetstream.nkeys.extra" };
  Deno.bench("insert+remove literal (warm cache)", { group: "churn", baseline: true }, () => {
    s.insert(lit);
    s.remove(lit);
  });
}
{
  const s = populated();
  for (const subject of HOT) s.match(subject);
  const q: Sub = { subject: "synadia.nats.jetstream", queue: "workers" };
  Deno.bench("insert+remove queue sub on a cached subject", { group: "churn" }, () => {
    s.insert(q);
    s.remove(q);
    s.match("synadia.nats.jetstream");
  });
}
{
  const s = populated();
  const wc: Sub = { subject: "synadia.*.jetstream.>" };
  Deno.bench("insert+remove wildcard (empty cache)", { group: "churn" }, () => {
    s.insert(wc);
    s.remove(wc);
  });
}
{
  const s = populated();
  const wc: Sub = { subject: "synadia.*.jetstream.>" };
  Deno.bench("insert+remove wildcard (512 cached subjects)", { group: "churn" }, (b) => {
    for (const subject of HOT) s.match(subject);
    b.start();
    s.insert(wc);
    s.remove(wc);
    b.end();
  });
}
{
  // Build and tear down a 10k-sub sublist (per-op cost ≈ time / 20,000).
  const subs = SUBS.slice(0, 10_000);
  Deno.bench("insert 10k + remove 10k", { group: "bulk" }, () => {
    const s = new Sublist<Sub>();
    for (const x of subs) s.insert(x);
    for (const x of subs) s.remove(x);
    sink += s.count;
  });
}

// ---- subjects ----

Deno.bench("isValidSubject (4 tokens, wildcard)", { group: "subject" }, () => {
  sink += isValidSubject("synadia.nats.*.>") ? 1 : 0;
});
Deno.bench("isValidLiteralSubject (4 tokens)", { group: "subject" }, () => {
  sink += isValidLiteralSubject("synadia.nats.jetstream.nkeys") ? 1 : 0;
});
Deno.bench("subjectMatchesPattern (4 tokens, wildcards)", { group: "subject" }, () => {
  sink += subjectMatchesPattern("synadia.*.jetstream.>", "synadia.nats.jetstream.nkeys") ? 1 : 0;
});
Deno.bench("subjectIsSubsetOf (wildcard vs wildcard)", { group: "subject" }, () => {
  sink += subjectIsSubsetOf("synadia.*.jetstream.>", "synadia.*.>") ? 1 : 0;
});
{
  const members = ["a", "b", "c", "d", "e"];
  Deno.bench("pickQueueMember (5 members, skip one)", { group: "subject" }, () => {
    sink += pickQueueMember(members, Math.random, (m) => m === "c") === undefined ? 0 : 1;
  });
}

addEventListener("unload", () => {
  if (sink === -1) console.log(sink);
});
