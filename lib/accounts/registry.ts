/**
 * The account registry: every account of a server, their exports and imports, fed by sources
 * (the config today, JWT resolvers next). Lookups of known accounts are synchronous (the hot
 * path); unknown names can be resolved asynchronously through the sources.
 *
 * @module
 */
import { isValidSubject } from "../core/subject.ts";
import { goQuote } from "../core/gofmt.ts";
import type { AccountConfig, ExportConfig, ImportConfig } from "../auth/types.ts";
import { Account } from "./account.ts";
import { existingLinks, type LinkContext, Links, ServiceImport } from "./links.ts";
import { type AccountDefinition, type AccountSource, ConfigAccountSource } from "./source.ts";
import { hasWildcard, Transform, transformTokenize, transformUntokenize } from "./transform.ts";

const encoder = new TextEncoder();

/** The reference's DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD. */
export const DEFAULT_RESPONSE_THRESHOLD_MS = 2 * 60 * 1000;

/** What a registry needs besides the account configs. */
export interface AccountRegistryOptions {
  /** Response import expiry (default {@link DEFAULT_RESPONSE_THRESHOLD_MS}). */
  responseThresholdMs?: number;
  /** Clock in ms (default performance.now). */
  now?: () => number;
  /** Sources asked after the config for accounts not known yet. */
  sources?: readonly AccountSource[];
}

/**
 * All accounts of a server. Configured accounts (with their exports and imports) are built
 * up front; others (`$G`, or names only known at runtime) are created on first use by
 * {@link AccountRegistry.get}. Accounts, exports and imports can be added, replaced and removed
 * while the server runs; {@link AccountRegistry.resolve} asks the sources for unknown names.
 * `errors` holds the reference's startup errors for imports that cannot be added.
 */
export class AccountRegistry implements LinkContext {
  /** Response import expiry in ms. */
  readonly responseThresholdMs: number;
  /** Clock in ms. */
  readonly now: () => number;
  /** Errors of the configured imports that could not be added (the server refuses to start). */
  readonly errors: string[] = [];
  private readonly accounts = new Map<string, Account>();
  /** Definitions of the accounts that came from a source (config, resolvers). */
  private readonly defs = new Map<string, AccountDefinition>();
  private readonly sources: AccountSource[] = [];
  private readonly pending = new Map<string, Promise<Account | undefined>>();

  constructor(configs: readonly AccountConfig[] = [], options: AccountRegistryOptions = {}) {
    this.responseThresholdMs = options.responseThresholdMs ?? DEFAULT_RESPONSE_THRESHOLD_MS;
    this.now = options.now ?? (() => performance.now());
    // parseAccounts: every account first, then all exports, then the imports.
    for (const c of configs) {
      this.get(c.name);
      this.defs.set(c.name, c);
    }
    for (const c of configs) for (const x of c.exports) this.exportFrom(this.get(c.name), x);
    this.errors.push(...this.rebuildImports(configs));
    this.sources.push(new ConfigAccountSource(configs));
    for (const s of options.sources ?? []) this.sources.push(s);
  }

  /** The account named `name`, created when new. */
  get(name: string): Account {
    let a = this.accounts.get(name);
    if (!a) {
      a = new Account(name);
      this.accounts.set(name, a);
    }
    return a;
  }

  /** The account named `name` when it exists (never creates one). */
  find(name: string): Account | undefined {
    return this.accounts.get(name);
  }

  /** Every account created so far. */
  all(): IterableIterator<Account> {
    return this.accounts.values();
  }

  /** The links of `acc`, created when it has none yet. */
  linksOf(acc: Account): Links {
    const links = existingLinks(acc);
    if (links) return links;
    const created = new Links(acc, this);
    acc.links = created;
    return created;
  }

  /** Stops timers. */
  close(): void {
    for (const a of this.accounts.values()) existingLinks(a)?.close();
  }

  // ---- run-time changes ------------------------------------------------------------------------

  /** Adds a source asked by {@link resolve} for accounts not known yet (after earlier ones). */
  addSource(source: AccountSource): void {
    this.sources.push(source);
  }

  /**
   * The account named `name`: at once when known, else from the first source that defines it
   * (then added to the registry). Undefined when no source knows it.
   */
  resolve(name: string): Promise<Account | undefined> {
    const known = this.accounts.get(name);
    if (known) return Promise.resolve(known);
    let pending = this.pending.get(name);
    if (!pending) {
      pending = this.lookup(name).finally(() => this.pending.delete(name));
      this.pending.set(name, pending);
    }
    return pending;
  }

  private async lookup(name: string): Promise<Account | undefined> {
    for (const source of this.sources) {
      const def = await source.lookup(name);
      if (def === undefined) continue;
      // Another lookup may have defined it meanwhile; the first definition wins.
      if (!this.defs.has(name)) this.define(def);
      return this.get(name);
    }
    return this.accounts.get(name);
  }

  /**
   * Adds an account, or replaces the exports and imports of one already known (the same
   * {@link Account} object stays, with its subscriptions). Imports from it held by other
   * accounts are checked again. Returns the errors of imports that could not be added.
   */
  define(def: AccountDefinition): string[] {
    this.defs.set(def.name, def);
    const acc = this.get(def.name);
    existingLinks(acc)?.clearExports();
    for (const x of def.exports) this.exportFrom(acc, x);
    return this.rebuildImports(this.importersOf(def.name, def));
  }

  /**
   * Removes an account: its exports and imports go, and imports from it held by other accounts
   * are dropped. Connections bound to it keep the object until they close. Returns false when
   * it was not known.
   */
  remove(name: string): boolean {
    const acc = this.accounts.get(name);
    if (!acc) return false;
    const importers = this.importersOf(name, null);
    this.defs.delete(name);
    this.accounts.delete(name);
    const links = existingLinks(acc);
    if (links) {
      links.clearImports();
      links.clearExports();
      links.close();
    }
    this.rebuildImports(importers);
    return true;
  }

  /**
   * Adds an export to an account; imports from it that failed before are tried again. Returns
   * the errors of those that still cannot be added.
   */
  addExport(name: string, x: ExportConfig): string[] {
    const def = this.defs.get(name) ?? { name, exports: [], imports: [] };
    this.defs.set(name, { ...def, exports: [...def.exports, x] });
    this.exportFrom(this.get(name), x);
    return this.rebuildImports(this.importersOf(name, null));
  }

  private exportFrom(acc: Account, x: ExportConfig): void {
    const links = this.linksOf(acc);
    if (x.stream !== undefined) links.addStreamExport(x.stream, x.accounts);
    else if (x.service !== undefined) {
      links.addServiceExport(x.service, x.accounts, x.responseType);
    }
  }

  /** Removes the exports of `subject` (stream or service) and the imports they authorised. */
  removeExport(name: string, subject: string): string[] {
    const def = this.defs.get(name);
    if (!def) return [];
    return this.define({
      ...def,
      exports: def.exports.filter((x) => x.stream !== subject && x.service !== subject),
    });
  }

  /** Adds an import to a known account; returns the error text or null. */
  addImport(name: string, im: ImportConfig): string | null {
    const def = this.defs.get(name) ?? { name, exports: [], imports: [] };
    const err = this.importOne(this.get(name), im);
    if (err === null) this.defs.set(name, { ...def, imports: [...def.imports, im] });
    return err;
  }

  /** Removes the imports of `name` from `account` on `subject`; false when there were none. */
  removeImport(name: string, account: string, subject: string): boolean {
    const def = this.defs.get(name);
    if (!def) return false;
    const same = (im: ImportConfig) => {
      const from = im.stream ?? im.service;
      return from !== undefined && from.account === account && from.subject === subject;
    };
    if (!def.imports.some(same)) return false;
    const next = { ...def, imports: def.imports.filter((im) => !same(im)) };
    this.defs.set(name, next);
    this.rebuildImports([next]);
    return true;
  }

  /** The definitions importing from `exporter` (and `self` first when given). */
  private importersOf(exporter: string, self: AccountDefinition | null): AccountDefinition[] {
    const out = self ? [self] : [];
    for (const d of this.defs.values()) {
      if (d === self) continue;
      if (d.imports.some((im) => (im.stream ?? im.service)?.account === exporter)) out.push(d);
    }
    return out;
  }

  /** Drops and re-adds the imports of `defs`: streams first, then services, as at startup. */
  private rebuildImports(defs: readonly AccountDefinition[]): string[] {
    const errors: string[] = [];
    for (const d of defs) existingLinks(this.get(d.name))?.clearImports();
    for (const stream of [true, false]) {
      for (const d of defs) {
        const acc = this.get(d.name);
        for (const im of d.imports) {
          if ((im.stream !== undefined) !== stream) continue;
          const err = this.importOne(acc, im);
          if (err !== null) errors.push(err);
        }
      }
    }
    return errors;
  }

  /** Adds one import; returns the reference's error text or null. */
  private importOne(acc: Account, im: ImportConfig): string | null {
    const from = im.stream ?? im.service;
    if (from === undefined) return null;
    const kind = im.stream ? "stream" : "service";
    const { account, subject } = from;
    if (!this.defs.has(account)) {
      return `${goQuote(account)} account not defined for ${kind} import`;
    }
    const err = im.stream
      ? this.addStreamImport(acc, this.get(account), subject, im.prefix, im.to)
      : this.addServiceImport(acc, this.get(account), im.to || subject, subject);
    return err ? `Error adding ${kind} import ${goQuote(subject)}: ${err}` : null;
  }

  /** AddStreamImport / AddMappedStreamImport; returns the error text or null. */
  addStreamImport(
    acc: Account,
    from: Account,
    subject: string,
    prefix?: string,
    to?: string,
  ): string | null {
    const exporter = this.linksOf(from);
    if (!exporter.approved(acc.name, subject, true)) return "stream import not authorized";
    let target = to || subject;
    if (prefix) {
      if (hasWildcard(prefix)) return "stream import prefix can not contain wildcard tokens";
      target = (prefix.endsWith(".") ? prefix : `${prefix}.`) + subject;
    }
    const links = this.linksOf(acc);
    if (exporter.streamCycle(target, new Set([acc.name]))) return "import forms a cycle";
    let tr: Transform | null = null;
    let usePub = false;
    if (hasWildcard(subject)) {
      if (target === subject) usePub = true;
      else {
        try {
          tr = new Transform(subject, transformTokenize(target));
        } catch (e) {
          return `failed to create mapping transform for stream import subject ${
            goQuote(subject)
          } to ${goQuote(target)}: ${(e as Error).message}`;
        }
        target = transformUntokenize(target)[0];
      }
    }
    if (links.streamImports.some((s) => s.acc === from && s.from === subject)) {
      return "stream import already exists";
    }
    links.streamImports.push({ acc: from, from: subject, to: target });
    exporter.addStreamRoute({
      subject,
      importer: acc,
      to: target,
      toBytes: encoder.encode(target),
      tr,
      usePub,
    });
    return null;
  }

  /**
   * addServiceImportWithClaim: requests on `localFrom` in `acc` go to `exported` in `dest`.
   * Returns the error text or null.
   */
  addServiceImport(
    acc: Account,
    dest: Account,
    localFrom: string,
    exported: string,
  ): string | null {
    let from = localFrom;
    let to = exported;
    if (!isValidSubject(from) || !isValidSubject(to)) return "sublist: invalid subject";
    const exporter = this.linksOf(dest);
    if (!exporter.approved(acc.name, to, false)) return "service import not authorized";
    if (exporter.serviceCycle(from, new Set([acc.name]))) return "import forms a cycle";
    const links = this.linksOf(acc);
    const se = exporter.serviceExport(to);
    const dup = links.serviceImports.get(from);
    if (dup) {
      return `duplicate service import subject ${
        goQuote(from)
      }, previously used in import for account ${goQuote(dup.acc.name)}, subject ${
        goQuote(dup.to)
      }`;
    }
    let tr: Transform | null = null;
    let usePub = false;
    if (hasWildcard(to)) {
      if (to === from) usePub = true;
      else {
        to = transformUntokenize(to)[0];
        try {
          tr = new Transform(to, transformTokenize(from));
        } catch (e) {
          return `failed to create mapping transform for service import subject ${
            goQuote(from)
          } to ${goQuote(to)}: ${(e as Error).message}`;
        }
        from = transformUntokenize(from)[0];
        tr = tr.reverse();
      }
    }
    links.addServiceImport(
      new ServiceImport(dest, from, to, tr, usePub, se?.responseType ?? "singleton", se, false),
    );
    return null;
  }
}
