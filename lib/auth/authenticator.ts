/**
 * The client authenticator (reference: nats-server 2.9.10 `server/auth.go`
 * processClientOrLeafAuthentication, configureAuthorization, checkAuthforWarnings,
 * `server/websocket.go` wsConfigAuth/createWSClient, `server/server.go` createClient,
 * `server/parser.go` no_auth_user shortcut). Operator/JWT mode and TLS `verify_and_map` are not
 * implemented here.
 *
 * Precedence for a client that must authenticate:
 *   1. CONNECT has `nkey` and nkey users exist → that nkey user (connection type checked) and
 *      the nonce signature; nothing else is tried.
 *   2. users exist → `no_auth_user` fill-in when CONNECT has no user, pass and auth_token; then
 *      the CONNECT user (connection type checked) and its password (bcrypt or plain).
 *   3. otherwise token, else single user/pass.
 * Websocket clients use only the `websocket.authorization` user/pass/token/no_auth_user when
 * any of user/token/no_auth_user is set there (the "override"); users and nkeys still apply.
 *
 * @module
 */
import { nodeBuiltin } from "../core/node_builtin.ts";
import { mapCertificateToUser } from "./tls_map.ts";
import type { ConnectionKind } from "../core/kinds.ts";
import type { PeerInfo } from "../protocol/transport.ts";
import { isBcrypt } from "./bcrypt.ts";
import { type BcryptPool, sharedBcryptPool } from "./bcrypt_pool.ts";
import { verifyNonceSignature } from "./nkeys.ts";
import { authenticateJwt } from "./jwt/authenticate.ts";
import type { JwtAccountStore } from "./jwt/store.ts";
import type {
  AccountConfig,
  AuthConfig,
  Authenticator,
  ConnectCredentials,
  Identity,
  Permissions,
  UserConfig,
} from "./types.ts";

/** The global account name. */
export const GLOBAL_ACCOUNT = "$G";

/** Default auth timeout (2 s). */
export const DEFAULT_AUTH_TIMEOUT_MS = 2000;

/** Startup warning text for plaintext passwords. */
export const PLAINTEXT_PASSWORD_WARNING = "Plaintext passwords detected, use nkeys or bcrypt";

/** Options for {@link createAuthenticator}. */
export interface AuthenticatorOptions {
  /** The bcrypt verifier (default: the shared Worker pool). */
  bcrypt?: BcryptPool;
  /** Operator mode: the verified account JWTs (required when `trustedKeys` is set). */
  jwtAccounts?: JwtAccountStore;
}

/** The authenticator returned by {@link createAuthenticator}: the optional members are set. */
export interface NatsAuthenticator extends Authenticator {
  authEnforced(kind: ConnectionKind): boolean;
  noAuthIdentity(): Identity | null;
  close(): void;
}

function sha256(s: string): Uint8Array {
  return nodeBuiltin("node:crypto").createHash("sha256").update(s, "utf8").digest();
}

/** Constant-time string equality (compares SHA-256 digests, so lengths don't leak). */
export function constantTimeEqual(a: string, b: string): boolean {
  return nodeBuiltin("node:crypto").timingSafeEqual(sha256(a), sha256(b));
}

/**
 * The reference's comparePasswords: bcrypt when the stored value looks like a bcrypt hash,
 * else constant-time equality. Synchronous unless bcrypt has to run.
 */
export function comparePasswords(
  stored: string,
  given: string,
  bcrypt: BcryptPool,
): boolean | Promise<boolean> {
  if (isBcrypt(stored)) return bcrypt.verify(stored, given);
  return constantTimeEqual(stored, given);
}

function kindAllowed(user: UserConfig, kind: ConnectionKind): boolean {
  const types = user.allowedConnectionTypes;
  return !types || types.length === 0 || types.includes(kind);
}

/**
 * Startup warnings of the reference (checkAuthforWarnings): the plaintext-password warning
 * when the single-user password or any password user's password is not a bcrypt hash.
 */
export function warnings(config: AuthConfig): string[] {
  let warn = !!config.password && !isBcrypt(config.password);
  if (!warn) {
    for (const u of config.users) {
      if (u.nkey) continue;
      if (!isBcrypt(u.password ?? "")) {
        warn = true;
        break;
      }
    }
  }
  return warn ? [PLAINTEXT_PASSWORD_WARNING] : [];
}

/** Build the authenticator for a configuration. */
export function createAuthenticator(
  config: AuthConfig,
  options: AuthenticatorOptions = {},
): NatsAuthenticator {
  const bcrypt = options.bcrypt ?? sharedBcryptPool();

  const users = new Map<string, UserConfig>();
  const nkeys = new Map<string, UserConfig>();
  for (const u of config.users) {
    if (u.nkey) nkeys.set(u.nkey, u);
    else if (u.user !== undefined) users.set(u.user, u);
  }
  const accounts = new Map<string, AccountConfig>();
  for (const a of config.accounts) accounts.set(a.name, a);

  const operatorMode = (config.trustedKeys?.length ?? 0) > 0;
  const globalRequired = operatorMode || nkeys.size > 0 || users.size > 0 || !!config.user ||
    !!config.token;
  const ws = config.websocket;
  const wsOverride = !!(ws && (ws.user || ws.token || ws.noAuthUser));

  function permissionsOf(u: UserConfig): Permissions | undefined {
    if (u.permissions) return u.permissions;
    const account = u.account || GLOBAL_ACCOUNT;
    if (account === GLOBAL_ACCOUNT) return config.defaultPermissions;
    return accounts.get(account)?.defaultPermissions;
  }

  function tlsMapFor(kind: ConnectionKind): boolean {
    const m = config.tlsMap;
    if (!m) return false;
    return kind === "WEBSOCKET" ? m.websocket : kind === "STANDARD" ? m.standard : false;
  }

  function identityOf(u: UserConfig, name: string): Identity {
    const id: Identity = { user: name, account: u.account || GLOBAL_ACCOUNT };
    const perms = permissionsOf(u);
    if (perms) id.permissions = perms;
    return id;
  }

  function mustAuthenticate(kind: ConnectionKind): boolean {
    return globalRequired || (kind === "WEBSOCKET" && wsOverride);
  }

  function when(
    ok: boolean | Promise<boolean>,
    identity: Identity,
  ): Identity | null | Promise<Identity | null> {
    if (typeof ok === "boolean") return ok ? identity : null;
    return ok.then((v) => (v ? identity : null), () => null);
  }

  const auth: NatsAuthenticator = {
    get nonceRequired() {
      return operatorMode || nkeys.size > 0;
    },

    authRequired(kind: ConnectionKind): boolean {
      if (kind === "WEBSOCKET") return globalRequired || wsOverride;
      // TCP INFO: a top-level no_auth_user turns auth_required off.
      return globalRequired && (!config.noAuthUser || !!config.implicitNoAuthUser);
    },

    authEnforced(kind: ConnectionKind): boolean {
      return mustAuthenticate(kind);
    },

    timeoutMs(kind: ConnectionKind): number {
      if (kind === "WEBSOCKET" && ws?.timeoutMs) return ws.timeoutMs;
      return config.timeoutMs || DEFAULT_AUTH_TIMEOUT_MS;
    },

    noAuthIdentity(): Identity | null {
      // parser.go: first op is not CONNECT while auth is expected. Only the top-level
      // no_auth_user is consulted, with no password or connection type check.
      if (!config.noAuthUser) return null;
      const u = users.get(config.noAuthUser);
      return u ? identityOf(u, u.user!) : null;
    },

    authenticate(
      creds: ConnectCredentials,
      peer: PeerInfo,
      nonce: string | undefined,
      debug?: (msg: string) => void,
    ): Identity | null | Promise<Identity | null> {
      const kind = peer.kind;
      if (!mustAuthenticate(kind)) return { account: GLOBAL_ACCOUNT };

      let noAuthUser: string | undefined;
      let username: string | undefined;
      let password: string | undefined;
      let token: string | undefined;
      if (kind === "WEBSOCKET" && wsOverride) {
        noAuthUser = ws!.noAuthUser;
        username = ws!.user;
        password = ws!.password;
        token = ws!.token;
      } else {
        noAuthUser = config.noAuthUser;
        username = config.user;
        password = config.password;
        token = config.token;
      }

      // 0. operator mode: a user JWT and nothing else
      if (operatorMode) {
        const store = options.jwtAccounts;
        if (!store) return null;
        return authenticateJwt(creds, peer, nonce, store).then((r) => {
          if ("identity" in r) return r.identity;
          debug?.(r.error);
          return null;
        });
      }

      // 1. nkey
      if (nkeys.size > 0 && creds.nkey) {
        const u = nkeys.get(creds.nkey);
        if (!u || !kindAllowed(u, kind)) return null;
        if (!creds.sig) return null;
        if (!verifyNonceSignature(creds.nkey, nonce ?? "", creds.sig)) return null;
        return identityOf(u, creds.nkey);
      }

      // 2. users (by client certificate with verify_and_map)
      if (users.size > 0 && tlsMapFor(kind)) {
        const leaf = peer.tls?.chainDer[0];
        if (!leaf) return null;
        const allowed = [...users.values()].filter((u) => kindAllowed(u, kind)).map((u) => u.user!);
        const m = mapCertificateToUser(leaf, allowed);
        return m ? identityOf(users.get(m.user)!, m.user) : null;
      }
      if (users.size > 0) {
        let cuser = creds.user ?? "";
        let cpass = creds.pass ?? "";
        if (noAuthUser && !cuser && !cpass && !creds.auth_token) {
          const nu = users.get(noAuthUser);
          if (nu) {
            // As in the reference, the stored password is used as the given one, so a
            // no_auth_user with a bcrypt password can never authenticate this way.
            cuser = nu.user!;
            cpass = nu.password ?? "";
          }
        }
        if (cuser) {
          const u = users.get(cuser);
          if (!u || !kindAllowed(u, kind)) return null;
          return when(comparePasswords(u.password ?? "", cpass, bcrypt), identityOf(u, cuser));
        }
      }

      // 3. token, then single user/pass
      if (token) {
        return when(comparePasswords(token, creds.auth_token ?? "", bcrypt), {
          account: GLOBAL_ACCOUNT,
        });
      }
      if (username) {
        if (!constantTimeEqual(username, creds.user ?? "")) return null;
        return when(comparePasswords(password ?? "", creds.pass ?? "", bcrypt), {
          user: username,
          account: GLOBAL_ACCOUNT,
        });
      }
      return null;
    },

    close(): void {
      // An injected pool belongs to the caller; the shared one only loses its workers (they
      // restart lazily if another authenticator still needs them).
      if (!options.bcrypt) bcrypt.close();
    },
  };
  return auth;
}
