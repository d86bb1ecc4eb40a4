/**
 * NKEY encoding (reference: the nkeys library's `strkey.go` and `crc16.go`).
 *
 * An encoded key is base32 (RFC 4648 alphabet, no padding) of
 * `prefix byte(s) | payload | crc16-xmodem (little endian)`. Public keys have a one-byte prefix
 * and a 32-byte ed25519 public key, so they are 56 characters long; seeds have a two-byte prefix
 * (`S` + the key type) and a 32-byte ed25519 seed (58 characters). Signing and verifying live in
 * `lib/auth/nkeys.ts`.
 *
 * @module
 */
import { decodeBits } from "./radix.ts";

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

/**
 * Whether `text` decodes (base32, CRC) to bytes starting with `prefix`: the nkeys library's
 * `Decode(prefix, text)` succeeding, which is what `IsValidPublicUserKey` and friends test.
 * Like the reference, the payload length is not checked (`UAAV6DI` is a valid user key); use
 * {@link decodePublicKey} when a usable 32-byte key is needed.
 */
export function isValidPublicKey(text: string, prefix: number): boolean {
  const raw = decodeChecked(text);
  return raw !== null && raw[0] === prefix;
}

/** Whether `text` is a valid public user NKEY (`U…`): used to validate `users[].nkey`. */
export function isValidPublicUserKey(text: string): boolean {
  return isValidPublicKey(text, PREFIX.user);
}

/** Whether `text` is a valid public account NKEY (`A…`). */
export function isValidPublicAccountKey(text: string): boolean {
  return isValidPublicKey(text, PREFIX.account);
}

/** Whether `text` is a valid public server NKEY (`N…`). */
export function isValidPublicServerKey(text: string): boolean {
  return isValidPublicKey(text, PREFIX.server);
}
