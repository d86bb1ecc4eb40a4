/**
 * NKEY signatures and the nonce challenge (reference: nats-server `server/nkey.go`,
 * `server/auth.go`); the key encoding itself is `lib/core/nkey.ts`.
 *
 * @module
 */
import { decodeBits } from "../core/radix.ts";
import { decodePublicKey, encodePublicKey, encodeSeed, PREFIX } from "../core/nkey.ts";
import type { KeyObject } from "node:crypto";
import { nodeBuiltin } from "../core/node_builtin.ts";
import { ed25519PublicKey } from "./ed25519_public.ts";

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

/** DER of an ed25519 public key: this prefix, then the 32 key bytes (SubjectPublicKeyInfo). */
const SPKI_PREFIX = hexBytes("302a300506032b6570032100");
/** DER of an ed25519 private key: this prefix, then the 32 seed bytes (PKCS#8). */
const PKCS8_PREFIX = hexBytes("302e020100300506032b657004220420");

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

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
    ko = nodeBuiltin("node:crypto").createPublicKey({
      key: der as unknown as Buffer,
      format: "der",
      type: "spki",
    });
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
    return nodeBuiltin("node:crypto").verify(null, data, key, sigBytes);
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
  const { createPrivateKey } = nodeBuiltin("node:crypto");
  return createPrivateKey({ key: der as unknown as Buffer, format: "der", type: "pkcs8" });
}

/** Derive the 32-byte ed25519 public key of a 32-byte seed. */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  return ed25519PublicKey(seed);
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
