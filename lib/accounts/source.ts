/**
 * Where account definitions come from: the config today, JWT resolvers next. A source answers
 * asynchronously; the registry keeps what it learned for synchronous use.
 *
 * @module
 */
import type { AccountConfig } from "../auth/types.ts";

/** One account's exports and imports (the shape config produces; resolvers produce it too). */
export type AccountDefinition = AccountConfig;

/** A place to look up accounts the registry does not know yet. */
export interface AccountSource {
  /** The definition of `name`, or undefined when this source does not know it. */
  lookup(name: string): Promise<AccountDefinition | undefined>;
}

/** The accounts of a config file's `accounts { }` block. */
export class ConfigAccountSource implements AccountSource {
  private readonly defs: ReadonlyMap<string, AccountDefinition>;

  constructor(defs: readonly AccountDefinition[]) {
    this.defs = new Map(defs.map((d) => [d.name, d]));
  }

  /** The configured definition of `name`. */
  lookup(name: string): Promise<AccountDefinition | undefined> {
    return Promise.resolve(this.defs.get(name));
  }
}
