/**
 * Operator-mode wiring: the resolver named by the options, the verified account JWT store
 * (preloads included) and the startup checks of the operator JWTs themselves (signatures, the
 * server version they assert), which config cannot make.
 *
 * @module
 */
import { decodeOperatorClaims } from "../auth/jwt/decode.ts";
import { JwtAccountStore } from "../auth/jwt/store.ts";
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
      return new DirResolver(r.type, r.dir, r.allowDelete);
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
