/**
 * `.creds` files: a user JWT and its NKEY seed between `-----BEGIN ...-----` style markers, as
 * `nsc` writes them (reference: the jwt package's ParseDecoratedJWT / ParseDecoratedUserNKey).
 * Also signs a server nonce with the seed, which is what a client (or a leafnode remote with
 * `credentials`) sends as CONNECT `sig`.
 *
 * @module
 */
import { decodeSeed, encodePublicKey, PREFIX } from "../core/nkey.ts";
import { nodeBuiltin } from "../core/node_builtin.ts";
import { base64UrlEncode } from "./nkeys.ts";
import { privateKeyFromSeed, publicKeyFromSeed } from "./nkeys.ts";

/** The content of a `.creds` file. */
export interface UserCredentials {
  /** The user JWT. */
  jwt: string;
  /** The user seed (`SU…`). */
  seed: string;
  /** The user's public key (`U…`), derived from the seed. */
  publicKey: string;
}

// The jwt package's userConfigRE: a dashed line, the token, a dashed line.
const DECORATED = /\s*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(\r?\n|$)))/g;

function decoratedItems(contents: string): string[] {
  return [...contents.matchAll(DECORATED)].map((m) => m[1]);
}

/** The JWT of a decorated file (the whole text when it is not decorated). */
export function parseDecoratedJwt(contents: string): string {
  const items = decoratedItems(contents);
  return items.length ? items[0] : contents;
}

/**
 * The seed of a decorated file: the second decorated block, else the first line starting with
 * `SO`, `SA` or `SU`. Throws the jwt package's errors.
 */
export function parseDecoratedSeed(contents: string): string {
  const items = decoratedItems(contents);
  let seed: string | undefined = items.length > 1 ? items[1] : undefined;
  if (seed === undefined) {
    seed = contents.split("\n").map((l) => l.trim()).find((l) =>
      l.startsWith("SO") || l.startsWith("SA") || l.startsWith("SU")
    );
  }
  if (seed === undefined) throw new Error("no nkey seed found");
  if (!decodeSeed(seed.trim())) throw new Error("doesn't contain a seed nkey");
  return seed.trim();
}

/** Parses a `.creds` file's text. Throws when the JWT or the user seed is missing. */
export function parseCreds(contents: string): UserCredentials {
  const jwt = parseDecoratedJwt(contents).trim();
  if (!jwt.startsWith("eyJ")) throw new Error("no user JWT found");
  const seed = parseDecoratedSeed(contents);
  const decoded = decodeSeed(seed)!;
  if (decoded.prefix !== PREFIX.user) throw new Error("doesn't contain an user seed nkey");
  const publicKey = encodePublicKey(PREFIX.user, publicKeyFromSeed(decoded.key));
  return { jwt, seed, publicKey };
}

/** Reads and parses a `.creds` file. */
export async function readCredsFile(path: string): Promise<UserCredentials> {
  return parseCreds(await Deno.readTextFile(path));
}

/** Signs `nonce` with an encoded seed; the result is CONNECT `sig` (raw base64url). */
export function signNonce(seed: string, nonce: string): string {
  const decoded = decodeSeed(seed);
  if (!decoded) throw new Error("invalid seed");
  const key = privateKeyFromSeed(decoded.key);
  return base64UrlEncode(
    new Uint8Array(nodeBuiltin("node:crypto").sign(null, new TextEncoder().encode(nonce), key)),
  );
}

/** Formats a `.creds` file as nsc does (for tests and tools). */
export function formatCreds(jwt: string, seed: string): string {
  return `-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n\n` +
    `************************* IMPORTANT *************************\n` +
    `NKEY Seed printed below can be used to sign and prove identity.\n` +
    `NKEYs are sensitive and should be treated as secrets.\n\n` +
    `-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n\n` +
    `*************************************************************\n`;
}
