/**
 * The auth module's contract. Config produces an `AuthConfig`; the server builds one
 * `Authenticator` from it; the protocol asks it to authenticate a CONNECT and gets back an
 * `Identity` (or null for "Authorization Violation").
 */
import type { ConnectionKind, PeerInfo } from "../protocol/transport.ts";

/** A subject permission list: no allow list means everything is allowed; deny wins. */
export interface SubjectPermission {
  allow?: string[];
  deny?: string[];
}

/** `allow_responses`: max messages per received reply subject and how long it stays valid. */
export interface ResponsePermission {
  max: number;
  expiresMs: number;
}

/** `permissions { publish, subscribe, allow_responses }` of a user. */
export interface Permissions {
  publish?: SubjectPermission;
  subscribe?: SubjectPermission;
  response?: ResponsePermission;
}

/** One entry of `authorization { users [...] }` or an account's `users`. */
export interface UserConfig {
  user?: string;
  password?: string;
  nkey?: string;
  permissions?: Permissions;
  /** Upper-case, validated connection types; empty/undefined means all. */
  allowedConnectionTypes?: ConnectionKind[];
  /** Account name; "$G" when the user is not in an account. */
  account: string;
}

/** One `exports` entry of an account. */
export interface ExportConfig {
  stream?: string;
  service?: string;
  /** Accounts allowed to import; undefined = public. */
  accounts?: string[];
  responseType?: "singleton" | "stream" | "chunked";
}

/** One `imports` entry of an account. */
export interface ImportConfig {
  stream?: { account: string; subject: string };
  service?: { account: string; subject: string };
  /** Stream import prefix. */
  prefix?: string;
  /** Local subject (service import `to`, or stream `to`). */
  to?: string;
}

/** An account from `accounts { ... }`. */
export interface AccountConfig {
  name: string;
  nkey?: string;
  exports: ExportConfig[];
  imports: ImportConfig[];
  defaultPermissions?: Permissions;
}

/** Simple auth (`authorization { user, password, token, timeout }`) also used by the ws override. */
export interface SimpleAuth {
  user?: string;
  password?: string;
  token?: string;
  /** Auth timeout in ms (0 = not set). */
  timeoutMs?: number;
}

/** Everything auth needs, produced by config (top level) and consumed by the Authenticator. */
export interface AuthConfig extends SimpleAuth {
  users: UserConfig[];
  accounts: AccountConfig[];
  noAuthUser?: string;
  defaultPermissions?: Permissions;
  /** Websocket override: `websocket { authorization {...}, no_auth_user }`. */
  websocket?: SimpleAuth & { noAuthUser?: string };
  /**
   * `verify_and_map`: users are identified by their client certificate (top-level `tls` for
   * STANDARD connections, `websocket.tls` for WEBSOCKET ones).
   */
  tlsMap?: { standard: boolean; websocket: boolean };
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

/** The result of a successful authentication. */
export interface Identity {
  /** User name or nkey, for logs and monitoring. */
  user?: string;
  account: string;
  permissions?: Permissions;
}

/** The one auth interface the protocol talks to. */
export interface Authenticator {
  /** Whether INFO announces auth_required for a connection of this kind. */
  authRequired(kind: ConnectionKind): boolean;
  /** Whether INFO must carry a nonce (nkey users exist). */
  readonly nonceRequired: boolean;
  /** Auth timeout in ms for a connection of this kind. */
  timeoutMs(kind: ConnectionKind): number;
  /** null means "Authorization Violation". May be async (bcrypt runs off the event loop). */
  authenticate(
    creds: ConnectCredentials,
    peer: PeerInfo,
    nonce: string | undefined,
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
