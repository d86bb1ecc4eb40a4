/**
 * Subject syntax and subject/pattern relations (reference: nats-server `server/sublist.go`).
 *
 * A subject is a non-empty list of tokens separated by `.`. No token may be empty and no
 * whitespace (space, tab, CR, LF, form feed) may appear anywhere. A token that is exactly `*`
 * matches one token; a token that is exactly `>` matches one or more tokens and must be last.
 * A longer token containing `*` or `>` (e.g. `foo*`, `>bar`) is an ordinary literal token.
 *
 * Every function here walks the strings with `charCodeAt`/`indexOf` and allocates nothing.
 *
 * @module
 */

const DOT = 46; // .
const STAR = 42; // *
const GT = 62; // >

/** Result of {@link scanSubject}. */
const INVALID = 0;
const LITERAL = 1;
const WILDCARD = 2;

/** True for the whitespace bytes the reference rejects in subjects (`\t\n\f\r ` ). */
function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13 || c === 12;
}

/** One pass over a subject: INVALID, LITERAL (valid, no wildcard token) or WILDCARD. */
function scanSubject(subject: string): number {
  const len = subject.length;
  if (len === 0) return INVALID;
  let start = 0;
  let wild = false;
  let sawFwc = false;
  for (let i = 0; i <= len; i++) {
    const c = i < len ? subject.charCodeAt(i) : DOT;
    if (c === DOT) {
      const tl = i - start;
      // Empty token, or any token after a `>`.
      if (tl === 0 || sawFwc) return INVALID;
      if (tl === 1) {
        const t = subject.charCodeAt(start);
        if (t === STAR) wild = true;
        else if (t === GT) wild = sawFwc = true;
      }
      start = i + 1;
    } else if (c <= 32 && isSpace(c)) {
      return INVALID;
    }
  }
  return wild ? WILDCARD : LITERAL;
}

/**
 * Whether `subject` is a valid subscription subject (wildcards allowed).
 *
 * `foo..bar`, `.foo`, `foo.`, `>.foo`, `foo.>.bar` and anything with whitespace are invalid;
 * `*`, `>`, `foo.*.>` and `foo.*bar` (a literal token) are valid.
 */
export function isValidSubject(subject: string): boolean {
  return scanSubject(subject) !== INVALID;
}

/**
 * Whether `subject` is valid and contains no wildcard token (a publishable subject).
 * `foo.*bar` is literal; `foo.*` and `foo.>` are not.
 */
export function isValidLiteralSubject(subject: string): boolean {
  return scanSubject(subject) === LITERAL;
}

/**
 * Whether `subject` has a token that is exactly `*` or `>` (the reference's `!subjectIsLiteral`).
 * Works on any string, valid or not; `foo.*bar` has none.
 */
export function subjectHasWildcard(subject: string): boolean {
  const len = subject.length;
  for (let i = 0; i < len; i++) {
    const c = subject.charCodeAt(i);
    if (
      (c === STAR || c === GT) && (i === 0 || subject.charCodeAt(i - 1) === DOT) &&
      (i + 1 === len || subject.charCodeAt(i + 1) === DOT)
    ) return true;
  }
  return false;
}

/** Whether `queue` is a usable queue group name: non-empty and free of whitespace. */
export function isValidQueueName(queue: string): boolean {
  const len = queue.length;
  if (len === 0) return false;
  for (let i = 0; i < len; i++) {
    const c = queue.charCodeAt(i);
    if (c <= 32 && isSpace(c)) return false;
  }
  return true;
}

/** Whether the token starting at `i` is exactly the one character `c` (`*` or `>`). */
function isWild(s: string, i: number, c: number): boolean {
  return s.charCodeAt(i) === c && (i + 1 === s.length || s.charCodeAt(i + 1) === DOT);
}

/**
 * Length of the token at `pi` of `pattern` when `subject` has the identical token at `si`
 * (same characters, both ending together), else -1.
 */
function sameToken(pattern: string, pi: number, subject: string, si: number): number {
  const pl = pattern.length;
  const sl = subject.length;
  let n = 0;
  for (; pi + n < pl; n++) {
    const c = pattern.charCodeAt(pi + n);
    if (c === DOT) break;
    if (si + n === sl || subject.charCodeAt(si + n) !== c) return -1;
  }
  if (si + n < sl && subject.charCodeAt(si + n) !== DOT) return -1;
  return n;
}

/**
 * Whether the literal `subject` is matched by the (possibly wildcard) `pattern`:
 * `*` consumes exactly one token, `>` one or more. Tokens of `subject` are compared verbatim,
 * so a `*`/`>` token in `subject` only matches a wildcard or the identical literal
 * (same as the trie). An empty subject token is never matched by a wildcard.
 */
export function subjectMatchesPattern(pattern: string, subject: string): boolean {
  const pl = pattern.length;
  const sl = subject.length;
  if (pl === 0 || sl === 0) return false;
  let pi = 0;
  let si = 0;
  // Invariant at the loop head: pi and si are at the start of a token of each string.
  for (;;) {
    if (isWild(pattern, pi, STAR) || isWild(pattern, pi, GT)) {
      if (si === sl || subject.charCodeAt(si) === DOT) return false; // empty subject token
      if (pattern.charCodeAt(pi) === GT) return true;
      si++;
      while (si < sl && subject.charCodeAt(si) !== DOT) si++;
      pi++;
    } else {
      // Literal token: same characters, then both tokens end together.
      const n = sameToken(pattern, pi, subject, si);
      if (n < 0) return false;
      pi += n;
      si += n;
    }
    // Both at a `.` or at the end: done when either string is.
    if (pi === pl || si === sl) return pi === pl && si === sl;
    pi++;
    si++;
  }
}

/**
 * Whether every literal subject matched by `subject` (which may contain wildcards) is also
 * matched by `pattern`, i.e. `subject` is a subset of `pattern`. Used to check a wildcard SUB
 * against permission patterns: `foo.*` ⊆ `foo.*`, `*.*`, `>`; `foo.>` ⊆ `*.>`, `>` but not
 * `foo.*`; `foo.bar` ⊆ `foo.*`. An empty pattern token gives false; an empty subject token
 * gives false unless a pattern `>` was reached first (as in the reference).
 */
export function subjectIsSubsetOf(subject: string, pattern: string): boolean {
  const pl = pattern.length;
  const sl = subject.length;
  let pi = 0;
  let si = 0;
  // Invariant at the loop head: pi and si are at the start of a token of each string.
  // Check order is the reference's (isSubsetMatchTokenized): a pattern `>` is decided before
  // the subject token is looked at, so `foo..bar` and `foo.` are subsets of `foo.>`.
  for (;;) {
    if (pi === pl || pattern.charCodeAt(pi) === DOT) return false; // empty pattern token
    // `>` in the pattern covers whatever rest the subject has.
    if (isWild(pattern, pi, GT)) return true;
    if (si === sl || subject.charCodeAt(si) === DOT) return false; // empty subject token
    // A `>` in the subject spans any number of tokens; only a pattern `>` covers it.
    if (isWild(subject, si, GT)) return false;
    if (isWild(pattern, pi, STAR)) {
      // `*` covers any single token, wildcard or literal.
      si++;
      while (si < sl && subject.charCodeAt(si) !== DOT) si++;
      pi++;
    } else {
      // Pattern literal: the subject token must be the identical literal (a `*` never is).
      if (isWild(subject, si, STAR)) return false;
      const n = sameToken(pattern, pi, subject, si);
      if (n < 0) return false;
      pi += n;
      si += n;
    }
    if (pi === pl || si === sl) return pi === pl && si === sl;
    pi++;
    si++;
  }
}
