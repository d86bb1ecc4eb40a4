/**
 * The subscription trie with a match cache (reference: nats-server `server/sublist.go`).
 *
 * Each trie level maps literal tokens to nodes and has two dedicated slots for the `*` and `>`
 * nodes. A node holds the plain subscriptions and the queue subscriptions (by queue name) whose
 * subject ends there. Matching a literal subject walks all three kinds of edges.
 *
 * Match results are cached per literal subject (bounded; the oldest half is dropped on overflow)
 * and are shared: callers must treat them as immutable. A cache hit is one `Map.get` and
 * allocates nothing. Insert/remove keep the cache exact: a literal subscription touches only its
 * own cache entry; a wildcard one scans the cached subjects it matches. Insert patches those
 * entries copy-on-write (or drops them when large), remove drops them. Measured against clearing
 * the whole cache on every change (hot set of 512 subjects, 37k subscriptions): several times
 * to 30x faster once a change is followed by 100+ matches; clearing only came out ahead (~2x)
 * when a wildcard subscription changed every ~10 messages.
 *
 * @module
 */

import { subjectHasWildcard, subjectMatchesPattern } from "../core/subject.ts";

/** What the sublist needs from a subscription; identity (the object) is what insert/remove use. */
export interface Subscription {
  /** Subject pattern; may contain `*` / `>` tokens. */
  readonly subject: string;
  /** Queue group name; absent (or empty) for a plain subscription. */
  readonly queue?: string;
}

/**
 * The subscriptions matching one literal subject. Shared with the cache: never mutate.
 * `queues` has one inner array per queue name (members of that group from every matching
 * pattern, as the reference merges by name); deliver to one member of each group.
 */
export interface MatchResult<S> {
  /** Plain subscriptions: every one gets a copy. */
  readonly plain: readonly S[];
  /** Queue groups, each non-empty and holding members with the same `queue`. */
  readonly queues: readonly (readonly S[])[];
}

/**
 * Counters and cache fanout of a sublist, for monitoring (`/subsz`): the reference's
 * `SublistStats` before it derives rates and averages.
 */
export interface SublistCounters {
  /** Subscriptions stored. */
  count: number;
  /** Cached match results. */
  cacheSize: number;
  /** Subscriptions ever inserted / removed. */
  inserts: number;
  removes: number;
  /** `match` calls, and how many of them the cache answered. */
  matches: number;
  cacheHits: number;
  /** Over the cached results: sum and max of (plain subs + queue groups). */
  totalFanout: number;
  maxFanout: number;
}

/** Construction options for {@link Sublist}. */
export interface SublistOptions {
  /**
   * Maximum number of cached match results (default 1024, as the reference). When exceeded the
   * oldest entries are evicted down to half of it. 0 disables the cache.
   */
  cacheMax?: number;
}

/** The shared result for "no interest". */
const EMPTY_RESULT: MatchResult<never> = Object.freeze({
  plain: Object.freeze([]) as readonly never[],
  queues: Object.freeze([]) as readonly (readonly never[])[],
});

const DEFAULT_CACHE_MAX = 1024;

class TrieNode<S> {
  /** Level below this token, created when a longer subject passes through. */
  next: Level<S> | null = null;
  /**
   * Plain subscriptions ending here (lazy): the subscription itself while it is the only one
   * (most nodes hold one; an array of one is ~56 bytes), an array while few (a Set costs ~100
   * bytes more), a Set beyond SMALL_PLAIN. A subscription is never an array or a Set.
   */
  plain: S | S[] | Set<S> | null = null;
  /** Queue subscriptions ending here, by queue name (lazy). */
  queues: Map<string, Set<S>> | null = null;

  isEmpty(): boolean {
    return this.plain === null && this.queues === null &&
      (this.next === null || this.next.isEmpty());
  }
}

/** A node keeps up to this many plain subscriptions in an array, in a Set beyond it. */
const SMALL_PLAIN = 8;

/** A level keeps literal children in small arrays up to this size, in a Map beyond it. */
const SMALL_LEVEL = 16;

/**
 * Cheap token signature (length and last char) kept in a packed array next to the keys, so a
 * scan rarely has to touch the key strings themselves (they are scattered in memory).
 */
function sig(t: string): number {
  return ((t.length & 0x3fff) << 16) | t.charCodeAt(t.length - 1);
}

/** Entries of a small level: signature, key, node, repeated (one array per level). */
type LevelEntries<S> = (number | string | TrieNode<S>)[];

class Level<S> {
  /**
   * The first literal child, in two fields: most levels of a wide trie have one child (the
   * levels after a subject's distinct token), and a small array for it costs ~72 bytes.
   */
  oneKey: string | null = null;
  one: TrieNode<S> | null = null;
  /**
   * Literal children. Tokens looked up during a match are fresh substrings, and hashing them
   * for a Map costs more than comparing a handful of strings, so small levels scan one array of
   * (signature, key, node) triples and only levels wider than SMALL_LEVEL use a Map. The array is
   * created with the first child at its exact size: most levels of a wide trie have one child,
   * and three growable arrays per level were ~200 bytes of every subscription.
   */
  ents: LevelEntries<S> | null = null;
  map: Map<string, TrieNode<S>> | null = null;
  pwc: TrieNode<S> | null = null;
  fwc: TrieNode<S> | null = null;

  isEmpty(): boolean {
    return this.one === null && this.pwc === null && this.fwc === null &&
      (this.map === null ? this.ents === null : this.map.size === 0);
  }

  /** Literal child for token `t`. */
  literal(t: string): TrieNode<S> | undefined {
    const one = this.one;
    if (one !== null && this.oneKey === t) return one;
    const map = this.map;
    if (map !== null) return map.get(t);
    const e = this.ents;
    if (e === null) return undefined;
    const sg = sig(t);
    for (let i = 0; i < e.length; i += 3) {
      if (e[i] === sg && e[i + 1] === t) return e[i + 2] as TrieNode<S>;
    }
    return undefined;
  }

  /** Child for token `t` (`*`/`>` map to the wildcard slots), or null. */
  child(t: string): TrieNode<S> | null {
    if (t.length === 1) {
      if (t === "*") return this.pwc;
      if (t === ">") return this.fwc;
    }
    return this.literal(t) ?? null;
  }

  /** Appends a literal child to the small-level array. */
  #push(t: string, n: TrieNode<S>): void {
    if (this.ents === null) this.ents = [sig(t), t, n];
    else this.ents.push(sig(t), t, n);
  }

  /** Child for token `t`, created if missing. */
  ensureChild(t: string): TrieNode<S> {
    if (t.length === 1) {
      if (t === "*") return this.pwc ??= new TrieNode<S>();
      if (t === ">") return this.fwc ??= new TrieNode<S>();
    }
    let n = this.literal(t);
    if (n === undefined) {
      n = new TrieNode<S>();
      const e = this.ents;
      if (this.one === null) {
        this.oneKey = t;
        this.one = n;
      } else if (this.map !== null) {
        this.map.set(t, n);
      } else if (e === null || e.length < SMALL_LEVEL * 3) {
        this.#push(t, n);
      } else {
        this.map = new Map<string, TrieNode<S>>();
        for (let i = 0; i < e.length; i += 3) {
          this.map.set(e[i + 1] as string, e[i + 2] as TrieNode<S>);
        }
        this.map.set(t, n);
        this.ents = null;
      }
    }
    return n;
  }

  /** Unlink child `n` reached through token `t`. */
  drop(t: string, n: TrieNode<S>): void {
    if (n === this.pwc) {
      this.pwc = null;
    } else if (n === this.fwc) {
      this.fwc = null;
    } else if (n === this.one) {
      this.one = null;
      this.oneKey = null;
    } else if (this.map !== null) {
      this.map.delete(t);
      // Back to the array once well below the threshold (hysteresis avoids flapping).
      if (this.map.size <= SMALL_LEVEL / 2) {
        const map = this.map;
        this.map = null;
        for (const [k, v] of map) this.#push(k, v);
      }
    } else {
      const e = this.ents;
      if (e === null) return;
      let i = 0;
      while (i < e.length && e[i + 1] !== t) i += 3;
      if (i >= e.length) return;
      const last = e.length - 3;
      e[i] = e[last];
      e[i + 1] = e[last + 1];
      e[i + 2] = e[last + 2];
      e.length = last;
      if (last === 0) this.ents = null;
    }
  }

  countNodes(): number {
    let total = 0;
    const visit = (n: TrieNode<S> | null) => {
      if (n === null) return;
      total += 1;
      if (n.next !== null) total += n.next.countNodes();
    };
    visit(this.one);
    if (this.map !== null) { for (const n of this.map.values()) visit(n); }
    else if (this.ents !== null) {
      for (let i = 2; i < this.ents.length; i += 3) visit(this.ents[i] as TrieNode<S>);
    }
    visit(this.pwc);
    visit(this.fwc);
    return total;
  }
}

/** Result under construction; arrays are created on first use (misses often find nothing). */
interface Builder<S> {
  plain: S[] | null;
  queues: S[][] | null;
}

/** Index of the group for `queue` in `groups`, or -1. */
function findGroup<S extends Subscription>(groups: readonly (readonly S[])[], queue: string) {
  for (let i = 0; i < groups.length; i++) {
    if (groups[i][0].queue === queue) return i;
  }
  return -1;
}

function addNode<S extends Subscription>(n: TrieNode<S>, out: Builder<S>): void {
  const p = n.plain;
  if (p !== null) {
    const plain = out.plain ??= [];
    if (Array.isArray(p)) { for (let i = 0; i < p.length; i++) plain.push(p[i]); }
    else if (p instanceof Set) { for (const s of p) plain.push(s); }
    else plain.push(p as S);
  }
  if (n.queues !== null) {
    const queues = out.queues ??= [];
    for (const [name, members] of n.queues) {
      const i = findGroup(queues, name);
      const group = i < 0 ? [] : queues[i];
      if (i < 0) queues.push(group);
      for (const s of members) group.push(s);
    }
  }
}

/** Collect the nodes matching toks[i..n) starting at level `l`. */
function matchLevel<S extends Subscription>(
  l: Level<S>,
  toks: readonly string[],
  n: number,
  i: number,
  out: Builder<S>,
): void {
  const last = n - 1;
  for (;;) {
    if (l.fwc !== null) addNode(l.fwc, out);
    const pwc = l.pwc;
    const lit = l.literal(toks[i]);
    if (i === last) {
      if (lit !== undefined) addNode(lit, out);
      if (pwc !== null) addNode(pwc, out);
      return;
    }
    if (pwc !== null && pwc.next !== null) matchLevel(pwc.next, toks, n, i + 1, out);
    if (lit === undefined || lit.next === null) return;
    l = lit.next;
    i++;
  }
}

/**
 * Largest list (plain subs, or one queue group) that insert patches in a cached result by
 * copying; bigger entries are dropped instead, so a burst of subscriptions to one busy subject
 * does not copy an ever-growing array per insert.
 */
const PATCH_MAX = 64;

/**
 * A copy of `r` with `sub` added (cache patching on insert; `r` is left untouched), or null when
 * the list to copy is longer than PATCH_MAX.
 */
function withSub<S extends Subscription>(r: MatchResult<S>, sub: S): MatchResult<S> | null {
  const q = sub.queue;
  if (!q) {
    if (r.plain.length >= PATCH_MAX) return null;
    return { plain: [...r.plain, sub], queues: r.queues };
  }
  const i = findGroup(r.queues, q);
  if (i >= 0 && r.queues[i].length >= PATCH_MAX) return null;
  const queues = r.queues.slice();
  if (i < 0) queues.push([sub]);
  else queues[i] = [...queues[i], sub];
  return { plain: r.plain, queues };
}

/** Splits a subscription subject; null if it cannot live in the trie (empty token, `>` not last). */
function trieTokens(subject: string): string[] | null {
  const toks = subject.split(".");
  const last = toks.length - 1;
  for (let i = 0; i <= last; i++) {
    const t = toks[i];
    if (t.length === 0 || (i < last && t === ">")) return null;
  }
  return toks;
}

/**
 * Subscription index: insert/remove subscriptions, match literal subjects to the interested
 * subscriptions. Single-threaded (no locking). Subscriptions are keyed by object identity.
 */
export class Sublist<S extends Subscription> {
  #root = new Level<S>();
  #toks: string[] = [];
  #count = 0;
  #cache: Map<string, MatchResult<S>> | null;
  #cacheMax: number;
  #cacheSweep: number;
  #inserts = 0;
  #removes = 0;
  /** `match` calls answered by the cache / by a trie walk (one increment per call). */
  #hits = 0;
  #misses = 0;

  /** Creates an empty sublist; see {@link SublistOptions}. */
  constructor(options: SublistOptions = {}) {
    const max = options.cacheMax ?? DEFAULT_CACHE_MAX;
    this.#cacheMax = Math.max(0, Math.floor(max));
    this.#cacheSweep = Math.floor(this.#cacheMax / 2);
    this.#cache = this.#cacheMax > 0 ? new Map() : null;
  }

  /** Number of subscriptions stored. */
  get count(): number {
    return this.#count;
  }

  /** Number of cached match results. */
  get cacheSize(): number {
    return this.#cache === null ? 0 : this.#cache.size;
  }

  /** Counters and cache fanout (walks the cache; for monitoring, not the hot path). */
  counters(): SublistCounters {
    let totalFanout = 0;
    let maxFanout = 0;
    if (this.#cache !== null) {
      for (const r of this.#cache.values()) {
        const n = r.plain.length + r.queues.length;
        totalFanout += n;
        if (n > maxFanout) maxFanout = n;
      }
    }
    return {
      count: this.#count,
      cacheSize: this.cacheSize,
      inserts: this.#inserts,
      removes: this.#removes,
      matches: this.#hits + this.#misses,
      cacheHits: this.#hits,
      totalFanout,
      maxFanout,
    };
  }

  /** Number of trie nodes (walks the trie; for tests and monitoring, not the hot path). */
  get nodeCount(): number {
    return this.#root.countNodes();
  }

  /**
   * Adds `sub`. The caller guarantees a valid subject (see `isValidSubject`); a subject with an
   * empty token or a non-terminal `>` throws a TypeError without changing anything.
   * Inserting the same object twice is a no-op.
   */
  insert(sub: S): void {
    const subject = sub.subject;
    const toks = trieTokens(subject);
    if (toks === null) throw new TypeError(`invalid subject "${subject}"`);
    let l = this.#root;
    let n = l.ensureChild(toks[0]);
    for (let i = 1; i < toks.length; i++) {
      l = n.next ??= new Level<S>();
      n = l.ensureChild(toks[i]);
    }
    const q = sub.queue;
    if (!q) {
      const plain = n.plain;
      if (plain === null) n.plain = sub;
      else if (Array.isArray(plain)) {
        if (plain.includes(sub)) return;
        if (plain.length < SMALL_PLAIN) plain.push(sub);
        else n.plain = new Set([...plain, sub]);
      } else if (plain instanceof Set) {
        if (plain.has(sub)) return;
        plain.add(sub);
      } else {
        if (plain === sub) return;
        n.plain = [plain as S, sub];
      }
    } else {
      const queues = n.queues ??= new Map<string, Set<S>>();
      let members = queues.get(q);
      if (members === undefined) {
        members = new Set<S>();
        queues.set(q, members);
      } else if (members.has(sub)) {
        return;
      }
      members.add(sub);
    }
    this.#count++;
    this.#inserts++;

    // Patch the cached results this subscription joins (copy-on-write: results already handed
    // out stay as they were).
    const cache = this.#cache;
    if (cache === null || cache.size === 0) return;
    if (!subjectHasWildcard(subject)) {
      // A literal subscription can only change the entry for its own subject.
      const r = cache.get(subject);
      if (r !== undefined) this.#patch(cache, subject, r, sub);
      return;
    }
    for (const [key, r] of cache) {
      if (subjectMatchesPattern(subject, key)) this.#patch(cache, key, r, sub);
    }
  }

  #patch(cache: Map<string, MatchResult<S>>, key: string, r: MatchResult<S>, sub: S): void {
    const next = withSub(r, sub);
    if (next === null) cache.delete(key);
    else cache.set(key, next);
  }

  /** Removes `sub` (by identity). Returns false if it was not present. Prunes emptied nodes. */
  remove(sub: S): boolean {
    const subject = sub.subject;
    const toks = trieTokens(subject);
    if (toks === null) return false;
    const depth = toks.length;
    const levels: Level<S>[] = new Array(depth);
    const nodes: TrieNode<S>[] = new Array(depth);
    let l: Level<S> | null = this.#root;
    for (let i = 0; i < depth; i++) {
      if (l === null) return false;
      const n = l.child(toks[i]);
      if (n === null) return false;
      levels[i] = l;
      nodes[i] = n;
      l = n.next;
    }
    const n = nodes[depth - 1];
    const q = sub.queue;
    if (!q) {
      const plain = n.plain;
      if (plain === null) return false;
      if (plain === sub) {
        n.plain = null;
      } else if (Array.isArray(plain)) {
        const at = plain.indexOf(sub);
        if (at < 0) return false;
        plain.splice(at, 1); // keeps insertion order, as the Set does
        if (plain.length === 1) n.plain = plain[0];
      } else if (plain instanceof Set) {
        if (!plain.delete(sub)) return false;
        if (plain.size === 0) n.plain = null;
      } else {
        return false;
      }
    } else {
      const queues = n.queues;
      const members = queues?.get(q);
      if (queues === null || members === undefined || !members.delete(sub)) return false;
      if (members.size === 0) {
        queues.delete(q);
        if (queues.size === 0) n.queues = null;
      }
    }
    this.#count--;
    this.#removes++;

    // Prune bottom-up; stop at the first node that still holds something.
    for (let i = depth - 1; i >= 0; i--) {
      const node = nodes[i];
      if (node.next !== null && node.next.isEmpty()) node.next = null;
      if (!node.isEmpty()) break;
      levels[i].drop(toks[i], node);
    }

    // Drop the affected cache entries (O(1) each; patching them would copy every result).
    const cache = this.#cache;
    if (cache === null || cache.size === 0) return true;
    if (!subjectHasWildcard(subject)) {
      cache.delete(subject);
    } else {
      for (const key of cache.keys()) {
        if (subjectMatchesPattern(subject, key)) cache.delete(key);
      }
    }
    return true;
  }

  /**
   * Subscriptions interested in the literal `subject`. The result is shared (cached): do not
   * mutate it. A subject with an empty token matches nothing. Results with no interest are one
   * shared empty object.
   */
  match(subject: string): MatchResult<S> {
    const cache = this.#cache;
    if (cache !== null) {
      const hit = cache.get(subject);
      if (hit !== undefined) {
        this.#hits++;
        return hit;
      }
    }
    this.#misses++;
    // Tokenize into the reusable scratch array (match never re-enters).
    const toks = this.#toks;
    let n = 0;
    let start = 0;
    for (;;) {
      const dot = subject.indexOf(".", start);
      const end = dot < 0 ? subject.length : dot;
      if (end === start) return EMPTY_RESULT; // empty token (also the empty subject)
      toks[n++] = subject.slice(start, end);
      if (dot < 0) break;
      start = dot + 1;
    }
    const out: Builder<S> = { plain: null, queues: null };
    matchLevel(this.#root, toks, n, 0, out);
    const r: MatchResult<S> = out.plain === null && out.queues === null
      ? EMPTY_RESULT
      : { plain: out.plain ?? EMPTY_RESULT.plain, queues: out.queues ?? EMPTY_RESULT.queues };
    if (cache !== null) {
      cache.set(subject, r);
      if (cache.size > this.#cacheMax) this.#evict(cache);
    }
    return r;
  }

  /** Drops the oldest cache entries down to the sweep level. */
  #evict(cache: Map<string, MatchResult<S>>): void {
    let excess = cache.size - this.#cacheSweep;
    for (const key of cache.keys()) {
      if (excess-- <= 0) break;
      cache.delete(key);
    }
  }
}
