/**
 * bcrypt (EksBlowfish), hand-written: verification with the semantics of Go's
 * `golang.org/x/crypto/bcrypt.CompareHashAndPassword` as used by nats-server 2.9.10, plus
 * hashing for tests and tools. Pure computation, no I/O: `bcrypt_pool.ts` runs it in Workers.
 *
 * Accepted hashes: `$2a$`, `$2b$`, `$2x$`, `$2y$` (all computed the same way, like Go: no
 * sign-extension bug emulation for `$2x$`), cost 04–31, 22-char salt, 31-char hash. Passwords are
 * UTF-8; only the first 72 bytes count (the key schedule wraps at 72 bytes, as in Go/OpenBSD).
 *
 * @module
 */
import { decodeBits } from "../core/radix.ts";
import { blowfishInit } from "./blowfish_table.ts";

/** `^\$2[abxy]\$\d{2}\$` — the reference's test for "this stored password is a bcrypt hash". */
export const BCRYPT_PREFIX = /^\$2[abxy]\$\d{2}\$/;

/** Whether a configured password/token is a bcrypt hash (then it is verified with bcrypt). */
export function isBcrypt(stored: string): boolean {
  return BCRYPT_PREFIX.test(stored);
}

export const MIN_COST = 4;
export const MAX_COST = 31;

const INIT = blowfishInit();
const STATE_WORDS = INIT.length; // 1042: P[0..17], S0..S3 at 18, 274, 530, 786

const ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const REV = (() => {
  const r = new Int8Array(128).fill(-1);
  for (let i = 0; i < 64; i++) r[ALPHABET.charCodeAt(i)] = i;
  return r;
})();

/** bcrypt's base64 (own alphabet, no padding). */
export function bcryptBase64Encode(data: Uint8Array): string {
  let out = "";
  let i = 0;
  while (i < data.length) {
    let c1 = data[i++];
    out += ALPHABET[c1 >>> 2];
    c1 = (c1 & 3) << 4;
    if (i >= data.length) {
      out += ALPHABET[c1];
      break;
    }
    let c2 = data[i++];
    out += ALPHABET[c1 | (c2 >>> 4)];
    c1 = (c2 & 0x0f) << 2;
    if (i >= data.length) {
      out += ALPHABET[c1];
      break;
    }
    c2 = data[i++];
    out += ALPHABET[c1 | (c2 >>> 6)];
    out += ALPHABET[c2 & 0x3f];
  }
  return out;
}

/** Decode `n` bytes from bcrypt base64 (unused trailing bits ignored); null on a bad char. */
export function bcryptBase64Decode(text: string, n: number): Uint8Array | null {
  return decodeBits(text, text.length, REV, 6, n);
}

/** The 18 key words: the key bytes (plus the trailing NUL) repeated cyclically, big endian. */
function cyclicWords(bytes: Uint8Array, count: number): Int32Array {
  const words = new Int32Array(count);
  let j = 0;
  for (let i = 0; i < count; i++) {
    let w = 0;
    for (let k = 0; k < 4; k++) {
      w = (w << 8) | bytes[j];
      j = j + 1 === bytes.length ? 0 : j + 1;
    }
    words[i] = w;
  }
  return words;
}

/**
 * Blowfish key expansion over the whole state (P then S, in pairs). With `salt` (4 words), the
 * salt words are XORed into the block before each encryption (bcrypt's "ExpandKey(state, salt,
 * key)"); without it this is the standard key schedule.
 */
function expand(st: Int32Array, key: Int32Array, salt: Int32Array | null): void {
  for (let i = 0; i < 18; i++) st[i] ^= key[i];
  let l = 0;
  let r = 0;
  let s = 0;
  for (let i = 0; i < STATE_WORDS; i += 2) {
    if (salt !== null) {
      l ^= salt[s];
      r ^= salt[s + 1];
      s ^= 2;
    }
    // Blowfish encipher (l, r), 16 rounds, inlined.
    l ^= st[0];
    for (let k = 1; k <= 16; k += 2) {
      r ^= (((st[18 + (l >>> 24)] + st[274 + ((l >>> 16) & 0xff)]) ^
        st[530 + ((l >>> 8) & 0xff)]) + st[786 + (l & 0xff)]) ^ st[k];
      l ^= (((st[18 + (r >>> 24)] + st[274 + ((r >>> 16) & 0xff)]) ^
        st[530 + ((r >>> 8) & 0xff)]) + st[786 + (r & 0xff)]) ^ st[k + 1];
    }
    const t = l;
    l = r ^ st[17];
    r = t;
    st[i] = l;
    st[i + 1] = r;
  }
}

/** Encrypt the 6-word block (3 Blowfish blocks) in place. */
function encryptBlocks(st: Int32Array, data: Int32Array): void {
  for (let b = 0; b < 6; b += 2) {
    let l = data[b];
    let r = data[b + 1];
    l ^= st[0];
    for (let k = 1; k <= 16; k += 2) {
      r ^= (((st[18 + (l >>> 24)] + st[274 + ((l >>> 16) & 0xff)]) ^
        st[530 + ((l >>> 8) & 0xff)]) + st[786 + (l & 0xff)]) ^ st[k];
      l ^= (((st[18 + (r >>> 24)] + st[274 + ((r >>> 16) & 0xff)]) ^
        st[530 + ((r >>> 8) & 0xff)]) + st[786 + (r & 0xff)]) ^ st[k + 1];
    }
    data[b] = r ^ st[17];
    data[b + 1] = l;
  }
}

// "OrpheanBeholderScryDoubt" as 6 big-endian words.
const MAGIC = new Int32Array([
  0x4f727068,
  0x65616e42,
  0x65686f6c,
  0x64657253,
  0x63727944,
  0x6f756274,
]);

const encoder = new TextEncoder();

/**
 * The raw bcrypt computation: 23 output bytes for (password bytes, cost, 16-byte salt),
 * encoded to the 31-char hash part.
 */
export function bcryptRaw(password: Uint8Array, cost: number, salt: Uint8Array): string {
  if (!Number.isInteger(cost) || cost < MIN_COST || cost > MAX_COST) {
    throw new RangeError(`bcrypt cost ${cost} is outside allowed range (4,31)`);
  }
  if (salt.length !== 16) throw new RangeError("bcrypt salt must be 16 bytes");
  // Key: the bytes plus a trailing NUL; the schedule reads 72 bytes cyclically.
  const key = new Uint8Array(Math.min(password.length, 72) + 1);
  key.set(password.subarray(0, 72));
  const keyWords = cyclicWords(key, 18);
  const saltWords = cyclicWords(salt, 4);

  const st = new Int32Array(INIT);
  expand(st, keyWords, saltWords);
  const rounds = 2 ** cost;
  for (let i = 0; i < rounds; i++) {
    expand(st, keyWords, null);
    expand(st, saltWords4x(saltWords), null);
  }
  const data = new Int32Array(MAGIC);
  for (let i = 0; i < 64; i++) encryptBlocks(st, data);
  const out = new Uint8Array(24);
  for (let i = 0; i < 6; i++) {
    out[i * 4] = data[i] >>> 24;
    out[i * 4 + 1] = (data[i] >>> 16) & 0xff;
    out[i * 4 + 2] = (data[i] >>> 8) & 0xff;
    out[i * 4 + 3] = data[i] & 0xff;
  }
  return bcryptBase64Encode(out.subarray(0, 23));
}

// The salt as an 18-word cyclic key (16 bytes repeated), cached per salt words object.
const saltKeyCache = new WeakMap<Int32Array, Int32Array>();
function saltWords4x(saltWords: Int32Array): Int32Array {
  let k = saltKeyCache.get(saltWords);
  if (!k) {
    k = new Int32Array(18);
    for (let i = 0; i < 18; i++) k[i] = saltWords[i & 3];
    saltKeyCache.set(saltWords, k);
  }
  return k;
}

/** A parsed bcrypt hash string. */
export interface ParsedBcrypt {
  /** e.g. "$2a$" */
  prefix: string;
  cost: number;
  /** The 22 encoded salt characters. */
  saltText: string;
  salt: Uint8Array;
  /** The stored hash characters (31 for a well-formed hash). */
  hashText: string;
}

/** Parse `$2?$NN$<22 salt><31 hash>`; null when malformed (bad prefix, cost, salt, length). */
export function parseBcrypt(stored: string): ParsedBcrypt | null {
  const m = /^(\$2[abxy]\$)(\d{2})\$/.exec(stored);
  if (!m || stored.length < 59) return null;
  const cost = Number(m[2]);
  if (cost < MIN_COST || cost > MAX_COST) return null;
  const saltText = stored.slice(7, 29);
  const salt = bcryptBase64Decode(saltText, 16);
  if (!salt) return null;
  return { prefix: m[1], cost, saltText, salt, hashText: stored.slice(29) };
}

/** Constant-time string equality (for ASCII strings of public length). */
function sameString(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/**
 * Verify `password` against a stored bcrypt hash, synchronously (blocks for the whole cost:
 * ~200 ms at cost 11). Go semantics: the hash must be at least 59 chars; only its first 60
 * chars take part in the comparison (31 hash chars after the 29-char header).
 */
export function bcryptVerifySync(stored: string, password: string | Uint8Array): boolean {
  const p = parseBcrypt(stored);
  if (!p) return false;
  const pw = typeof password === "string" ? encoder.encode(password) : password;
  const computed = bcryptRaw(pw, p.cost, p.salt);
  // Go rebuilds a 60-byte string from the stored parts, so a 30-char stored hash can't match
  // and anything past 60 chars is ignored.
  return sameString(p.hashText.slice(0, 31), computed);
}

/** Options for {@link bcryptHash}. */
export interface BcryptHashOptions {
  /** Minor version letter: "a" (default, as Go generates), "b", "x" or "y". */
  minor?: "a" | "b" | "x" | "y";
  /** 16 salt bytes (random when omitted). */
  salt?: Uint8Array;
}

/** Hash a password (for tests and tools): `$2a$<cost>$<salt><hash>`. */
export function bcryptHash(
  password: string | Uint8Array,
  cost = 11,
  options: BcryptHashOptions = {},
): string {
  const salt = options.salt ?? crypto.getRandomValues(new Uint8Array(16));
  const pw = typeof password === "string" ? encoder.encode(password) : password;
  const hash = bcryptRaw(pw, cost, salt);
  const saltText = bcryptBase64Encode(salt);
  return `$2${options.minor ?? "a"}$${String(cost).padStart(2, "0")}$${saltText}${hash}`;
}
