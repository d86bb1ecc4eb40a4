/**
 * The options store: one frozen `ServerOptions` object at a time and the pieces derived from
 * it (authenticator, accounts registry, log levels, the INFO template). `swap` installs a new
 * object: the derived pieces are rebuilt from it (reusing the previous ones where the new
 * options leave them unchanged) and swapped in together, so readers never see a mix of two
 * configurations. Connections read through the store on every use instead of copying values
 * at connect time.
 *
 * @example
 * ```ts ignore
 * const store = new OptionsStore(options, (o, prev) => deriveState(o, prev));
 * store.current.authenticator.authenticate(...);
 * store.swap(reloadedOptions); // rebuilt authenticator, same accounts if unchanged
 * ```
 *
 * @module
 */
import { deepFreeze } from "../config/freeze.ts";
import type { ServerOptions } from "../config/options.ts";

/** What every derived state carries: the options it was built from. */
export interface DerivedFrom {
  readonly options: ServerOptions;
}

/** Builds the derived pieces for `options`; `previous` is the state being replaced, if any. */
export type Derive<S extends DerivedFrom> = (options: ServerOptions, previous?: S) => S;

/** Called after a swap with the state that was replaced and the one now in force. */
export type SwapListener<S> = (previous: S, current: S) => void;

/**
 * A deep copy of `options`, deep-frozen: what the server keeps, so a caller that still holds
 * (and mutates) the object it passed in cannot change a running server.
 */
export function frozenCopy(options: ServerOptions): ServerOptions {
  return deepFreeze(structuredClone(options));
}

/** Holds the options in force and what was derived from them. */
export class OptionsStore<S extends DerivedFrom> {
  #current: S;
  #generation = 1;
  readonly #derive: Derive<S>;
  readonly #listeners: SwapListener<S>[] = [];

  /** Freezes (a copy of, unless already frozen) `options` and derives the first state. */
  constructor(options: ServerOptions, derive: Derive<S>) {
    this.#derive = derive;
    this.#current = derive(frozen(options));
  }

  /** The state in force. */
  get current(): S {
    return this.#current;
  }

  /** The options in force (frozen). */
  get options(): ServerOptions {
    return this.#current.options;
  }

  /** Increases on every swap: lets readers cache values per generation (e.g. INFO). */
  get generation(): number {
    return this.#generation;
  }

  /** Registers a listener called after each swap. */
  onSwap(listener: SwapListener<S>): void {
    this.#listeners.push(listener);
  }

  /**
   * Derives the state for `next` and installs it. When deriving throws, nothing changes and the
   * error propagates. Returns the replaced state.
   */
  swap(next: ServerOptions): S {
    const previous = this.#current;
    const current = this.#derive(frozen(next), previous);
    this.#current = current;
    this.#generation++;
    for (const l of this.#listeners) l(previous, current);
    return previous;
  }
}

function frozen(options: ServerOptions): ServerOptions {
  return isDeepFrozen(options) ? options : frozenCopy(options);
}

function isDeepFrozen(v: unknown): boolean {
  if (v === null || typeof v !== "object") return true;
  if (!Object.isFrozen(v)) return false;
  return Object.values(v as object).every(isDeepFrozen);
}
