/** "Did you mean" hints for unknown keys. */

function distance(a: string, b: string, limit: number): number {
  // Damerau-Levenshtein (optimal string alignment): a swapped pair of letters costs 1.
  const n = a.length;
  const m = b.length;
  if (Math.abs(n - m) > limit) return limit + 1;
  const d: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = 0; i <= n; i++) d[i][0] = i;
  for (let j = 0; j <= m; j++) d[0][j] = j;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

/**
 * The closest candidate to `key` when it is a near miss (a typo, a missing/extra `_` or `s`,
 * swapped letters, a different case), else undefined.
 */
export function suggest(key: string, candidates: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  if (k.length < 2 || k.length > 64) return undefined;
  const limit = k.length <= 4 ? 1 : k.length <= 8 ? 2 : 3;
  let best: string | undefined;
  let bestD = limit + 1;
  for (const c of candidates) {
    const d = c === k ? 0 : distance(k, c, limit);
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}
