/**
 * What every block module shares: the options being built, the error/warning collector with
 * positions, the typed value readers (each reports the reference's `interface conversion` text),
 * and the Go renderings of config values used in messages.
 */
import { ConfigError } from "../errors.ts";
import type { OptionsMeta } from "../freeze.ts";
import { goAtoi, goQuote, parseGoDuration, splitHostPort } from "../../core/gofmt.ts";
import { goType } from "./go_values.ts";
import {
  type BlockName,
  type BlockSpec,
  candidatesOf,
  resolveKey,
  type TopLevelKeysOf,
} from "../keys.ts";
import { defaultOptions, type ServerOptions } from "../options.ts";
import type { ConfigMap, ConfigNode } from "../parser.ts";
import { suggest } from "../suggest.ts";
import type { SimpleAuth } from "../../auth/types.ts";

/**
 * Handles one top-level key: `n` is its value, `k` the key as written (messages quote it).
 * Writes into `ctx.o` / `ctx.draft` and reports through `ctx`.
 */
export type TopLevelHandler = (n: ConfigNode, k: string, ctx: BuildContext) => void;

/** A block module's handlers: exactly the top-level keys the table gives that block. */
export type TopLevelHandlers<B extends BlockName> = {
  readonly [K in TopLevelKeysOf<B>]: TopLevelHandler;
};

/** A key refused as a whole: `<key>: not supported yet`. */
export const refuseKey: TopLevelHandler = (n, k, ctx) => ctx.refuse(n, k);

/** A position in a config file (any node has one). */
export type Pos = Pick<ConfigNode, "file" | "line" | "col">;

/** The global account's name. */
export const GLOBAL_ACCOUNT = "$G";

/** Milliseconds of a Go duration in nanoseconds. */
export const nsToMs = (ns: bigint): number => Number(ns) / 1e6;

/** Formats an unknown-key message (the reference's wording differs per block). */
export type UnknownFormat = (key: string) => string;

/** `unknown field "k"`: the default unknown-key message. */
export const unknownField: UnknownFormat = (k) => `unknown field ${goQuote(k)}`;

/**
 * Raw values read by several blocks that setBaselineOptions turns into defaults at the end
 * (0 / "" = not set), and state one block leaves for another.
 */
export interface Draft {
  port: number;
  host: string;
  maxConn: number;
  pingIntervalMs: number;
  pingMax: number;
  maxControlLine: number;
  maxPayload: number;
  maxPending: number;
  writeDeadlineMs: number;
  lameDuckMs: number;
  lameDuckGraceMs: number;
  /** An `authorization` block was seen. */
  authSet: boolean;
  authTimeoutSec: number;
  tlsTimeoutSec: number;
  leafTlsTimeoutSec: number;
  wsAuth: (SimpleAuth & { noAuthUser?: string }) | undefined;
}

/** The build in progress: options being filled in by the block modules, problems found. */
export class BuildContext {
  /** Errors, in the order found. */
  readonly errors: ConfigError[] = [];
  /** Warnings, in the order found. */
  readonly warnings: ConfigError[] = [];
  /** The options being built (not frozen yet). */
  readonly o: ServerOptions = defaultOptions();
  /** Side data kept next to the options. */
  readonly meta: OptionsMeta = { monitorHostExplicit: false };
  /** Values defaulted at the end, and cross-block state. */
  readonly draft: Draft = {
    port: 0,
    host: "",
    maxConn: 0,
    pingIntervalMs: 0,
    pingMax: 0,
    maxControlLine: 0,
    maxPayload: 0,
    maxPending: 0,
    writeDeadlineMs: 0,
    lameDuckMs: 0,
    lameDuckGraceMs: 0,
    authSet: false,
    authTimeoutSec: 0,
    tlsTimeoutSec: 0,
    leafTlsTimeoutSec: 0,
    wsAuth: undefined,
  };

  /** Records an error at `p`. */
  err(p: Pos, msg: string, showPosition = true): void {
    this.errors.push(new ConfigError(p.file, p.line, p.col, msg, showPosition));
  }

  /** Records a warning at `p`. */
  warn(p: Pos, msg: string): void {
    this.warnings.push(new ConfigError(p.file, p.line, p.col, msg));
  }

  /** The reference's failed type assertion. */
  conv(n: ConfigNode, want: string): undefined {
    this.err(n, `interface conversion: interface {} is ${goType(n)}, not ${want}`);
    return undefined;
  }

  str(n: ConfigNode): string | undefined {
    return n.kind === "string" ? n.value : this.conv(n, "string");
  }

  int(n: ConfigNode): bigint | undefined {
    return n.kind === "int" ? n.value : this.conv(n, "int64");
  }

  num(n: ConfigNode): number | undefined {
    return n.kind === "int" ? Number(n.value) : this.conv(n, "int64");
  }

  bool(n: ConfigNode): boolean | undefined {
    return n.kind === "bool" ? n.value : this.conv(n, "bool");
  }

  map(n: ConfigNode): ConfigMap | undefined {
    return n.kind === "map" ? n.value : this.conv(n, "map[string]interface {}");
  }

  /** `unknown field "k"` (skipped for keys that are variables used elsewhere). */
  unknown(n: ConfigNode, key: string, candidates: readonly string[], fmt = unknownField): void {
    if (n.usedVariable) return;
    const hint = suggest(key, candidates);
    this.err(n, fmt(key) + (hint ? ` (did you mean ${goQuote(hint)}?)` : ""));
  }

  /**
   * `<path>: not supported yet` (a key of the reference this server does not implement), with
   * an optional hint in parentheses saying what to do instead.
   */
  refuse(n: ConfigNode, path: string, hint?: string): void {
    this.err(n, `${path}: not supported yet${hint ? ` (${hint})` : ""}`);
  }

  /** `<path>: not supported yet, ignored` (a descriptive key, accepted with a warning). */
  ignore(n: ConfigNode, path: string): void {
    this.warn(n, `${path}: not supported yet, ignored`);
  }

  /**
   * The canonical name of block key `k` (any case, any alias) from the block's table entry, or
   * undefined after reporting the block's unknown-key error. Block parsers switch on it, so a
   * key missing from either the table or the switch does not compile.
   */
  keyOf<S extends BlockSpec>(
    spec: S,
    k: string,
    v: ConfigNode,
    fmt: UnknownFormat = unknownField,
  ): (keyof S["keys"] & string) | undefined {
    const key = resolveKey(spec, k);
    if (key === undefined) this.unknown(v, k, candidatesOf(spec), fmt);
    return key as (keyof S["keys"] & string) | undefined;
  }

  /** Seconds-or-float auth timeout as the reference reads it (anything else counts as 1s). */
  authTimeout(n: ConfigNode, path: string): number {
    if (n.kind === "int") return Number(n.value);
    if (n.kind === "float") return n.value;
    this.warn(
      n,
      `${path}: expected a number of seconds, got ${goType(n)}; using 1 second like nats-server`,
    );
    return 1;
  }

  /** parseDuration: a duration string, or an integer of seconds with a warning. */
  duration(field: string, n: ConfigNode): number | undefined {
    if (n.kind === "string") {
      try {
        return nsToMs(parseGoDuration(n.value));
      } catch (e) {
        this.err(n, `error parsing ${field}: ${(e as Error).message}`);
        return undefined;
      }
    }
    this.warn(
      n,
      `invalid use of field ${goQuote(field)}: ${field} should be converted to a duration`,
    );
    const v = this.int(n);
    return v === undefined ? undefined : Number(v) * 1000;
  }

  /** parseListen: a port, or "host:port". */
  listen(n: ConfigNode): { host: string; port: number } | undefined {
    if (n.kind === "int") return { host: "", port: Number(n.value) };
    if (n.kind === "string") {
      const hp = splitHostPort(n.value);
      if (!hp.ok) {
        this.err(n, `could not parse address string ${goQuote(n.value)}`);
        return undefined;
      }
      const { host, port } = hp;
      const p = goAtoi(port);
      if (p === undefined) {
        this.err(n, `could not parse port ${goQuote(port)}`);
        return undefined;
      }
      return { host, port: p };
    }
    this.err(n, `expected port or host:port, got ${goType(n)}`);
    return undefined;
  }

  /** `listen`, `port` or `host` (alias `net`) of a listener block, into `target`. */
  endpoint(
    key: "listen" | "port" | "host",
    v: ConfigNode,
    target: { host: string; port: number },
  ): void {
    if (key === "listen") {
      const hp = this.listen(v);
      if (hp) {
        target.host = hp.host;
        target.port = hp.port;
      }
    } else if (key === "port") target.port = this.num(v) ?? target.port;
    else target.host = this.str(v) ?? target.host;
  }

  /** parseStringArray: a string or an array of strings. */
  stringArray(field: string, n: ConfigNode): string[] | undefined {
    if (n.kind === "string") return [n.value];
    if (n.kind === "array") {
      const out: string[] = [];
      for (const e of n.value) {
        if (e.kind === "string") out.push(e.value);
        else this.err(e, `error parsing ${field}: unsupported type in array ${goType(e)}`);
      }
      return out;
    }
    this.err(n, `error parsing ${field}: unsupported type ${goType(n)}`);
    return undefined;
  }
}
