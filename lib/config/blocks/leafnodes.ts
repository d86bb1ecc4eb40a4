/**
 * `leafnodes { ... }` (alias `leaf`): listener, TLS, advertise, authorization, reconnect and the
 * remotes (`leafnode_remotes.ts`). min_version is refused.
 */
import { goQuote } from "../../core/gofmt.ts";
import { LEAFNODE_AUTH, LEAFNODE_USER, LEAFNODES } from "../keys.ts";
import type { LeafNodeAuthOptions, LeafNodeUser } from "../options.ts";
import type { ConfigNode } from "../parser.ts";
import type { BuildContext, TopLevelHandlers } from "./context.ts";
import { goType, goValue } from "./go_values.ts";
import { parseTls } from "./tls.ts";
import { parseRemotes } from "./leafnode_remotes.ts";

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"leafnodes"> = {
  leaf: (n, k, ctx) => leafnodes(ctx, n, k),
};

function leafnodes(ctx: BuildContext, n: ConfigNode, block: string): void {
  if (n.kind !== "map") {
    ctx.err(n, `Expected map to define a leafnode, got ${goType(n)}`);
    return;
  }
  const ln = ctx.o.leafnodes;
  for (const [k, v] of n.value) {
    const key = ctx.keyOf(LEAFNODES, k, v);
    if (key === undefined) continue;
    switch (key) {
      case "listen":
      case "port":
      case "host":
        ctx.endpoint(key, v, ln);
        break;
      case "authorization":
        leafAuthorization(ctx, v);
        break;
      case "remotes":
        ln.remotes = parseRemotes(ctx, v);
        break;
      case "min_version":
        ctx.refuse(v, `${block} ${k}`);
        break;
      case "reconnect": {
        // Whole seconds; 0 keeps the 1s default.
        const i = ctx.int(v);
        if (i !== undefined && i > 0n) ln.reconnectDelayMs = Number(i) * 1000;
        break;
      }
      case "tls": {
        const t = parseTls(ctx, v, `${block} tls`);
        if (t) {
          ln.tls = t.tls;
          ctx.draft.leafTlsTimeoutSec = t.timeoutSec;
        }
        break;
      }
      case "leafnode_advertise": {
        const s = ctx.str(v);
        if (s !== undefined) ln.advertise = s;
        break;
      }
      case "no_advertise":
        ln.noAdvertise = ctx.bool(v) ?? ln.noAdvertise;
        break;
      default:
        key satisfies never;
    }
  }
}

function leafAuthorization(ctx: BuildContext, n: ConfigNode): void {
  const m = ctx.map(n);
  if (!m) return;
  const a: LeafNodeAuthOptions = {};
  for (const [k, v] of m) {
    const key = ctx.keyOf(LEAFNODE_AUTH, k, v);
    if (key === undefined) continue;
    switch (key) {
      case "timeout":
        a.timeoutMs = ctx.authTimeout(v, "leafnodes authorization timeout") * 1000;
        break;
      case "users":
        a.users = leafUsers(ctx, v);
        break;
      case "user":
      case "pass":
      case "account": {
        const s = ctx.str(v);
        if (s === undefined) break;
        if (key === "user") a.user = s;
        else if (key === "pass") a.password = s;
        else a.account = s;
        break;
      }
      default:
        key satisfies never;
    }
  }
  ctx.o.leafnodes.authorization = a;
  if (a.users && a.users.length > 0) {
    if (a.user) {
      ctx.err(n, "can not have a single user/pass and a users array");
      return;
    }
    const seen = new Set<string>();
    for (const u of a.users) {
      if (seen.has(u.user)) {
        ctx.err(n, `duplicate user ${goQuote(u.user)} detected in leafnode authorization`);
        return;
      }
      seen.add(u.user);
    }
  }
}

function leafUsers(ctx: BuildContext, n: ConfigNode): LeafNodeUser[] | undefined {
  if (n.kind !== "array") {
    ctx.err(n, `Expected users field to be an array, got ${goValue(n)}`);
    return undefined;
  }
  const out: LeafNodeUser[] = [];
  for (const e of n.value) {
    if (e.kind !== "map") {
      ctx.err(e, `Expected user entry to be a map/struct, got ${goValue(e)}`);
      continue;
    }
    const u: LeafNodeUser = { user: "" };
    for (const [k, v] of e.value) {
      const key = ctx.keyOf(LEAFNODE_USER, k, v);
      if (key === undefined) continue;
      if (key === "user") u.user = ctx.str(v) ?? u.user;
      else {
        const s = ctx.str(v);
        if (s === undefined) continue;
        if (key === "pass") u.password = s;
        else u.account = s;
      }
    }
    out.push(u);
  }
  return out;
}

/** setBaselineOptions for leafnodes: listen host and the effective auth timeout. */
export function finishLeafnodes(ctx: BuildContext): void {
  const ln = ctx.o.leafnodes;
  if (ln.host === "") ln.host = "0.0.0.0";
  const leafTls = ctx.draft.leafTlsTimeoutSec > 0 ? ctx.draft.leafTlsTimeoutSec : 2;
  const leafAuth = ln.authorization?.timeoutMs;
  ln.authTimeoutMs = leafAuth ? leafAuth : ln.tls ? (leafTls + 1) * 1000 : 2000;
}
