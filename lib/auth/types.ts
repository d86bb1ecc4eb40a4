/**
 * The auth module's contract. Config produces an `AuthConfig`; the server builds one
 * `Authenticator` from it; the protocol asks it to authenticate a CONNECT and gets back an
 * `Identity` (or null for "Authorization Violation").
 */
import type { ConnectionKind } from "../core/kinds.ts";
import type { PeerInfo } from "../protocol/transport.ts";

/** A subject permission list: no allow list means everything is allowed; deny wins. */
export interface SubjectPermission {
  /** Subjects (wildcards allowed) that are allowed; absent = everything. */
  allow?: string[];
  /** Subjects that are denied; deny wins over allow. */
  deny?: string[];
}

/** `allow_responses`: max messages per received reply subject and how long it stays valid. */
export interface ResponsePermission {
  /** Responses allowed per received reply subject (negative = unlimited). */
  max: number;
  /** How long a reply subject stays usable, in ms. */
  expiresMs: number;
}

/** `permissions { publish, subscribe, allow_responses }` of a user. */
export interface Permissions {
  /** `publish` (alias `pub`, `import`). */
  publish?: SubjectPermission;
  /** `subscribe` (alias `sub`, `export`); entries may be `"subject queue"`. */
  subscribe?: SubjectPermission;
  /** `allow_responses`. */
  response?: ResponsePermission;
}

/** One entry of `authorization { users [...] }` or an account's `users`. */
export interface UserConfig {
  /** User name (`user`/`username`). */
  user?: string;
  /** Plain or bcrypt password (`password`/`pass`). */
  password?: string;
  /** Public NKEY (`U…`) of an nkey user. */
  nkey?: string;
  /** The user's own permissions (else the account's or the global default). */
  permissions?: Permissions;
  /** Upper-case, validated connection types; empty/undefined means all. */
  allowedConnectionTypes?: ConnectionKind[];
  /** Account name; "$G" when the user is not in an account. */
  account: string;
}

/** One `exports` entry of an account. */
export interface ExportConfig {
  /** Exported stream subject. */
  stream?: string;
  /** Exported service subject. */
  service?: string;
  /** Accounts allowed to import; undefined = public. */
  accounts?: string[];
  /** How many responses a service request may get (`response_type`). */
  responseType?: "singleton" | "stream" | "chunked";
}

/** One `imports` entry of an account. */
export interface ImportConfig {
  /** Imported stream: the exporting account and its subject. */
  stream?: { account: string; subject: string };
  /** Imported service: the exporting account and its subject. */
  service?: { account: string; subject: string };
  /** Stream import prefix. */
  prefix?: string;
  /** Local subject (service import `to`, or stream `to`). */
  to?: string;
}

/** An account from `accounts { ... }`. */
export interface AccountConfig {
  /** Account name. */
  name: string;
  /** Account public NKEY (`A…`). */
  nkey?: string;
  /** `exports` of this account. */
  exports: ExportConfig[];
  /** `imports` into this account. */
  imports: ImportConfig[];
  /** Permissions for this account's users without their own. */
  defaultPermissions?: Permissions;
}

/** Simple auth (`authorization { user, password, token, timeout }`) also used by the ws override. */
export interface SimpleAuth {
  /** Single user name. */
  user?: string;
  /** Single user's password (plain or bcrypt). */
  password?: string;
  /** Token (`auth_token` in CONNECT), plain or bcrypt. */
  token?: string;
  /** Auth timeout in ms (0 = not set). */
  timeoutMs?: number;
}

/** Everything auth needs, produced by config (top level) and consumed by the Authenticator. */
export interface AuthConfig extends SimpleAuth {
  /** Every user, from `authorization.users` and from accounts. */
  users: UserConfig[];
  /** Configured accounts. */
  accounts: AccountConfig[];
  /** `no_auth_user`: the user a CONNECT without credentials binds to. */
  noAuthUser?: string;
  /** `default_permissions`. */
  defaultPermissions?: Permissions;
  /** Websocket override: `websocket { authorization {...}, no_auth_user }`. */
  websocket?: SimpleAuth & { noAuthUser?: string };
  /**
   * `verify_and_map`: users are identified by their client certificate (top-level `tls` for
   * STANDARD connections, `websocket.tls` for WEBSOCKET ones).
   */
  tlsMap?: { standard: boolean; websocket: boolean };
  /**
   * Operator mode: the trusted operator keys (`trusted_keys`, or the operators' subjects and
   * signing keys). When set, every client must present a user JWT.
   */
  trustedKeys?: string[];
  /**
   * The `no_auth_user` was added by the server (the system account is the only configured
   * account): INFO still announces auth_required, as the reference's does.
   */
  implicitNoAuthUser?: boolean;
}

/** Credentials from CONNECT. */
export interface ConnectCredentials {
  user?: string;
  pass?: string;
  auth_token?: string;
  nkey?: string;
  sig?: string;
  jwt?: string;
}

/** What a user JWT makes the connection enforce (operator mode). */
export interface JwtIdentity {
  /** The user's public key (`U…`). */
  userKey: string;
  /** The key that signed the user JWT (the account or one of its signing keys). */
  issuer: string;
  /** `iat` of the user JWT (revocations compare with it). */
  issuedAt: number;
  /** A bearer token (no nonce signature). */
  bearer: boolean;
  /** Milliseconds until the JWT expires or its connect-time window closes; 0 = never. */
  expiresInMs: number;
  /** Max subscriptions (user and account limits; -1 = none). */
  maxSubs: number;
  /** Max payload (user and account limits; -1 = none). */
  maxPayload: number;
  /** The user JWT's own limits (before the account's are applied; -1 = none). */
  userLimits: { subs: number; payload: number };
  /** The JWT's name. */
  name?: string;
  /** The JWT's tags. */
  tags?: string[];
}

/** The result of a successful authentication. */
export interface Identity {
  /** User name or nkey, for logs and monitoring. */
  user?: string;
  account: string;
  permissions?: Permissions;
  /** Set for a user JWT login. */
  jwt?: JwtIdentity;
}

/** The one auth interface the protocol talks to. */
export interface Authenticator {
  /** Whether INFO announces auth_required for a connection of this kind. */
  authRequired(kind: ConnectionKind): boolean;
  /** Whether INFO must carry a nonce (nkey users exist). */
  readonly nonceRequired: boolean;
  /** Auth timeout in ms for a connection of this kind. */
  timeoutMs(kind: ConnectionKind): number;
  /**
   * null means "Authorization Violation". May be async (bcrypt runs off the event loop).
   * `debug` receives why a login failed, in the reference's debug texts (JWT logins).
   */
  authenticate(
    creds: ConnectCredentials,
    peer: PeerInfo,
    nonce: string | undefined,
    debug?: (msg: string) => void,
  ): Identity | null | Promise<Identity | null>;
  /**
   * Whether a connection of this kind must authenticate (start the auth timer, expect CONNECT
   * first). Differs from `authRequired` for TCP when a top-level `no_auth_user` is set: INFO
   * then omits auth_required but the timer still runs (server.go createClient).
   */
  authEnforced?(kind: ConnectionKind): boolean;
  /**
   * Parser shortcut: the first op is not CONNECT while auth is enforced. Returns the top-level
   * `no_auth_user` identity (no password or connection-type check, as in the reference) or null
   * for "Authorization Violation".
   */
  noAuthIdentity?(): Identity | null;
  /** Release resources (bcrypt workers). */
  close?(): void;
}
