/**
 * NKEY public keys and the nonce challenge (reference: nats-server `server/nkey.go`,
 * `server/auth.go`, and the nkeys library's base32 + CRC16 encoding).
 *
 * An encoded key is base32 (RFC 4648 alphabet, no padding) of
 * `prefix byte(s) | payload | crc16-xmodem (little endian)`. Public keys have a one-byte prefix
 * and a 32-byte ed25519 public key, so they are 56 characters long; seeds have a two-byte prefix
 * (`S` + the key type) and a 32-byte ed25519 seed (58 characters).
 *
 * @module
 */
import { decodeBits } from "./radix.ts";
import { createPrivateKey, createPublicKey, type KeyObject, verify } from "node:crypto";

/** Prefix bytes (the first base32 character of the encoded key is shown in the comment). */
export const PREFIX = {
  /** `S…` seed */
  seed: 18 << 3,
  /** `P…` private key */
  private: 15 << 3,
  /** `O…` operator */
  operator: 14 << 3,
  /** `N…` server */
  server: 13 << 3,
  /** `C…` cluster */
  cluster: 2 << 3,
  /** `A…` account */
  account: 0,
  /** `U…` user */
  user: 20 << 3,
  /** `X…` curve (x25519) */
  curve: 23 << 3,
} as const;

const PUBLIC_PREFIXES = new Set<number>([
  PREFIX.operator,
  PREFIX.server,
  PREFIX.cluster,
  PREFIX.account,
  PREFIX.user,
  PREFIX.curve,
]);

// ---------------------------------------------------------------------------------------------
// CRC16 (XMODEM: poly 0x1021, init 0, no reflection)

const CRC_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? (c << 1) ^ 0x1021 : c << 1;
    t[i] = c & 0xffff;
  }
  return t;
})();

/** CRC16/XMODEM of `data`. */
export function crc16(data: Uint8Array): number {
  let crc = 0;
  for (let i = 0; i < data.length; i++) {
    crc = ((crc << 8) & 0xffff) ^ CRC_TABLE[((crc >>> 8) ^ data[i]) & 0xff];
  }
  return crc;
}

// ---------------------------------------------------------------------------------------------
// base32 (RFC 4648 alphabet, upper case, no padding)

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B32_REV = (() => {
  const r = new Int8Array(128).fill(-1);
  for (let i = 0; i < B32.length; i++) r[B32.charCodeAt(i)] = i;
  return r;
})();

/** base32-encode without padding. */
export function base32Encode(data: Uint8Array): string {
  let out = "";
  let buf = 0;
  let bits = 0;
  for (let i = 0; i < data.length; i++) {
    buf = (buf << 8) | data[i];
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += B32[(buf >>> bits) & 31];
    }
    buf &= (1 << bits) - 1;
  }
  if (bits > 0) out += B32[(buf << (5 - bits)) & 31];
  return out;
}

/**
 * Decode unpadded base32; null on a character outside the alphabet or an impossible length.
 * Like Go's decoder, CR and LF are skipped.
 */
export function base32Decode(text: string): Uint8Array | null {
  const rem = text.replace(/[\r\n]/g, "");
  const tail = rem.length % 8;
  if (tail === 1 || tail === 3 || tail === 6) return null;
  return decodeBits(rem, rem.length, B32_REV, 5, Math.floor((rem.length * 5) / 8));
}

// ---------------------------------------------------------------------------------------------
// Key encoding

/** Encode a 32-byte public key with a one-byte prefix (e.g. `PREFIX.server` → `N…`). */
export function encodePublicKey(prefix: number, key: Uint8Array): string {
  if (key.length !== 32) throw new RangeError("public key must be 32 bytes");
  const raw = new Uint8Array(35);
  raw[0] = prefix;
  raw.set(key, 1);
  const crc = crc16(raw.subarray(0, 33));
  raw[33] = crc & 0xff;
  raw[34] = crc >>> 8;
  return base32Encode(raw);
}

/** Encode a 32-byte ed25519 seed of the given key type (e.g. `PREFIX.user` → `SU…`). */
export function encodeSeed(prefix: number, seed: Uint8Array): string {
  if (seed.length !== 32) throw new RangeError("seed must be 32 bytes");
  const raw = new Uint8Array(36);
  raw[0] = PREFIX.seed | (prefix >> 5);
  raw[1] = (prefix & 31) << 3;
  raw.set(seed, 2);
  const crc = crc16(raw.subarray(0, 34));
  raw[34] = crc & 0xff;
  raw[35] = crc >>> 8;
  return base32Encode(raw);
}

/** base32-decode and check the trailing CRC; returns the bytes without the CRC. */
function decodeChecked(text: string): Uint8Array | null {
  const raw = base32Decode(text);
  if (!raw || raw.length < 4) return null;
  const n = raw.length - 2;
  const crc = raw[n] | (raw[n + 1] << 8);
  if (crc16(raw.subarray(0, n)) !== crc) return null;
  return raw.subarray(0, n);
}

/** A decoded public key. */
export interface DecodedPublicKey {
  prefix: number;
  key: Uint8Array;
}

/**
 * Decode a public NKEY (`U…`, `N…`, `A…`, `O…`, `C…`, `X…`): base32, CRC and prefix checked,
 * 32-byte key. With `expectedPrefix` the prefix must be that one. null when invalid.
 */
export function decodePublicKey(text: string, expectedPrefix?: number): DecodedPublicKey | null {
  const raw = decodeChecked(text);
  if (!raw || raw.length !== 33) return null;
  const prefix = raw[0];
  if (!PUBLIC_PREFIXES.has(prefix)) return null;
  if (expectedPrefix !== undefined && prefix !== expectedPrefix) return null;
  return { prefix, key: raw.slice(1) };
}

/** Decode an encoded seed (`S…`) into its key-type prefix and 32-byte seed. */
export function decodeSeed(text: string): DecodedPublicKey | null {
  const raw = decodeChecked(text);
  if (!raw || raw.length !== 34) return null;
  if ((raw[0] & 0xf8) !== PREFIX.seed) return null;
  const prefix = ((raw[0] & 7) << 5) | ((raw[1] & 0xf8) >> 3);
  if (!PUBLIC_PREFIXES.has(prefix)) return null;
  return { prefix, key: raw.slice(2) };
}

/** Whether `text` is a valid public user NKEY (`U…`): used to validate `users[].nkey`. */
export function isValidPublicUserKey(text: string): boolean {
  return decodePublicKey(text, PREFIX.user) !== null;
}

/** Whether `text` is a valid public account NKEY (`A…`). */
export function isValidPublicAccountKey(text: string): boolean {
  return decodePublicKey(text, PREFIX.account) !== null;
}

/** Whether `text` is a valid public server NKEY (`N…`). */
export function isValidPublicServerKey(text: string): boolean {
  return decodePublicKey(text, PREFIX.server) !== null;
}

// ---------------------------------------------------------------------------------------------
// base64 (signatures and nonces)

const B64_STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
function reverse(alpha: string): Int8Array {
  const r = new Int8Array(128).fill(-1);
  for (let i = 0; i < alpha.length; i++) r[alpha.charCodeAt(i)] = i;
  return r;
}
const B64_STD_REV = reverse(B64_STD);
const B64_URL_REV = reverse(B64_URL);

/**
 * Decode base64 like Go's `base64.RawURLEncoding` (`url`, unpadded) or `base64.StdEncoding`
 * (`!url`, padded): CR/LF skipped, '=' rejected when unpadded and required when padded,
 * unused trailing bits ignored. null on invalid input.
 */
export function base64Decode(text: string, url: boolean): Uint8Array | null {
  const s = text.replace(/[\r\n]/g, "");
  let end = s.length;
  if (!url) {
    if (end % 4 !== 0) return null;
    if (s.endsWith("==")) end -= 2;
    else if (s.endsWith("=")) end -= 1;
  }
  if (end % 4 === 1) return null;
  const rev = url ? B64_URL_REV : B64_STD_REV;
  return decodeBits(s, end, rev, 6, Math.floor((end * 6) / 8));
}

/** base64url without padding. */
export function base64UrlEncode(data: Uint8Array): string {
  let out = "";
  let i = 0;
  for (; i + 2 < data.length; i += 3) {
    const n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
    out += B64_URL[n >>> 18] + B64_URL[(n >>> 12) & 63] + B64_URL[(n >>> 6) & 63] +
      B64_URL[n & 63];
  }
  const left = data.length - i;
  if (left === 1) {
    const n = data[i] << 16;
    out += B64_URL[n >>> 18] + B64_URL[(n >>> 12) & 63];
  } else if (left === 2) {
    const n = (data[i] << 16) | (data[i + 1] << 8);
    out += B64_URL[n >>> 18] + B64_URL[(n >>> 12) & 63] + B64_URL[(n >>> 6) & 63];
  }
  return out;
}

/** Decode a CONNECT `sig`: raw (unpadded) base64url first, then padded standard base64. */
export function decodeSignature(sig: string): Uint8Array | null {
  return base64Decode(sig, true) ?? base64Decode(sig, false);
}

// ---------------------------------------------------------------------------------------------
// ed25519

const SPKI_PREFIX = new Uint8Array([
  0x30,
  0x2a,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x03,
  0x21,
  0x00,
]);
const PKCS8_PREFIX = new Uint8Array([
  0x30,
  0x2e,
  0x02,
  0x01,
  0x00,
  0x30,
  0x05,
  0x06,
  0x03,
  0x2b,
  0x65,
  0x70,
  0x04,
  0x22,
  0x04,
  0x20,
]);

const KEY_CACHE_MAX = 1024;
const keyCache = new Map<string, KeyObject>();

function keyObjectFor(nkey: string): KeyObject | null {
  const hit = keyCache.get(nkey);
  if (hit) return hit;
  const decoded = decodePublicKey(nkey);
  if (!decoded) return null;
  const der = new Uint8Array(44);
  der.set(SPKI_PREFIX);
  der.set(decoded.key, 12);
  let ko: KeyObject;
  try {
    ko = createPublicKey({ key: der as unknown as Buffer, format: "der", type: "spki" });
  } catch {
    return null;
  }
  if (keyCache.size >= KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value!);
  keyCache.set(nkey, ko);
  return ko;
}

const encoder = new TextEncoder();

/**
 * Verify a CONNECT nonce signature: `sig` (base64url raw or standard base64) must be the
 * ed25519 signature by `nkey` (any valid public NKEY) over the nonce bytes as sent in INFO.
 * Never throws.
 */
export function verifyNonceSignature(
  nkey: string,
  nonce: string | Uint8Array,
  sig: string,
): boolean {
  const key = keyObjectFor(nkey);
  if (!key) return false;
  const sigBytes = decodeSignature(sig);
  if (!sigBytes || sigBytes.length !== 64) return false;
  const data = typeof nonce === "string" ? encoder.encode(nonce) : nonce;
  try {
    return verify(null, data, key, sigBytes);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Server identity and nonces

/** A freshly generated ed25519 key pair, NKEY-encoded. */
export interface NkeyPair {
  /** Public key, e.g. `N…` (56 chars). */
  publicKey: string;
  /** Seed, e.g. `SN…` (58 chars). */
  seed: string;
}

/** The ed25519 private key of a 32-byte NKEY seed (PKCS#8 wrapped). */
export function privateKeyFromSeed(seed: Uint8Array): KeyObject {
  const der = new Uint8Array(48);
  der.set(PKCS8_PREFIX);
  der.set(seed, 16);
  return createPrivateKey({ key: der as unknown as Buffer, format: "der", type: "pkcs8" });
}

/** Derive the 32-byte ed25519 public key of a 32-byte seed. */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(privateKeyFromSeed(seed)).export({ format: "der", type: "spki" });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

/** Generate a random key pair of the given type (default: server, `N…`). */
export function createKeyPair(prefix: number = PREFIX.server): NkeyPair {
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const pub = publicKeyFromSeed(seed);
  return { publicKey: encodePublicKey(prefix, pub), seed: encodeSeed(prefix, seed) };
}

/** A random server id: a real server public NKEY (`N…`, 56 chars), as INFO `server_id`. */
export function createServerId(): string {
  return createKeyPair(PREFIX.server).publicKey;
}

/** Raw length of the nonce (bytes) and its encoded length (chars). */
export const NONCE_RAW_LEN = 11;
export const NONCE_LEN = 15;

/** A fresh INFO nonce: 11 random bytes, base64url without padding (15 chars). */
export function createNonce(): string {
  return base64UrlEncode(crypto.getRandomValues(new Uint8Array(NONCE_RAW_LEN)));
}
