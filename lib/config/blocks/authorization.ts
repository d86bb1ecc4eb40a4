/**
 * `authorization { ... }` (user/password, token, users and nkeys with permissions, default
 * permissions, timeout) and the top-level `no_auth_user`. `parseUsers` also serves accounts.
 */
import type { Permissions, UserConfig } from "../../auth/types.ts";
import { type ConnectionKind, isConnectionKind } from "../../core/kinds.ts";
import { goQuote, goQuoteList } from "../../core/gofmt.ts";
import { AUTHORIZATION, USER } from "../keys.ts";
import type { ConfigNode } from "../parser.ts";
import { isValidPublicKey, PREFIX } from "../../core/nkey.ts";
import { type BuildContext, GLOBAL_ACCOUNT, type TopLevelHandlers } from "./context.ts";
import { goValue } from "./go_values.ts";
import { parsePermissions } from "./permissions.ts";

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"authorization"> = {
  authorization: (n, _k, ctx) => authorization(ctx, n),
  no_auth_user: (n, _k, ctx) => {
    const s = ctx.str(n);
    if (s !== undefined) ctx.o.auth.noAuthUser = s;
  },
};

function authorization(ctx: BuildContext, n: ConfigNode): void {
  const m = ctx.map(n);
  if (!m) return;
  const auth = ctx.o.auth;
  let user: string | undefined;
  let pass: string | undefined;
  let token: string | undefined;
  let users: UserConfig[] | undefined;
  let defPerms: Permissions | undefined;
  for (const [k, v] of m) {
    const key = ctx.keyOf(AUTHORIZATION, k, v);
    if (key === undefined) continue;
    switch (key) {
      case "user":
        user = ctx.str(v) ?? user;
        break;
      case "pass":
        pass = ctx.str(v) ?? pass;
        break;
      case "token":
        token = ctx.str(v) ?? token;
        break;
      case "timeout":
        ctx.draft.authTimeoutSec = ctx.authTimeout(v, "authorization timeout");
        break;
      case "users":
        users = parseUsers(ctx, v, GLOBAL_ACCOUNT) ?? users;
        break;
      case "default_permission":
        defPerms = parsePermissions(ctx, v) ?? defPerms;
        break;
      default:
        key satisfies never;
    }
  }
  if (defPerms) applyDefaultPermissions(users ?? [], defPerms);
  auth.user = user;
  auth.password = pass;
  auth.token = token;
  auth.defaultPermissions = defPerms;
  ctx.draft.authSet = true;
  if ((user || pass) && token) {
    ctx.err(n, "Cannot have a user/pass and token");
    return;
  }
  const names = userNames(ctx);
  if (users !== undefined || names.size > 0) {
    if (user) {
      ctx.err(n, "Can not have a single user/pass and a users array");
      return;
    }
    if (token) {
      ctx.err(n, "Can not have a token and a users array");
      return;
    }
  }
  addUsers(ctx, n, names, users ?? []);
}

/** Names (or nkeys) of the users collected so far, for duplicate checks. */
export function userNames(ctx: BuildContext): Set<string> {
  return new Set(ctx.o.auth.users.map((u) => u.nkey ?? u.user!));
}

/** Adds `users` to the options, each one not already in `names` (else a duplicate error). */
export function addUsers(
  ctx: BuildContext,
  at: ConfigNode,
  names: Set<string>,
  users: UserConfig[],
): void {
  for (const u of users) {
    const id = u.nkey ?? u.user!;
    if (names.has(id)) {
      ctx.err(at, `Duplicate ${u.nkey ? "nkey" : "user"} ${goQuote(id)} detected`);
      continue;
    }
    names.add(id);
    ctx.o.auth.users.push(u);
  }
}

/** Users without permissions of their own get `p`. */
export function applyDefaultPermissions(users: UserConfig[], p: Permissions): void {
  for (const u of users) if (!u.permissions) u.permissions = p;
}

/** parseUsers: the `users: [...]` array of the authorization block or of an account. */
export function parseUsers(
  ctx: BuildContext,
  n: ConfigNode,
  account: string,
): UserConfig[] | undefined {
  if (n.kind !== "array") {
    // In an account the reference passes the raw value, so this error has no position.
    ctx.err(
      n,
      `Expected users field to be an array, got ${goValue(n)}`,
      account === GLOBAL_ACCOUNT,
    );
    return undefined;
  }
  const out: UserConfig[] = [];
  for (const e of n.value) {
    if (e.kind !== "map") {
      ctx.err(e, `Expected user entry to be a map/struct, got ${goValue(e)}`);
      continue;
    }
    const u = userEntry(ctx, e, e.value, account);
    if (u) out.push(u);
  }
  return out;
}

function userEntry(
  ctx: BuildContext,
  e: ConfigNode,
  m: Map<string, ConfigNode>,
  account: string,
): UserConfig | undefined {
  let nkeyTk: ConfigNode | undefined;
  let userTk: ConfigNode | undefined;
  let nkey = "";
  let user = "";
  let password: string | undefined;
  let perms: Permissions | undefined;
  let cts: ConnectionKind[] | undefined;
  for (const [k, v] of m) {
    const key = ctx.keyOf(USER, k, v);
    if (key === undefined) continue;
    switch (key) {
      case "nkey":
        nkey = ctx.str(v) ?? nkey;
        nkeyTk = v;
        break;
      case "user":
        user = ctx.str(v) ?? user;
        userTk = v;
        break;
      case "pass":
        password = ctx.str(v) ?? password;
        userTk ??= v;
        break;
      case "permission":
        perms = parsePermissions(ctx, v) ?? perms;
        break;
      case "allowed_connection_types":
        cts = connectionTypes(ctx, v);
        break;
      default:
        key satisfies never;
    }
  }
  // The reference reports entry errors at the last key it iterated (Go map order); we use
  // the key the error is about when there is one (one of the reference's possible outputs).
  let last: ConfigNode = e;
  for (const v of m.values()) last = v;
  if (nkey === "" && user === "") {
    ctx.err(last, "User entry requires a user");
    return undefined;
  }
  const u: UserConfig = { account };
  if (nkey !== "") {
    if (!isValidPublicKey(nkey, PREFIX.user)) {
      ctx.err(nkeyTk ?? last, "Not a valid public nkey for a user");
      return undefined;
    }
    if (user !== "" || (password !== undefined && password !== "")) {
      ctx.err(userTk ?? last, "Nkey users do not take usernames or passwords");
      return undefined;
    }
    u.nkey = nkey;
  } else {
    u.user = user;
    if (password !== undefined) u.password = password;
  }
  if (perms) u.permissions = perms;
  if (cts) u.allowedConnectionTypes = cts;
  return u;
}

function connectionTypes(ctx: BuildContext, n: ConfigNode): ConnectionKind[] | undefined {
  const list = ctx.stringArray("allowed connection types", n);
  if (!list) return undefined;
  const out: ConnectionKind[] = [];
  const bad: string[] = [];
  for (const s of list) {
    const u = s.toUpperCase();
    if (isConnectionKind(u)) {
      if (!out.includes(u)) out.push(u);
    } else bad.push(u);
  }
  if (bad.length) ctx.err(n, `invalid connection types ${goQuoteList(bad)}`);
  return out;
}

/** setBaselineOptions for authorization: timeouts, the websocket override, tidy auth object. */
export function finishAuthorization(ctx: BuildContext): void {
  const o = ctx.o;
  const d = ctx.draft;
  // Auth timeout: the configured one, else TLS timeout + 1s with TLS, else 2s.
  const tlsTimeout = d.tlsTimeoutSec > 0 ? d.tlsTimeoutSec : 2;
  const authSec = d.authTimeoutSec !== 0 ? d.authTimeoutSec : o.tls ? tlsTimeout + 1 : 2;
  o.authTimeoutMs = authSec * 1000;
  if (d.authTimeoutSec !== 0) o.auth.timeoutMs = d.authTimeoutSec * 1000;
  if (d.wsAuth) o.auth.websocket = d.wsAuth;
  if (o.tls?.verifyAndMap || o.websocket.tls?.verifyAndMap) {
    o.auth.tlsMap = {
      standard: !!o.tls?.verifyAndMap,
      websocket: !!o.websocket.tls?.verifyAndMap,
    };
  }
}

/** Drops undefined optional fields from the auth object for a tidy, comparable result. */
export function tidyAuthorization(ctx: BuildContext): void {
  const auth = ctx.o.auth;
  for (const k of ["user", "password", "token", "defaultPermissions"] as const) {
    if (auth[k] === undefined) delete auth[k];
  }
  if (!ctx.draft.authSet) delete auth.timeoutMs;
}
