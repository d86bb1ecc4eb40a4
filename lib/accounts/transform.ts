import { subjectMatchesPattern } from "../core/subject.ts";
/**
 * Subject transforms as imports use them (nats-server 2.9.10 `server/subject_transform` in
 * `accounts.go`: newTransform, transformTokenize, transformUntokenize) and Go's SubjectsCollide.
 *
 * @module
 */

function tokens(s: string): string[] {
  return s.split(".");
}

/** Whether any token of `s` is `*` or `>`. */
export function hasWildcard(s: string): boolean {
  for (const t of tokens(s)) if (t === "*" || t === ">") return true;
  return false;
}

/** Go's SubjectsCollide: whether two (wildcard) subjects can match a common literal subject. */
export function subjectsCollide(a: string, b: string): boolean {
  if (a === b) return true;
  const ta = tokens(a);
  const tb = tokens(b);
  const la = !hasWildcard(a);
  const lb = !hasWildcard(b);
  if (la && lb) return false;
  if (la) return subjectMatchesPattern(b, a);
  if (lb) return subjectMatchesPattern(a, b);
  const fa = ta[ta.length - 1] === ">";
  const fb = tb[tb.length - 1] === ">";
  if (!fa && !fb && ta.length !== tb.length) return false;
  if (ta.length < tb.length && !fa) return false;
  if (tb.length < ta.length && !fb) return false;
  const stop = Math.min(ta.length, tb.length);
  for (let i = 0; i < stop; i++) {
    const x = ta[i];
    const y = tb[i];
    if (x.length === 0 || y.length === 0) return false;
    const wild = x[0] === "*" || x[0] === ">" || y[0] === "*" || y[0] === ">";
    if (!wild && x !== y) return false;
  }
  return true;
}

/** Go's transformTokenize: each `*` token becomes `$1`, `$2`, ... */
export function transformTokenize(s: string): string {
  let i = 1;
  return tokens(s).map((t) => (t === "*" ? `$${i++}` : t)).join(".");
}

/** Go's transformUntokenize: `$N` tokens become `*`; returns the placeholders in order. */
export function transformUntokenize(s: string): [string, string[]] {
  const phs: string[] = [];
  const out = tokens(s).map((t) => {
    if (t.length > 1 && t[0] === "$" && t[1] >= "1" && t[1] <= "9") {
      phs.push(t);
      return "*";
    }
    return t;
  });
  return [out.join("."), phs];
}

const WILDCARD_FN = /^\{\{\s*[wW]ildcard\s*\((.*)\)\s*\}\}$/;

/**
 * A subject transform as imports use it (Go's newTransform/transform, limited to `$N`,
 * `{{wildcard(N)}}` placeholders and a trailing `>`). Throws with the reference's error text.
 */
export class Transform {
  readonly src: string;
  readonly dest: string;
  private readonly dtoks: string[];
  private readonly stoksLen: number;
  /** Per destination token: -1 literal, else the index of the source token to copy. */
  private readonly map: number[] | null;

  constructor(src: string, dest: string) {
    const si = subjectInfo(src);
    const di = subjectInfo(dest);
    if (!si || !di || di.pwcs > 0 || si.fwc !== di.fwc) throw new Error("invalid subject");
    this.src = src;
    this.dest = dest;
    this.dtoks = di.toks;
    this.stoksLen = si.toks.length;
    if (si.pwcs === 0 && !si.fwc) {
      this.map = null;
      return;
    }
    const sti = new Map<number, number>();
    si.toks.forEach((t, i) => {
      if (t === "*") sti.set(sti.size + 1, i);
    });
    const map: number[] = [];
    let placeholders = 0;
    for (const t of di.toks) {
      const idx = placeholderIndex(t);
      if (idx === null) {
        map.push(-1);
        continue;
      }
      placeholders++;
      if (idx > si.pwcs) {
        throw new Error(
          `invalid mapping destination: wildcard index out of range in ${t}: [${idx}]`,
        );
      }
      map.push(sti.get(idx) ?? 0);
    }
    if (placeholders < si.pwcs) {
      throw new Error(
        `invalid mapping destination: not using all of the token wildcard(s) in ${dest}`,
      );
    }
    this.map = map;
  }

  /** Maps a literal subject matched by `src`. */
  apply(subject: string): string {
    const map = this.map;
    if (map === null) return this.dest;
    const toks = tokens(subject);
    const out: string[] = [];
    for (let i = 0; i < map.length; i++) {
      const d = this.dtoks[i];
      if (map[i] === -1) {
        if (d === ">") break;
        out.push(d);
      } else out.push(toks[map[i]] ?? "");
    }
    if (this.dtoks[this.dtoks.length - 1] === ">") {
      for (let i = this.stoksLen - 1; i < toks.length; i++) out.push(toks[i]);
    }
    return out.join(".");
  }

  /** Go's transform.reverse (for service imports the transform is built backwards). */
  reverse(): Transform {
    if (this.map === null) return new Transform(this.dest, this.src);
    const [nsrc, phs] = transformUntokenize(this.dest);
    const nda = tokens(this.src).map((t) => (t === "*" ? phs.shift() ?? t : t));
    return new Transform(nsrc, nda.join("."));
  }
}

function subjectInfo(s: string): { toks: string[]; pwcs: number; fwc: boolean } | null {
  if (s === "") return null;
  const toks = tokens(s);
  let pwcs = 0;
  let fwc = false;
  for (const t of toks) {
    if (t.length === 0 || fwc) return null;
    if (t === ">") fwc = true;
    else if (t === "*") pwcs++;
  }
  return { toks, pwcs, fwc };
}

function placeholderIndex(t: string): number | null {
  if (t.length > 1 && t[0] === "$") {
    const n = Number(t.slice(1));
    return Number.isInteger(n) && /^[+-]?\d+$/.test(t.slice(1)) ? n : null;
  }
  const m = WILDCARD_FN.exec(t);
  if (m) {
    const n = Number(m[1].trim());
    if (!Number.isInteger(n)) {
      throw new Error(`invalid mapping destination: invalid argument in ${t}`);
    }
    return n;
  }
  if (t.startsWith("{{") && t.endsWith("}}")) {
    throw new Error(`invalid mapping destination: mapping function not supported here in ${t}`);
  }
  return null;
}
