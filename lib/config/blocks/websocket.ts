/** `websocket { ... }` (alias `ws`): listener, TLS, origins, compression, its own auth. */
import type { SimpleAuth } from "../../auth/types.ts";
import { goQuote, parseGoDuration } from "../../core/gofmt.ts";
import { WEBSOCKET, WEBSOCKET_AUTH } from "../keys.ts";
import type { ConfigNode } from "../parser.ts";
import { type BuildContext, nsToMs, type TopLevelHandlers } from "./context.ts";
import { goType } from "./go_values.ts";
import { parseTls } from "./tls.ts";

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"websocket"> = {
  websocket: (n, k, ctx) => websocket(ctx, n, k),
};

const ENGINES = new Set(["auto", "native", "codec"]);

function websocket(ctx: BuildContext, n: ConfigNode, block: string): void {
  if (n.kind !== "map") {
    ctx.err(n, `Expected websocket to be a map, got ${goType(n)}`);
    return;
  }
  const ws = ctx.o.websocket;
  const d = ctx.draft;
  for (const [k, v] of n.value) {
    const key = ctx.keyOf(WEBSOCKET, k, v);
    if (key === undefined) continue;
    switch (key) {
      case "listen":
      case "port":
      case "host":
        ctx.endpoint(key, v, ws);
        break;
      case "advertise": {
        const s = ctx.str(v);
        if (s !== undefined) ws.advertise = s;
        break;
      }
      case "no_tls":
        ws.noTls = ctx.bool(v) ?? ws.noTls;
        break;
      case "tls": {
        const t = parseTls(ctx, v, `${block} tls`);
        if (t) ws.tls = t.tls;
        break;
      }
      case "same_origin":
        ws.sameOrigin = ctx.bool(v) ?? ws.sameOrigin;
        break;
      case "allowed_origins":
        ws.allowedOrigins = ctx.stringArray("allowed origins", v) ?? [];
        break;
      case "handshake_timeout":
        if (v.kind === "int") ws.handshakeTimeoutMs = Number(v.value) * 1000;
        else if (v.kind === "string") {
          try {
            ws.handshakeTimeoutMs = nsToMs(parseGoDuration(v.value));
          } catch (e) {
            ctx.err(v, (e as Error).message);
          }
        } else {
          ctx.err(v, `error parsing handshake timeout: unsupported type ${goType(v)}`);
        }
        break;
      case "compress":
        ws.compression = ctx.bool(v) ?? ws.compression;
        break;
      case "authorization": {
        const a = simpleAuth(ctx, v, `${block} ${k}`);
        if (a) {
          const noAuthUser = d.wsAuth?.noAuthUser;
          d.wsAuth = { ...a, ...(noAuthUser !== undefined ? { noAuthUser } : {}) };
        }
        break;
      }
      case "jwt_cookie": {
        const s = ctx.str(v);
        if (s !== undefined) ws.jwtCookie = s;
        break;
      }
      case "user_cookie":
      case "pass_cookie":
      case "token_cookie": {
        const s = ctx.str(v);
        if (s === undefined) break;
        if (key === "user_cookie") ws.userCookie = s;
        else if (key === "pass_cookie") ws.passCookie = s;
        else ws.tokenCookie = s;
        break;
      }
      case "no_auth_user": {
        const s = ctx.str(v);
        if (s !== undefined) d.wsAuth = { ...d.wsAuth, noAuthUser: s };
        break;
      }
      case "trusted_proxies": {
        const list = ctx.stringArray("trusted_proxies", v);
        if (!list) break;
        const good: string[] = [];
        for (const c of list) {
          if (isCidr(c)) good.push(c);
          else ctx.err(v, `error parsing trusted_proxies: invalid CIDR address: ${c}`);
        }
        ws.trustedProxies = good;
        break;
      }
      case "engine": {
        const s = ctx.str(v);
        if (s === undefined) break;
        const e = s.toLowerCase();
        if (ENGINES.has(e)) ws.engine = e as typeof ws.engine;
        else {
          ctx.err(
            v,
            `error parsing websocket engine: expected "auto", "native" or "codec", got ${
              goQuote(s)
            }`,
          );
        }
        break;
      }
      default:
        key satisfies never;
    }
  }
}

/** parseSimpleAuth (websocket `authorization`): user/pass/token/timeout only. */
function simpleAuth(ctx: BuildContext, n: ConfigNode, path: string): SimpleAuth | undefined {
  const m = ctx.map(n);
  if (!m) return undefined;
  const a: SimpleAuth = {};
  for (const [k, v] of m) {
    const key = ctx.keyOf(WEBSOCKET_AUTH, k, v);
    if (key === undefined) continue;
    if (key === "timeout") {
      a.timeoutMs = ctx.authTimeout(v, `${path} timeout`) * 1000;
      continue;
    }
    const s = ctx.str(v);
    if (s === undefined) continue;
    if (key === "user") a.user = s;
    else if (key === "pass") a.password = s;
    else a.token = s;
  }
  return a;
}

/** CIDR (or a single IP) for trusted_proxies. */
export function isCidr(s: string): boolean {
  const [ip, bits, extra] = s.split("/");
  if (extra !== undefined) return false;
  const v4 =
    /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
  let max: number;
  if (v4.test(ip)) max = 32;
  else if (isIPv6(ip)) max = 128;
  else return false;
  if (bits === undefined) return true;
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  return Number(bits) <= max;
}

function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}
