/**
 * Blowfish's initial state is the fractional part of π in hexadecimal: P-array (18 words) then
 * the four S-boxes (4 × 256 words), 1042 words = 8336 hex digits. `blowfish_table.ts` ships them
 * as a constant; this module recomputes them from π (Machin's formula with BigInt), so tests can
 * check the constant and the benchmark can compare the two start-up costs.
 *
 * @module
 */

/** Number of 32-bit words of Blowfish state (18 + 4 × 256). */
export const BLOWFISH_WORDS = 1042;

/** atan(1/x) scaled by 2^bits (fixed point), by the alternating series. */
function atanInv(x: bigint, bits: bigint): bigint {
  const one = 1n << bits;
  const x2 = x * x;
  let power = one / x; // 1 / x^(2k+1), scaled
  let sum = power;
  let k = 1n;
  let sign = -1n;
  while (power !== 0n) {
    power /= x2;
    const term = power / (2n * k + 1n);
    sum += sign * term;
    sign = -sign;
    k++;
  }
  return sum;
}

/** The first `digits` hexadecimal digits of the fractional part of π (upper case). */
export function piFractionHex(digits: number): string {
  const guard = 64n;
  const bits = BigInt(digits * 4) + guard;
  // π = 16·atan(1/5) − 4·atan(1/239)
  const pi = 16n * atanInv(5n, bits) - 4n * atanInv(239n, bits);
  const frac = (pi >> guard) & ((1n << BigInt(digits * 4)) - 1n);
  return frac.toString(16).toUpperCase().padStart(digits, "0");
}

/** Blowfish's initial P-array and S-boxes computed from π (about 100 ms on a slow box). */
export function computeBlowfishInit(): Int32Array {
  const hex = piFractionHex(BLOWFISH_WORDS * 8);
  const out = new Int32Array(BLOWFISH_WORDS);
  for (let i = 0; i < BLOWFISH_WORDS; i++) out[i] = parseInt(hex.slice(i * 8, i * 8 + 8), 16) | 0;
  return out;
}
