/**
 * Account JWT resolvers of operator mode (reference: `server/accounts.go` MemAccResolver,
 * URLAccResolver, DirAccResolver, CacheDirAccResolver; `server/dirstore.go`). Each answers
 * `fetch(accountPublicKey)` with the account JWT; the memory and directory resolvers also
 * store pushed JWTs. Verification is the JWT store's (lib/auth/jwt/store.ts), not theirs.
 *
 * @module
 */
import type { AccountJwtFetcher } from "../auth/jwt/store.ts";

/** A resolver: fetches account JWTs, and stores pushed ones unless read-only. */
export interface AccountResolver extends AccountJwtFetcher {
  /** `MEM`, `URL`, `full` or `cache`. */
  readonly kind: "memory" | "url" | "full" | "cache";
  /** Whether pushed JWTs are rejected (URL resolver). */
  readonly readOnly: boolean;
  /** Stores a pushed JWT. */
  store(pub: string, jwt: string): Promise<void>;
  /** Every stored account key (full directory resolver). */
  list?(): Promise<string[]>;
  /** Deletes a stored JWT (full resolver with `allow_delete`). */
  delete?(pub: string): Promise<boolean>;
  /** Stops timers. */
  close(): void;
}

/** `resolver: MEMORY`: the preloaded and pushed JWTs, in memory. */
export class MemoryResolver implements AccountResolver {
  readonly kind = "memory";
  readonly readOnly = false;
  private readonly jwts = new Map<string, string>();

  constructor(preload: Record<string, string> = {}) {
    for (const [k, v] of Object.entries(preload)) this.jwts.set(k, v);
  }

  fetch(pub: string): Promise<string | undefined> {
    return Promise.resolve(this.jwts.get(pub));
  }

  store(pub: string, jwt: string): Promise<void> {
    this.jwts.set(pub, jwt);
    return Promise.resolve();
  }

  close(): void {}
}

/** The URL resolver's default fetch timeout. */
export const DEFAULT_FETCH_TIMEOUT_MS = 2000;

/** `resolver: URL(http://host/jwt/v1/accounts/)`: GET `<url><account key>`. */
export class UrlResolver implements AccountResolver {
  readonly kind = "url";
  readonly readOnly = true;
  private readonly base: string;

  constructor(url: string, private readonly timeoutMs = DEFAULT_FETCH_TIMEOUT_MS) {
    this.base = url.endsWith("/") ? url : `${url}/`;
  }

  async fetch(pub: string): Promise<string | undefined> {
    const url = this.base + pub;
    const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(url)?.[1] ?? "";
    if (scheme !== "http" && scheme !== "https") {
      throw new Error(
        `could not fetch <"${url}">: Get "${url}": unsupported protocol scheme "${scheme}"`,
      );
    }
    let res: Response;
    try {
      res = await fetch(url, { signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (e) {
      throw new Error(`could not fetch <"${url}">: ${(e as Error).message}`);
    }
    const body = await res.text();
    if (res.status !== 200) {
      throw new Error(`could not fetch <"${url}">: ${res.status} ${res.statusText}`);
    }
    return body.trim();
  }

  store(): Promise<void> {
    return Promise.reject(new Error("store operation not supported for URL Resolver"));
  }

  close(): void {}
}

/** A directory of `<account key>.jwt` files (the directory resolvers' store). */
export class DirResolver implements AccountResolver {
  readonly readOnly = false;

  constructor(
    readonly kind: "full" | "cache",
    private readonly dir: string,
    private readonly allowDelete = false,
    /** Max JWTs kept (0 = no limit): `full` refuses more, `cache` evicts the oldest. */
    private readonly limit = 0,
  ) {
    Deno.mkdirSync(dir, { recursive: true });
  }

  private path(pub: string): string {
    return `${this.dir}/${pub}.jwt`;
  }

  async fetch(pub: string): Promise<string | undefined> {
    if (!/^[A-Z0-9]+$/.test(pub)) return undefined;
    try {
      return (await Deno.readTextFile(this.path(pub))).trim();
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return undefined;
      throw e;
    }
  }

  async store(pub: string, jwt: string): Promise<void> {
    if (!/^[A-Z0-9]+$/.test(pub)) throw new Error("invalid account key");
    if (this.limit > 0 && (await this.fetch(pub)) === undefined) await this.makeRoom();
    const tmp = `${this.path(pub)}.tmp`;
    await Deno.writeTextFile(tmp, jwt);
    await Deno.rename(tmp, this.path(pub));
  }

  /** At the limit: `full` fails with the reference's error, `cache` drops its oldest JWT. */
  private async makeRoom(): Promise<void> {
    const ids = await this.list();
    if (ids.length < this.limit) return;
    if (this.kind === "full") throw new Error("jwt store is full");
    let oldest: { id: string; at: number } | undefined;
    for (const id of ids) {
      const at = (await Deno.stat(this.path(id))).mtime?.getTime() ?? 0;
      if (!oldest || at < oldest.at) oldest = { id, at };
    }
    if (oldest) await Deno.remove(this.path(oldest.id)).catch(() => {});
  }

  async list(): Promise<string[]> {
    const out: string[] = [];
    for await (const e of Deno.readDir(this.dir)) {
      if (e.isFile && e.name.endsWith(".jwt")) out.push(e.name.slice(0, -4));
    }
    return out.sort();
  }

  async delete(pub: string): Promise<boolean> {
    if (!this.allowDelete) throw new Error("delete not allowed");
    try {
      // The reference renames a deleted JWT (RenameDeleted) instead of removing it.
      await Deno.rename(this.path(pub), `${this.path(pub)}.deleted`);
      return true;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return false;
      throw e;
    }
  }

  close(): void {}
}
