/**
 * The account JWTs of operator mode: fetched through a resolver, verified (issuer = a trusted
 * operator key, no blocking validation error) and kept decoded. Updates (pushed claims, resolver
 * refreshes) replace an account's claims and notify listeners, which apply them live (limits,
 * revocations, exports and imports).
 *
 * @module
 */
import { type AccountClaims, accountSigningKeys, type ScopedSigningKey } from "./claims.ts";
import { decodeAccountClaims, nowSeconds, timeCheck } from "./decode.ts";

/** Where account JWTs come from (memory, URL, directory resolvers). */
export interface AccountJwtFetcher {
  /** The JWT of account `pub`, or undefined when unknown. May throw (fetch errors). */
  fetch(pub: string): Promise<string | undefined>;
}

/** A verified account JWT with what auth needs from it. */
export interface JwtAccount {
  /** Account public key (its name in the registry). */
  readonly name: string;
  /** The JWT as received. */
  readonly jwt: string;
  readonly claims: AccountClaims;
  /** Signing keys: null for a plain key, the scope for a scoped one. */
  readonly signingKeys: Map<string, ScopedSigningKey | null>;
  /** Whether the account's JWT has expired since it was loaded. */
  expired(): boolean;
}

/** Called after an account's claims were added or replaced. */
export type AccountUpdateListener = (account: JwtAccount, previous: JwtAccount | undefined) => void;

/** Error texts of claim verification (the reference's). */
export const ACCOUNT_NOT_TRUSTED = "account not trusted";
/** `ErrAccountValidation`. */
export const ACCOUNT_VALIDATION = "account validation failed";

function makeAccount(jwt: string, claims: AccountClaims): JwtAccount {
  return {
    name: claims.sub,
    jwt,
    claims,
    signingKeys: accountSigningKeys(claims),
    expired: () => !!claims.exp && claims.exp > 0 && nowSeconds() > claims.exp,
  };
}

/** Verified account JWTs of one server. */
export class JwtAccountStore {
  private readonly trusted: ReadonlySet<string>;
  private readonly accounts = new Map<string, JwtAccount>();
  private readonly pending = new Map<string, Promise<JwtAccount | undefined>>();
  private readonly listeners: AccountUpdateListener[] = [];
  private fetcher: AccountJwtFetcher | undefined;

  constructor(trustedKeys: readonly string[], fetcher?: AccountJwtFetcher) {
    this.trusted = new Set(trustedKeys);
    this.fetcher = fetcher;
  }

  /** Sets the resolver (the server wires it after construction). */
  setFetcher(fetcher: AccountJwtFetcher): void {
    this.fetcher = fetcher;
  }

  /** Whether `key` is a trusted operator key. */
  isTrusted(key: string): boolean {
    return this.trusted.has(key);
  }

  /** Registers a listener for added/replaced accounts. */
  onUpdate(listener: AccountUpdateListener): void {
    this.listeners.push(listener);
  }

  /** The loaded account `pub`, if any (never fetches). */
  get(pub: string): JwtAccount | undefined {
    return this.accounts.get(pub);
  }

  /** Every loaded account. */
  all(): IterableIterator<JwtAccount> {
    return this.accounts.values();
  }

  /**
   * Decodes and verifies an account JWT: throws the decode error, "account not trusted" or the
   * validation errors.
   */
  verify(jwt: string): AccountClaims {
    const claims = decodeAccountClaims(jwt);
    if (!this.trusted.has(claims.iss)) throw new Error(ACCOUNT_NOT_TRUSTED);
    const t = timeCheck(claims);
    if (t) throw new Error(`${ACCOUNT_VALIDATION}: ${t}`);
    return claims;
  }

  /** The account `pub`: loaded, else fetched and verified (undefined when unknown or bad). */
  lookup(pub: string): Promise<JwtAccount | undefined> {
    const known = this.accounts.get(pub);
    if (known) return Promise.resolve(known);
    let p = this.pending.get(pub);
    if (!p) {
      p = this.fetchAndAdd(pub).finally(() => this.pending.delete(pub));
      this.pending.set(pub, p);
    }
    return p;
  }

  private async fetchAndAdd(pub: string): Promise<JwtAccount | undefined> {
    if (!this.fetcher) return undefined;
    let jwt: string | undefined;
    try {
      jwt = await this.fetcher.fetch(pub);
    } catch {
      return undefined;
    }
    if (!jwt) return undefined;
    try {
      const claims = this.verify(jwt);
      if (claims.sub !== pub) return undefined;
      return this.accounts.get(pub) ?? this.install(jwt, claims);
    } catch {
      return undefined;
    }
  }

  /**
   * Applies an account JWT (pushed or refreshed): verified, then installed when it is newer
   * than (or as new as) the one loaded. Throws verification errors. Returns the account.
   */
  update(jwt: string): JwtAccount {
    const claims = this.verify(jwt);
    const cur = this.accounts.get(claims.sub);
    if (cur && cur.jwt === jwt) return cur;
    if (cur && (cur.claims.iat ?? 0) > (claims.iat ?? 0)) return cur;
    return this.install(jwt, claims);
  }

  /** Adds a JWT without contacting the resolver (preloads); throws verification errors. */
  preload(jwt: string): JwtAccount {
    return this.update(jwt);
  }

  /** Forgets an account (claims deleted). */
  remove(pub: string): boolean {
    return this.accounts.delete(pub);
  }

  private install(jwt: string, claims: AccountClaims): JwtAccount {
    const previous = this.accounts.get(claims.sub);
    const acc = makeAccount(jwt, claims);
    this.accounts.set(acc.name, acc);
    for (const l of this.listeners) l(acc, previous);
    return acc;
  }
}
