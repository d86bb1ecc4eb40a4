/**
 * Operator-mode authentication of one CONNECT (nats-server 2.9.10
 * processClientOrLeafAuthentication with trusted keys): the user JWT is decoded and validated,
 * its account fetched and checked (trusted issuer, signer known, not expired, bearer allowed),
 * the nonce signature verified unless it is a bearer token, then revocations, source CIDRs and
 * connect times. The result carries the permissions and the limits the connection enforces.
 *
 * @module
 */
import type { ConnectionKind } from "../../core/kinds.ts";
import { verifyNonceSignature } from "../nkeys.ts";
import type { ConnectCredentials, Identity, JwtIdentity } from "../types.ts";
import { isRevoked, NO_LIMIT, type UserClaims } from "./claims.ts";
import { decodeUserClaims, nowSeconds } from "./decode.ts";
import type { JwtAccountStore } from "./store.ts";
import {
  applyTemplate,
  connectionTypeAllowed,
  hasEmptyPermissions,
  permissionsFromJwt,
  srcAllowed,
  timesAllowed,
  validateUserClaims,
} from "./user.ts";

/** The peer facts the JWT rules look at. */
export interface JwtPeer {
  kind: ConnectionKind;
  hostname: string;
}

/** Why a JWT login failed (the reference's debug texts), or the identity. */
export type JwtAuthResult = { identity: Identity } | { error: string };

/** The smaller of two limits where -1 means none (minLimit). */
export function minLimit(a: number, b: number): number {
  if (a === NO_LIMIT) return b;
  if (b === NO_LIMIT) return a;
  return Math.min(a, b);
}

// As decoded by the reference, a limit missing from a JWT is 0 (nsc always writes -1).
export function limitOf(v: number | undefined): number {
  return v ?? 0;
}

/** Authenticates a CONNECT carrying a user JWT against `store`. */
export async function authenticateJwt(
  creds: ConnectCredentials,
  peer: JwtPeer,
  nonce: string | undefined,
  store: JwtAccountStore,
): Promise<JwtAuthResult> {
  if (!creds.jwt) return { error: "Authentication requires a user JWT" };
  let uc: UserClaims;
  try {
    uc = decodeUserClaims(creds.jwt);
  } catch (e) {
    return { error: `User JWT not valid: ${(e as Error).message}` };
  }
  const invalid = validateUserClaims(uc);
  if (invalid.length) return { error: `User JWT no longer valid: ${invalid.join(", ")}` };
  let limits = uc.nats;
  if (!connectionTypeAllowed(limits.allowed_connection_types, peer.kind)) {
    return { error: "Connection type not allowed" };
  }
  const issuer = uc.nats.issuer_account || uc.iss;
  const acc = await store.lookup(issuer);
  if (!acc) return { error: "Account JWT lookup error" };
  if (!store.isTrusted(acc.claims.iss)) {
    return { error: "Account JWT not signed by trusted operator" };
  }
  const scope = uc.iss === acc.name ? null : acc.signingKeys.get(uc.iss);
  if (scope === undefined) return { error: "User JWT issuer is not known" };
  if (scope !== null) {
    if (!hasEmptyPermissions(uc.nats)) {
      return { error: "User JWT is not valid: scoped users require no permissions or limits set" };
    }
    if (scope.kind !== "user_scope") return { error: "User JWT is not valid" };
    try {
      limits = { ...uc.nats, ...applyTemplate(scope.template ?? {}, uc, acc.claims) };
    } catch {
      return { error: "User JWT generated invalid permissions" };
    }
  }
  if (acc.expired()) return { error: "Account JWT has expired" };
  const accLimits = acc.claims.nats.limits ?? {};
  if (uc.nats.bearer_token && accLimits.disallow_bearer) {
    return { error: "Account does not allow bearer token" };
  }
  if (!uc.nats.bearer_token) {
    if (!creds.sig) return { error: "Signature missing" };
    if (!verifyNonceSignature(uc.sub, nonce ?? "", creds.sig)) {
      return { error: "Signature not verified" };
    }
  }
  if (isRevoked(acc.claims.nats.revocations, uc.sub, uc.iat ?? 0)) {
    return { error: "User authentication revoked" };
  }
  if (!srcAllowed(limits, peer.hostname)) return { error: `Bad src Ip ${peer.hostname}` };
  const times = timesAllowed(limits);
  if (!times.allowed) return { error: "Outside connect times" };

  let permissions = permissionsFromJwt(limits);
  if (!permissions && acc.claims.nats.default_permissions) {
    permissions = permissionsFromJwt(acc.claims.nats.default_permissions);
  }
  let expiresInMs = 0;
  if (uc.exp && uc.exp > 0) expiresInMs = Math.max(0, uc.exp - nowSeconds()) * 1000;
  if (times.validForMs && (expiresInMs === 0 || times.validForMs < expiresInMs)) {
    expiresInMs = times.validForMs;
  }
  const jwt: JwtIdentity = {
    userKey: uc.sub,
    issuer: uc.iss,
    issuedAt: uc.iat ?? 0,
    bearer: !!uc.nats.bearer_token,
    expiresInMs,
    maxSubs: minLimit(limitOf(limits.subs), limitOf(accLimits.subs)),
    maxPayload: minLimit(limitOf(limits.payload), limitOf(accLimits.payload)),
    userLimits: { subs: limitOf(limits.subs), payload: limitOf(limits.payload) },
    name: uc.name,
    tags: uc.nats.tags,
  };
  const identity: Identity = { user: uc.sub, account: acc.name, jwt };
  if (permissions) identity.permissions = permissions;
  return { identity };
}
