/**
 * NATS JWT claim shapes (the jwt package v2 JSON: operator, account, user, activation). Only the
 * fields nats-server 2.9.10 acts on are typed; everything is optional as decoded JSON is.
 *
 * @module
 */

/** `-1` means "no limit" in every JWT limit. */
export const NO_LIMIT = -1;

/** The fields every claim has. */
export interface ClaimsData<N> {
  /** Unique id (hash of the claims). */
  jti?: string;
  /** Issued at, unix seconds. */
  iat?: number;
  /** Issuer public key. */
  iss: string;
  /** Name. */
  name?: string;
  /** Subject public key. */
  sub: string;
  /** Expires, unix seconds (0/absent = never). */
  exp?: number;
  /** Not before, unix seconds. */
  nbf?: number;
  /** v1 kept the type at the top level. */
  type?: string;
  /** The NATS-specific part. */
  nats: N;
}

/** allow/deny lists. */
export interface JwtPermission {
  allow?: string[];
  deny?: string[];
}

/** `resp`: response permission (ttl in nanoseconds). */
export interface JwtResponsePermission {
  max?: number;
  ttl?: number;
}

/** A time-of-day window (`HH:MM:SS`). */
export interface JwtTimeRange {
  start?: string;
  end?: string;
}

/** User permissions and limits (also a scoped signing key's template). */
export interface UserPermissionLimits {
  pub?: JwtPermission;
  sub?: JwtPermission;
  resp?: JwtResponsePermission;
  /** Max subscriptions. */
  subs?: number;
  /** Max data (not enforced by 2.9.10 for users). */
  data?: number;
  /** Max payload. */
  payload?: number;
  /** Allowed source CIDRs. */
  src?: string[] | string;
  /** Allowed connect times. */
  times?: JwtTimeRange[];
  /** IANA time zone for `times`. */
  times_location?: string;
  /** No nonce signature needed. */
  bearer_token?: boolean;
  /** Connection types allowed (unknown ones ignored when a known one is present). */
  allowed_connection_types?: string[];
}

/** The `nats` part of common claims. */
export interface GenericFields {
  type?: string;
  version?: number;
  tags?: string[];
}

/** A user JWT's `nats`. */
export interface UserNats extends GenericFields, UserPermissionLimits {
  /** The account when issued by one of its signing keys. */
  issuer_account?: string;
}

/** A scoped signing key (`user_scope`) in an account JWT. */
export interface ScopedSigningKey {
  kind: string;
  key: string;
  role?: string;
  template?: UserPermissionLimits;
}

/** An account export. */
export interface JwtExport {
  name?: string;
  subject: string;
  type: "stream" | "service" | string;
  token_req?: boolean;
  revocations?: Record<string, number>;
  response_type?: "Singleton" | "Stream" | "Chunked" | string;
  response_threshold?: number;
  account_token_position?: number;
}

/** An account import. */
export interface JwtImport {
  name?: string;
  subject: string;
  account: string;
  token?: string;
  /** Deprecated local subject / stream prefix. */
  to?: string;
  local_subject?: string;
  type: "stream" | "service" | string;
}

/** Account limits. */
export interface JwtAccountLimits {
  subs?: number;
  data?: number;
  payload?: number;
  imports?: number;
  exports?: number;
  wildcards?: boolean;
  conn?: number;
  leaf?: number;
  disallow_bearer?: boolean;
}

/** An account JWT's `nats`. */
export interface AccountNats extends GenericFields {
  imports?: JwtImport[];
  exports?: JwtExport[];
  limits?: JwtAccountLimits;
  signing_keys?: (string | ScopedSigningKey)[];
  revocations?: Record<string, number>;
  default_permissions?: { pub?: JwtPermission; sub?: JwtPermission; resp?: JwtResponsePermission };
}

/** An operator JWT's `nats`. */
export interface OperatorNats extends GenericFields {
  signing_keys?: string[];
  account_server_url?: string;
  operator_service_urls?: string[];
  system_account?: string;
  assert_server_version?: string;
  strict_signing_key_usage?: boolean;
}

/** An activation JWT's `nats`. */
export interface ActivationNats extends GenericFields {
  subject?: string;
  kind?: string;
  issuer_account?: string;
}

/** Decoded user claims. */
export type UserClaims = ClaimsData<UserNats>;
/** Decoded account claims. */
export type AccountClaims = ClaimsData<AccountNats>;
/** Decoded operator claims. */
export type OperatorClaims = ClaimsData<OperatorNats>;
/** Decoded activation claims. */
export type ActivationClaims = ClaimsData<ActivationNats>;

/** The claim's type (v2 in `nats.type`, v1 at the top level). */
export function claimType(c: ClaimsData<GenericFields>): string {
  return c.type || c.nats?.type || "";
}

/** The signing keys of an account, plain ones mapped to null and scoped ones to their scope. */
export function accountSigningKeys(a: AccountClaims): Map<string, ScopedSigningKey | null> {
  const m = new Map<string, ScopedSigningKey | null>();
  for (const k of a.nats.signing_keys ?? []) {
    if (typeof k === "string") m.set(k, null);
    else if (k && typeof k.key === "string") m.set(k.key, k);
  }
  return m;
}

/**
 * Whether a revocation list revokes `subject` issued at `issuedAt` (the entry, or the `*`
 * entry, is at or after the issue time).
 */
export function isRevoked(
  revocations: Record<string, number> | undefined,
  subject: string,
  issuedAt: number,
): boolean {
  if (!revocations) return false;
  const t = revocations[subject];
  if (t !== undefined && t >= issuedAt) return true;
  const all = revocations["*"];
  return all !== undefined && all >= issuedAt;
}
