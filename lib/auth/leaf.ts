/**
 * Leafnode authentication as in the reference (`isLeafNodeAuthorized`): a `leafnodes {
 * authorization { user, password, account } }` single user, or its `users` list (each bound to an
 * account), takes precedence (with `tls { verify_and_map }` the user is the certificate's).
 * Without either, nkeys and users of the regular authorization
 * apply (with `allowed_connection_types` LEAFNODE / LEAFNODE_WS and `no_auth_user`, the
 * websocket block's for a leaf on the websocket port); a leaf that names no user binds to the
 * leafnode `authorization.account` (default `$G`): the top-level token and single user do not
 * apply to leafnodes, as in the reference.
 *
 * @module
 */
import type { LeafNodeAuthOptions } from "../config/options.ts";
import type { PeerInfo } from "../protocol/transport.ts";
import { comparePasswords, constantTimeEqual, GLOBAL_ACCOUNT } from "./authenticator.ts";
import { type BcryptPool, sharedBcryptPool } from "./bcrypt_pool.ts";
import type { AuthConfig, Authenticator, ConnectCredentials, Identity } from "./types.ts";
import { mapCertificateToUser } from "./tls_map.ts";

/** Authenticates a leafnode CONNECT; null means `Authorization Violation`. */
export type LeafAuthenticate = (
  creds: ConnectCredentials,
  peer: PeerInfo,
  nonce: string | undefined,
) => Identity | null | Promise<Identity | null>;

/** Builds the leafnode authenticator over the client one. */
export function createLeafAuthenticator(
  leafAuth: LeafNodeAuthOptions | undefined,
  config: AuthConfig,
  clients: Authenticator,
  bcrypt: BcryptPool = sharedBcryptPool(),
  tlsMap = false,
): LeafAuthenticate {
  const check = (
    user: string,
    password: string | undefined,
    account: string | undefined,
    creds: ConnectCredentials,
  ): Identity | null | Promise<Identity | null> => {
    if (!constantTimeEqual(user, creds.user ?? "")) return null;
    const id: Identity = { user, account: account || GLOBAL_ACCOUNT };
    const ok = comparePasswords(password ?? "", creds.pass ?? "", bcrypt);
    if (typeof ok === "boolean") return ok ? id : null;
    return ok.then((v) => (v ? id : null), () => null);
  };
  return (creds, peer, nonce) => {
    if (leafAuth?.user) return check(leafAuth.user, leafAuth.password, leafAuth.account, creds);
    if (leafAuth?.users && leafAuth.users.length > 0) {
      if (tlsMap) {
        // verify_and_map: the user comes from the certificate (its password is not asked).
        const der = peer.tls?.chainDer[0];
        const m = der ? mapCertificateToUser(der, leafAuth.users.map((u) => u.user)) : null;
        const mapped = m ? leafAuth.users.find((u) => u.user === m.user) : undefined;
        if (!mapped) return null;
        return { user: mapped.user, account: mapped.account || GLOBAL_ACCOUNT };
      }
      const u = leafAuth.users.find((u) => u.user === (creds.user ?? ""));
      return u ? check(u.user, u.password, u.account, creds) : null;
    }
    const hasNkeys = config.users.some((u) => u.nkey);
    if (creds.nkey && hasNkeys) return clients.authenticate(creds, peer, nonce);
    let c = creds;
    const noAuth = (peer.kind === "LEAFNODE_WS" && config.websocket?.noAuthUser) ||
      config.noAuthUser;
    if (noAuth && !c.user && !c.pass && !c.auth_token) {
      const u = config.users.find((u) => u.user === noAuth);
      if (u) c = { ...c, user: u.user, pass: u.password };
    }
    if (c.user && config.users.some((u) => u.user !== undefined)) {
      return clients.authenticate(c, peer, nonce);
    }
    return { account: leafAuth?.account || GLOBAL_ACCOUNT };
  };
}
