/**
 * Operator-mode wiring: the resolver named by the options, the verified account JWT store
 * (preloads included) and the startup checks of the operator JWTs themselves (signatures, the
 * server version they assert), which config cannot make.
 *
 * @module
 */
import { Closed } from "../core/close_reasons.ts";
import { decodeAccountClaims, decodeOperatorClaims } from "../auth/jwt/decode.ts";
import { limitOf, minLimit } from "../auth/jwt/authenticate.ts";
import { isRevoked } from "../auth/jwt/claims.ts";
import { type JwtAccount, JwtAccountStore } from "../auth/jwt/store.ts";
import type { AuthenticatedClient } from "../protocol/context.ts";
import { Err } from "../protocol/errors.ts";
import {
  type AccountResolver,
  DirResolver,
  MemoryResolver,
  UrlResolver,
} from "../accounts/jwt_resolvers.ts";
import type { ServerOptions } from "../config/options.ts";

/** What operator mode adds to a server. */
export interface OperatorState {
  readonly store: JwtAccountStore;
  readonly resolver: AccountResolver;
  /** The system account's public key (config or operator JWT), if any. */
  readonly systemAccount?: string;
}

/** The resolver for the options (undefined outside operator mode). */
export function createResolver(o: ServerOptions): AccountResolver | undefined {
  const r = o.operator.resolver;
  if (!r) return undefined;
  switch (r.type) {
    case "memory":
      return new MemoryResolver(o.operator.resolverPreload);
    case "url":
      return new UrlResolver(r.url);
    default:
      return new DirResolver(r.type, r.dir, r.allowDelete, r.limit);
  }
}

/**
 * Startup errors of the operator JWTs (the reference reports them while parsing the config):
 * `error parsing operator JWT: <decode error>` and the server-version assertion.
 */
export function operatorErrors(o: ServerOptions, version: string): string[] {
  const out: string[] = [];
  const [sMaj, sMin, sUpd] = version.split(".").map(Number);
  for (const jwt of o.operator.operatorJwts) {
    try {
      const c = decodeOperatorClaims(jwt);
      const want = c.nats.assert_server_version;
      if (!want) continue;
      const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(want);
      if (!m) {
        out.push(`operator ${c.sub} expects version ${want} got error instead: invalid version`);
        continue;
      }
      const [maj, min, upd] = m.slice(1).map(Number);
      if (maj > sMaj) {
        out.push(`operator ${c.sub} expected major version ${maj} > server major version ${sMaj}`);
      } else if (maj === sMaj && min > sMin) {
        out.push(`operator ${c.sub} expected minor version ${min} > server minor version ${sMin}`);
      } else if (maj === sMaj && min === sMin && upd > sUpd) {
        out.push(
          `operator ${c.sub} expected update version ${upd} > server update version ${sUpd}`,
        );
      }
    } catch (e) {
      out.push(`error parsing operator JWT: ${(e as Error).message}`);
    }
  }
  return out;
}

/** The operator-mode state for the options, or undefined without trusted keys. */
export function createOperatorState(o: ServerOptions): OperatorState | undefined {
  const keys = o.auth.trustedKeys;
  if (!keys?.length) return undefined;
  const resolver = createResolver(o) ?? new MemoryResolver(o.operator.resolverPreload);
  const store = new JwtAccountStore(keys, resolver);
  for (const jwt of Object.values(o.operator.resolverPreload)) {
    try {
      store.preload(jwt);
    } catch { /* expired or untrusted preloads are skipped, as the reference warns */ }
  }
  return { store, resolver, systemAccount: o.operator.systemAccount };
}

/**
 * The connections of JWT users, per account: account connection limits at login, user JWT
 * expiry, and live account updates (revocations, bearer tokens disallowed, signing keys removed,
 * a lowered connection limit, account expiry) as nats-server 2.9.10 applies them.
 */
export class JwtConnections {
  private readonly byAccount = new Map<string, Set<AuthenticatedClient>>();
  private readonly timers = new Map<number, ReturnType<typeof setTimeout>>();
  private readonly accountTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly store: JwtAccountStore) {
    for (const a of store.all()) this.watchExpiry(a);
    store.onUpdate((acc, previous) => {
      this.watchExpiry(acc);
      this.accountUpdated(acc, previous);
    });
  }

  /** A JWT user was bound to its account: limits and expiry. */
  admit(client: AuthenticatedClient): void {
    const jwt = client.identity?.jwt;
    if (!jwt) return;
    const name = client.account.name;
    const acc = this.store.get(name);
    let set = this.byAccount.get(name);
    if (!set) this.byAccount.set(name, set = new Set());
    const limit = acc?.claims.nats.limits?.conn ?? 0;
    if (limit !== -1 && set.size >= limit) {
      client.sendErr(Err.maxAccountConnections);
      client.close(Closed.maxAccountConnections);
      return;
    }
    set.add(client);
    if (jwt.expiresInMs > 0) {
      this.timers.set(
        client.cid,
        setTimeout(() => {
          client.sendErr(Err.userAuthExpired);
          client.close(Closed.authExpired);
        }, jwt.expiresInMs),
      );
    }
  }

  /** A connection closed. */
  removed(client: AuthenticatedClient): void {
    clearTimeout(this.timers.get(client.cid));
    this.timers.delete(client.cid);
    this.byAccount.get(client.account.name)?.delete(client);
  }

  /** Stops every timer. */
  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const t of this.accountTimers.values()) clearTimeout(t);
  }

  /** The account expired or was deleted: its clients get `Account Authentication Expired`. */
  expireAccount(name: string): void {
    for (const c of [...this.byAccount.get(name) ?? []]) {
      c.sendErr(Err.accountAuthExpired);
      c.close(Closed.authExpired);
    }
  }

  private watchExpiry(acc: JwtAccount): void {
    clearTimeout(this.accountTimers.get(acc.name));
    this.accountTimers.delete(acc.name);
    const exp = acc.claims.exp ?? 0;
    if (exp <= 0) return;
    const ms = Math.max(0, exp * 1000 - Date.now());
    this.accountTimers.set(acc.name, setTimeout(() => this.expireAccount(acc.name), ms));
  }

  private accountUpdated(acc: JwtAccount, previous: JwtAccount | undefined): void {
    const clients = [...this.byAccount.get(acc.name) ?? []];
    const n = acc.claims.nats;
    const limit = n.limits?.conn ?? 0;
    clients.forEach((c, i) => {
      const jwt = c.identity!.jwt!;
      if (limit !== -1 && i >= limit) {
        c.sendErr(Err.maxAccountConnections);
        c.close(Closed.maxAccountConnections);
        return;
      }
      const subs = minLimit(jwt.userLimits.subs, limitOf(n.limits?.subs));
      const payload = minLimit(jwt.userLimits.payload, limitOf(n.limits?.payload));
      if (subs !== jwt.maxSubs || payload !== jwt.maxPayload) {
        jwt.maxSubs = subs;
        jwt.maxPayload = payload;
        c.applyLimits(subs, payload);
      }
      if (jwt.bearer && n.limits?.disallow_bearer) {
        c.sendErr(Err.authViolation);
        c.close(Closed.authViolation);
      } else if (isRevoked(n.revocations, jwt.userKey, jwt.issuedAt)) {
        c.sendErr(Err.userRevoked);
        c.close(Closed.revoked);
      } else if (jwt.issuer !== acc.name && signerChanged(jwt.issuer, acc, previous)) {
        // A removed or re-scoped signing key: closed without an -ERR, as the reference does.
        c.close(Closed.authViolation);
      }
    });
  }
}

/** Whether signing key `key` is gone from `acc` or its scope changed since `previous`. */
function signerChanged(key: string, acc: JwtAccount, previous: JwtAccount | undefined): boolean {
  if (!acc.signingKeys.has(key)) return true;
  if (!previous) return false;
  return JSON.stringify(acc.signingKeys.get(key)) !== JSON.stringify(previous.signingKeys.get(key));
}

/**
 * configureResolver's preloads: only a writable resolver takes them; each is decoded and stored
 * in the resolver (directory resolvers write the file). Throws the reference's startup errors.
 */
export async function storePreloads(o: ServerOptions, state: OperatorState): Promise<void> {
  const preloads = Object.entries(o.operator.resolverPreload);
  if (preloads.length === 0) return;
  if (state.resolver.readOnly) {
    throw new Error(
      "resolver preloads only available for writeable resolver types MEM/DIR/CACHE_DIR",
    );
  }
  for (const [k, v] of preloads) {
    try {
      decodeAccountClaims(v);
    } catch (e) {
      throw new Error(`preload account error for "${k}": ${(e as Error).message}`);
    }
    await state.resolver.store(k, v).catch(() => {});
  }
}
