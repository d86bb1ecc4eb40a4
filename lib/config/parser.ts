/**
 * The generic layer: config text → a tree of positioned values, with includes and variables
 * resolved (nats-server 2.9.10 `conf/parse.go` semantics, pedantic mode).
 *
 * Every value is a `ConfigNode` carrying its kind, its value and the position the reference
 * would report for it: for a value inside a map, the position of its key; for an array element,
 * the position of the element itself (for a map/array element: of its closing bracket).
 */
import { ConfigError } from "./errors.ts";
import { isDigit, type Item, Lexer, Tok } from "./lexer.ts";

interface NodeBase {
  file: string;
  line: number;
  col: number;
  /** Set when a `$variable` referenced this value. */
  usedVariable: boolean;
}
export interface StringNode extends NodeBase {
  kind: "string";
  value: string;
}
/** Integers are Go int64 values, kept exact as bigint (suffix multiplication wraps like Go). */
export interface IntNode extends NodeBase {
  kind: "int";
  value: bigint;
}
export interface FloatNode extends NodeBase {
  kind: "float";
  value: number;
}
export interface BoolNode extends NodeBase {
  kind: "bool";
  value: boolean;
}
export interface DateNode extends NodeBase {
  kind: "date";
  value: Date;
}
export interface ArrayNode extends NodeBase {
  kind: "array";
  value: ConfigNode[];
}
export interface MapNode extends NodeBase {
  kind: "map";
  value: ConfigMap;
}
export type ConfigNode =
  | StringNode
  | IntNode
  | FloatNode
  | BoolNode
  | DateNode
  | ArrayNode
  | MapNode;
export type ConfigKind = ConfigNode["kind"];
/** Keys in first-seen order; a repeated key replaces the value (last one wins). */
export type ConfigMap = Map<string, ConfigNode>;

export type EnvLookup = Record<string, string> | ((name: string) => string | undefined);

export interface ParseOptions {
  /** File name used in positions and as the base for relative `include`s. */
  file?: string;
  /** Environment for `$VAR` lookups (default: the process environment). */
  env?: EnvLookup;
}

export interface ParseResult {
  /** The top-level map (empty when parsing failed). */
  value: ConfigMap;
  errors: ConfigError[];
  warnings: ConfigError[];
}

const DEFAULT_FILE = "<config>";
const MAX_INCLUDE_DEPTH = 64;
const MAX_ENV_DEPTH = 16;

/** Parses config text. Never throws for bad input: problems come back in `errors`. */
export function parseConfigText(text: string, opts: ParseOptions = {}): ParseResult {
  const file = opts.file ?? DEFAULT_FILE;
  const ctx = new Context(opts.env);
  const p = new Parser(new TextEncoder().encode(text), file, ctx, [chainLink(file)], 0);
  p.run();
  return { value: p.errors.length ? new Map() : p.mapping, errors: p.errors, warnings: [] };
}

/** Reads and parses a config file; a read failure is reported like the reference. */
export function parseConfigFile(path: string, opts: { env?: EnvLookup } = {}): ParseResult {
  const ctx = new Context(opts.env);
  const read = readFile(path);
  if (typeof read === "string") {
    return { value: new Map(), errors: [new ConfigError(path, 0, 0, read, false)], warnings: [] };
  }
  const p = new Parser(read, path, ctx, [chainLink(path)], 0);
  p.run();
  return { value: p.errors.length ? new Map() : p.mapping, errors: p.errors, warnings: [] };
}

class Context {
  private env: (name: string) => string | undefined;
  /** Set when the process environment could not be read (no --allow-env). */
  envDenied = false;
  constructor(env: EnvLookup | undefined) {
    if (typeof env === "function") this.env = env;
    else if (env) this.env = (n) => Object.hasOwn(env, n) ? env[n] : undefined;
    else {
      this.env = (n) => {
        try {
          return Deno.env.get(n);
        } catch {
          this.envDenied = true;
          return undefined;
        }
      };
    }
  }
  getenv(name: string): string | undefined {
    if (name === "" || name.includes("=") || name.includes("\0")) return undefined;
    return this.env(name);
  }
}

/** Error text of a failed read, in Go's os error style. */
export function readFile(path: string): Uint8Array | string {
  try {
    return Deno.readFileSync(path);
  } catch (e) {
    return osErrorText(path, e);
  }
}

function osErrorText(path: string, e: unknown): string {
  if (e instanceof Deno.errors.NotFound) return `open ${path}: no such file or directory`;
  if (e instanceof Deno.errors.IsADirectory) return `read ${path}: is a directory`;
  if (e instanceof Deno.errors.PermissionDenied) return `open ${path}: permission denied`;
  if (e instanceof Deno.errors.NotCapable) {
    return `open ${path}: permission denied (run deno with --allow-read)`;
  }
  const msg = e instanceof Error ? e.message : String(e);
  if (/is a directory/i.test(msg)) return `read ${path}: is a directory`;
  if (/not a directory/i.test(msg)) return `open ${path}: not a directory`;
  return `open ${path}: ${msg}`;
}

/** An entry of the include chain: the path as used, and its real path (for the cycle check). */
class ChainLink {
  private realPath: string | undefined;
  constructor(readonly shown: string) {}
  get real(): string {
    return this.realPath ??= realPathOf(this.shown);
  }
}

function chainLink(path: string): ChainLink {
  return new ChainLink(path);
}

function realPathOf(path: string): string {
  try {
    return Deno.realPathSync(path);
  } catch {
    return path;
  }
}

/** Go's filepath.Clean. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const s = (rooted ? "/" : "") + out.join("/");
  return s === "" ? "." : s;
}

/** Go's filepath.Dir. */
export function dirOf(p: string): string {
  const i = p.lastIndexOf("/");
  return cleanPath(p.slice(0, i + 1));
}

/** Go's filepath.Join (an absolute second element is NOT special). */
export function joinPath(a: string, b: string): string {
  const parts = [a, b].filter((x) => x !== "");
  return parts.length ? cleanPath(parts.join("/")) : "";
}

interface KeyPos {
  line: number;
  pos: number;
}

class Parser {
  readonly mapping: ConfigMap = new Map();
  readonly errors: ConfigError[] = [];
  private ctxs: (ConfigMap | ConfigNode[])[] = [];
  private keys: string[] = [];
  private ikeys: KeyPos[] = [];
  private readonly dir: string;

  constructor(
    private readonly input: Uint8Array,
    private readonly file: string,
    private readonly ctx: Context,
    private readonly chain: ChainLink[],
    private readonly envDepth: number,
  ) {
    this.dir = dirOf(file);
    this.ctxs.push(this.mapping);
  }

  private get top(): ConfigMap | ConfigNode[] {
    return this.ctxs[this.ctxs.length - 1];
  }

  run(): void {
    const lx = new Lexer(this.input);
    for (;;) {
      const it = lx.nextItem();
      if (it.typ === Tok.EOF) break;
      if (it.typ === Tok.Error) {
        this.fail(it, `Parse error on line ${it.line}: '${it.val}'`);
        break;
      }
      try {
        this.process(it);
      } catch (e) {
        // Internal inconsistencies (the reference panics here) become a positioned error.
        this.fail(it, e instanceof Error ? e.message : String(e));
        break;
      }
    }
  }

  private fail(it: Item, msg: string): void {
    this.errors.push(new ConfigError(this.file, it.line, it.pos, msg, false));
  }

  private node<K extends ConfigKind>(
    kind: K,
    value: Extract<ConfigNode, { kind: K }>["value"],
    it: Item,
  ): ConfigNode {
    return {
      kind,
      value,
      file: this.file,
      line: it.line,
      col: it.pos,
      usedVariable: false,
    } as ConfigNode;
  }

  /** A value that could not be produced: drop its key so parsing can go on. */
  private discard(): void {
    if (this.top instanceof Map) {
      this.keys.pop();
      this.ikeys.pop();
    }
  }

  private process(it: Item): void {
    switch (it.typ) {
      case Tok.Key:
        this.keys.push(it.val);
        this.ikeys.push({ line: it.line, pos: it.pos });
        return;
      case Tok.MapStart:
        this.ctxs.push(new Map());
        return;
      case Tok.MapEnd:
        this.setValue(this.node("map", this.popContext() as ConfigMap, it));
        return;
      case Tok.ArrayStart:
        this.ctxs.push([]);
        return;
      case Tok.ArrayEnd:
        this.setValue(this.node("array", this.popContext() as ConfigNode[], it));
        return;
      case Tok.String:
        this.setValue(this.node("string", it.val, it));
        return;
      case Tok.Integer:
        return this.integer(it);
      case Tok.Float: {
        const ok = /^-?[0-9]+\.[0-9]+$/.test(it.val);
        const f = ok ? Number(it.val) : NaN;
        if (!ok) {
          this.fail(it, `expected float, but got '${it.val}'`);
          this.discard();
        } else if (!Number.isFinite(f)) {
          this.fail(it, `float '${it.val}' is out of the range`);
          this.discard();
        } else this.setValue(this.node("float", f, it));
        return;
      }
      case Tok.Bool: {
        const v = it.val.toLowerCase();
        this.setValue(this.node("bool", v === "true" || v === "yes" || v === "on", it));
        return;
      }
      case Tok.Datetime: {
        const d = parseZulu(it.val);
        if (d === undefined) {
          this.fail(it, `expected Zulu formatted DateTime, but got '${it.val}'`);
          this.discard();
        } else this.setValue(this.node("date", d, it));
        return;
      }
      case Tok.Variable:
        return this.variable(it);
      case Tok.Include:
        return this.include(it);
      default:
        return; // comments
    }
  }

  private popContext(): ConfigMap | ConfigNode[] {
    if (this.ctxs.length <= 1) throw new Error("BUG in parser, context stack empty");
    return this.ctxs.pop()!;
  }

  private setValue(n: ConfigNode): void {
    const top = this.top;
    if (Array.isArray(top)) {
      top.push(n);
      return;
    }
    const key = this.keys.pop();
    if (key === undefined) throw new Error("BUG in parser, keys stack empty");
    const ik = this.ikeys.pop()!;
    n.line = ik.line;
    n.col = ik.pos;
    top.set(key, n);
  }

  private integer(it: Item): void {
    const val = it.val;
    // Digits (any Unicode decimal digit, as the reference counts them) and '-' form the number.
    let i = 0;
    const cps = [...val];
    let bytes = 0;
    for (const ch of cps) {
      const c = ch.codePointAt(0)!;
      if (!(isDigit(c) || c === 0x2d)) break;
      i++;
      bytes += ch.length;
    }
    const numStr = cps.slice(0, i).join("");
    if (!/^[+-]?[0-9]+$/.test(numStr) || bytes !== i) {
      this.fail(it, `expected integer, but got '${val}'`);
      this.discard();
      return;
    }
    const num = BigInt(numStr);
    if (num > 0x7fffffffffffffffn || num < -0x8000000000000000n) {
      this.fail(it, `integer '${val}' is out of the range`);
      this.discard();
      return;
    }
    const suffix = cps.slice(i).join("").trim().toLowerCase();
    const mult = SUFFIX[suffix];
    // An unknown suffix ("1kbb") sets nothing, exactly like the reference.
    if (mult === undefined) return;
    this.setValue(this.node("int", BigInt.asIntN(64, num * mult), it));
  }

  private variable(it: Item): void {
    const name = it.val;
    // Unquoted bcrypt hashes ($2a$...) are not variables.
    if (name.startsWith("2a$")) {
      this.setValue(this.node("string", "$" + name, it));
      return;
    }
    for (let i = this.ctxs.length - 1; i >= 0; i--) {
      const c = this.ctxs[i];
      if (c instanceof Map) {
        const v = c.get(name);
        if (v !== undefined) {
          v.usedVariable = true;
          this.setValue({ ...v, file: this.file, line: it.line, col: it.pos, usedVariable: false });
          return;
        }
      }
    }
    const env = this.ctx.getenv(name);
    if (env !== undefined) {
      if (this.envDepth >= MAX_ENV_DEPTH) {
        this.fail(
          it,
          `variable reference for '${name}' on line ${it.line} could not be parsed: too many nested environment variable references`,
        );
        this.discard();
        return;
      }
      const sub = new Parser(
        new TextEncoder().encode(`pk=${env}`),
        "",
        this.ctx,
        this.chain,
        this.envDepth + 1,
      );
      sub.run();
      if (sub.errors.length) {
        this.fail(
          it,
          `variable reference for '${name}' on line ${it.line} could not be parsed: ${
            sub.errors[0].message
          }`,
        );
        this.discard();
        return;
      }
      const v = sub.mapping.get("pk");
      if (v !== undefined) {
        this.setValue(reposition(v, this.file, it.line, it.pos));
        return;
      }
    }
    // The reference's text, plus a hint when Deno's permissions hid the environment.
    const hint = this.ctx.envDenied ? " (environment not readable: run with --allow-env)" : "";
    this.fail(it, `variable reference for '${name}' on line ${it.line} can not be found${hint}`);
    this.discard();
  }

  private include(it: Item): void {
    const path = joinPath(this.dir, it.val);
    const prefix = `error parsing include file '${it.val}', `;
    if (this.chain.length > MAX_INCLUDE_DEPTH) {
      this.fail(it, prefix + "too many nested includes");
      return;
    }
    const link = chainLink(path);
    if (this.chain.some((l) => l.real === link.real)) {
      const shown = [...this.chain, link].map((l) => l.shown).join(" -> ");
      this.fail(it, prefix + `include cycle detected (${shown})`);
      return;
    }
    const data = readFile(path);
    if (typeof data === "string") {
      this.fail(it, prefix + data);
      return;
    }
    const sub = new Parser(data, path, this.ctx, [...this.chain, link], this.envDepth);
    sub.run();
    if (sub.errors.length) {
      for (const e of sub.errors) {
        this.errors.push(new ConfigError(e.file, e.line, e.col, prefix + e.message, false));
      }
      return;
    }
    for (const [k, v] of sub.mapping) {
      this.keys.push(k);
      this.ikeys.push({ line: v.line, pos: v.col });
      this.setValue(v);
    }
  }
}

const SUFFIX: Record<string, bigint> = (() => {
  const t: Record<string, bigint> = { "": 1n };
  const units = ["k", "m", "g", "t", "p", "e"];
  units.forEach((u, i) => {
    const n = BigInt(i + 1);
    t[u] = 1000n ** n;
    for (const s of ["b", "i", "ib"]) t[u + s] = 1024n ** n;
  });
  return t;
})();

/** Gives a value parsed from an environment variable the position of the reference. */
function reposition(n: ConfigNode, file: string, line: number, col: number): ConfigNode {
  const out = { ...n, file, line, col, usedVariable: false } as ConfigNode;
  if (out.kind === "map") {
    const m: ConfigMap = new Map();
    for (const [k, v] of out.value) m.set(k, reposition(v, file, line, col));
    out.value = m;
  } else if (out.kind === "array") {
    out.value = out.value.map((v) => reposition(v, file, line, col));
  }
  return out;
}

const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** time.Parse("2006-01-02T15:04:05Z", s). */
function parseZulu(s: string): Date | undefined {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})Z$/.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59 || d < 1) return undefined;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const dim = mo === 2 && leap ? 29 : DAYS[mo - 1];
  if (d > dim) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, se, 0);
  return date;
}
