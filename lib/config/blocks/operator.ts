/**
 * Operator mode: `operator` (JWTs inline or in files), `trusted_keys`, `system_account`,
 * `resolver` (`MEMORY`, `URL(...)`, or a `{ type: full|cache, dir, ... }` map) and
 * `resolver_preload` (reference: `server/opts.go`). The operator JWTs are read here and only
 * parsed for the fields config needs (system account, account server URL); their signatures
 * are verified by the server at startup, which the auth module does.
 */
import { goQuote } from "../../core/gofmt.ts";
import { RESOLVER_DIR } from "../keys.ts";
import type { ResolverOptions } from "../options.ts";
import type { ConfigNode } from "../parser.ts";
import { type BuildContext, refuseKey, type TopLevelHandlers } from "./context.ts";
import { goType } from "./go_values.ts";

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"operator"> = {
  operator: (n, _k, ctx) => operators(ctx, n),
  resolver: (n, _k, ctx) => resolver(ctx, n),
  resolver_tls: refuseKey,
  resolver_preload: (n, _k, ctx) => preload(ctx, n),
  resolver_pinned_accounts: refuseKey,
  system_account: (n, _k, ctx) => {
    const s = ctx.str(n);
    if (s !== undefined) ctx.o.operator.systemAccount = s;
  },
  trusted: (n, _k, ctx) => trusted(ctx, n),
  no_system_account: (n, k, ctx) => {
    // The system account exists only when configured (or from the operator), so `true` is
    // what already happens.
    if (ctx.bool(n) === false) ctx.ignore(n, k);
  },
};

const JWT_PREFIX = "eyJ";

/** The claims chunk of a JWT, parsed without verifying anything; throws on malformed input. */
export function peekClaims(jwt: string): Record<string, unknown> {
  const chunks = jwt.split(".");
  if (chunks.length !== 3) throw new Error("expected 3 chunks");
  const b64 = chunks[1].replace(/-/g, "+").replace(/_/g, "/");
  const text = new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  const v = JSON.parse(text);
  if (v === null || typeof v !== "object") throw new Error("invalid claims");
  return v;
}

/** ParseDecoratedJWT: the first `---- ... ----` framed token, else the whole text. */
function undecorate(contents: string): string {
  const m = /\s*(?:(?:-{3,}.*-{3,}\r?\n)([\w\-.=]+)(?:\r?\n-{3,}.*-{3,}(\r?\n|$)))/.exec(contents);
  return (m ? m[1] : contents).trim();
}

function readOperator(spec: string): string {
  let contents: string;
  try {
    contents = Deno.readTextFileSync(spec);
  } catch (e) {
    if (!spec.startsWith(JWT_PREFIX)) {
      if (e instanceof Deno.errors.NotFound) {
        throw new Error(`open ${spec}: no such file or directory`);
      }
      throw e;
    }
    contents = spec;
  }
  return undecorate(contents);
}

function operators(ctx: BuildContext, n: ConfigNode): void {
  // 2.9.10 accepts only a string here: an array (a []interface{} to Go) is a type error.
  const specs: string[] = [];
  if (n.kind === "string") specs.push(n.value);
  else ctx.err(n, `error parsing operators: unsupported type ${goType(n)}`);
  const op = ctx.o.operator;
  op.operatorJwts = [];
  const nats: Record<string, unknown>[] = [];
  for (const spec of specs) {
    try {
      const jwt = readOperator(spec);
      const claims = peekClaims(jwt);
      nats.push((claims.nats ?? {}) as Record<string, unknown>);
      op.operatorJwts.push(jwt);
    } catch (e) {
      ctx.err(n, `error parsing operator JWT: ${(e as Error).message}`);
    }
  }
  if (nats.length === 1) {
    const url = nats[0].account_server_url;
    if (!op.resolver) {
      // nsc appends /accounts when pushing. As in the reference, an operator without an account
      // server URL gets a resolver for "/accounts", which fails its startup check.
      op.resolver = { type: "url", url: `${typeof url === "string" ? url.trim() : ""}/accounts` };
    }
    const sys = nats[0].system_account;
    if (!op.systemAccount && typeof sys === "string" && sys) op.systemAccount = sys;
  }
}

const MEMORY_RE = /(MEM|MEMORY)\s*/i;
const URL_RE = /(?:URL)(?:\(\s*"?([^\s"]*)"?\s*\))?\s*/i;

const RESOLVER_ERROR = "error parsing account resolver, should be MEM or " +
  ' URL("url") or a map containing dir and type state=[FULL|CACHE])';

function resolver(ctx: BuildContext, n: ConfigNode): void {
  const op = ctx.o.operator;
  op.resolver = undefined;
  if (n.kind === "string") {
    const v = n.value;
    const url = URL_RE.exec(v);
    if (MEMORY_RE.test(v)) op.resolver = { type: "memory" };
    else if (url && url[1] !== undefined) {
      if (!/^https?:\/\/[^/]/.test(url[1])) {
        ctx.err(n, `error parsing account resolver url: ${goQuote(url[1])}`);
        return;
      }
      op.resolver = { type: "url", url: url[1] };
    }
  } else if (n.kind === "map") {
    const r = dirResolver(ctx, n);
    if (r === null) return;
    op.resolver = r;
  } else {
    ctx.err(n, `error parsing operator resolver, wrong type ${goType(n)}`);
    return;
  }
  if (!op.resolver) ctx.err(n, RESOLVER_ERROR);
}

function dirResolver(ctx: BuildContext, n: ConfigNode & { kind: "map" }): ResolverOptions | null {
  let dir = "";
  let type = "";
  let allowDelete = false;
  let limit = 0;
  let ttlMs = 0;
  let intervalMs = 0;
  let timeoutMs = 0;
  const before = ctx.errors.length;
  for (const [k, v] of n.value) {
    const key = ctx.keyOf(RESOLVER_DIR, k, v);
    switch (key) {
      case "dir":
        dir = ctx.str(v) ?? dir;
        break;
      case "type":
        type = ctx.str(v) ?? type;
        break;
      case "allow_delete":
        allowDelete = ctx.bool(v) ?? allowDelete;
        break;
      case "limit":
        limit = ctx.num(v) ?? limit;
        break;
      case "ttl":
      case "interval":
      case "timeout": {
        const ms = v.kind === "string" ? ctx.duration(key, v) : ctx.conv(v, "string");
        if (ms === undefined) break;
        if (key === "ttl") ttlMs = ms;
        else if (key === "interval") intervalMs = ms;
        else timeoutMs = ms;
        break;
      }
    }
  }
  if (ctx.errors.length > before) return null;
  if (!dir) {
    ctx.err(n, "dir has no value and needs to point to a directory");
    return null;
  }
  try {
    const st = Deno.statSync(dir);
    if (!st.isDirectory || ((st.mode ?? 0o700) & 0o100) === 0) {
      ctx.err(n, "dir needs to point to an accessible directory");
      return null;
    }
  } catch { /* created at startup */ }
  const upper = type.toUpperCase();
  if (upper === "CACHE") {
    if (intervalMs) ctx.err(n, "CACHE does not accept sync");
    if (allowDelete) ctx.err(n, "CACHE does not accept allow_delete");
    return { type: "cache", dir, allowDelete, intervalMs, limit, ttlMs, timeoutMs };
  }
  if (upper === "FULL") {
    if (ttlMs) ctx.err(n, "FULL does not accept ttl");
    return { type: "full", dir, allowDelete, intervalMs, limit, ttlMs, timeoutMs };
  }
  return null;
}

function preload(ctx: BuildContext, n: ConfigNode): void {
  if (n.kind !== "map") {
    ctx.err(n, "preload should be a map of account_public_key:account_jwt");
    return;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of n.value) {
    if (v.kind !== "string") {
      ctx.err(v, "preload map value should be a string JWT");
      continue;
    }
    try {
      const c = peekClaims(v.value);
      const type = c.type ?? (c.nats as Record<string, unknown> | undefined)?.type;
      if (type !== "account") throw new Error("not account claim");
    } catch {
      ctx.err(v, "invalid account JWT");
      continue;
    }
    out[k] = v.value;
  }
  ctx.o.operator.resolverPreload = out;
}

function trusted(ctx: BuildContext, n: ConfigNode): void {
  const keys = ctx.stringArray("trusted", n);
  if (!keys) return;
  ctx.o.operator.trustedKeys = keys;
  // The reference reports these at the last array element (its token variable moved there).
  const at = n.kind === "array" && n.value.length ? n.value[n.value.length - 1] : n;
  for (const key of keys) {
    if (!/^O[A-Z2-7]{55}$/.test(key)) {
      ctx.err(at, `trust key ${goQuote(key)} required to be a valid public operator nkey`);
    }
  }
}

/**
 * The trusted keys auth uses: `trusted_keys`, or each operator's subject (unless it has
 * `strict_signing_key_usage`) and its signing keys (validateTrustedOperators). Malformed
 * operators were reported while parsing.
 */
export function finishOperator(ctx: BuildContext): void {
  const op = ctx.o.operator;
  const keys = [...op.trustedKeys];
  for (const jwt of op.operatorJwts) {
    const c = peekClaims(jwt);
    const nats = (c.nats ?? {}) as { strict_signing_key_usage?: boolean; signing_keys?: unknown };
    if (!nats.strict_signing_key_usage && typeof c.sub === "string") keys.push(c.sub);
    if (Array.isArray(nats.signing_keys)) {
      for (const k of nats.signing_keys) if (typeof k === "string") keys.push(k);
    }
  }
  if (keys.length) ctx.o.auth.trustedKeys = keys;
}
