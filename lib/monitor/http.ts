/**
 * The monitoring HTTP listener (`http: host:port`, `http_port`, `-m`), served with `Deno.serve`.
 * Routes, request counting, parameter errors, JSON and JSONP as nats-server 2.9.10's
 * `startMonitoring` and handlers:
 * - endpoints live under `http_base_path` (normalized like the reference: leading `/`, cleaned);
 *   any other path is `404 page not found`;
 * - JSON is indented with two spaces, `Content-Type: application/json`; `?callback=fn` wraps it
 *   as `fn(...)` with `Content-Type: application/javascript`;
 * - a parameter that does not decode answers 400 with the reference's text (`text/plain`);
 * - `http_req_stats` counts each endpoint at the same point of its handler as the reference
 *   (so some 400s count and some do not).
 *
 * @example
 * ```ts ignore
 * const mon = startMonitor(server); // logs "Starting http monitor on 0.0.0.0:8222"
 * console.log(mon.port);
 * await mon.close();
 * ```
 *
 * @module
 */
import { joinHostPort } from "../core/gofmt.ts";
import { goListenError } from "../core/listen_error.ts";
import { accountz, gatewayz, healthz, jsz, leafz, routez } from "./endpoints.ts";
import { connz } from "./connz.ts";
import {
  BadRequest,
  decodeBool,
  decodeInt,
  decodeState,
  decodeSubs,
  decodeUint64,
  marshal,
  marshalIndent,
  nowMs,
} from "./gofmt.ts";
import { indexHtml } from "./index_html.ts";
import type { MonitorSource } from "./source.ts";
import { subsz } from "./subsz.ts";
import { CpuSampler, varz } from "./varz.ts";

/** A started monitoring listener. */
export interface RunningMonitor {
  /** The bound port (the real one when -1 was asked for). */
  readonly port: number;
  /** "http" (https monitoring is not supported). */
  readonly scheme: "http" | "https";
  /** Requests served per endpoint (`http_req_stats`). */
  readonly requestStats: ReadonlyMap<string, number>;
  /** Stops listening; resolves when in-flight requests are done. */
  close(): Promise<void>;
}

/** Go's `path.Clean` for an absolute or relative slash path. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const seg of p.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(seg);
  }
  const joined = out.join("/");
  if (rooted) return "/" + joined;
  return joined === "" ? "." : joined;
}

/** net/http's mux `cleanPath`: like {@link cleanPath} but rooted and keeping a trailing "/". */
function muxCleanPath(p: string): string {
  if (p === "") return "/";
  if (!p.startsWith("/")) p = "/" + p;
  const np = cleanPath(p);
  return p.endsWith("/") && np !== "/" ? np + "/" : np;
}

/** The reference's `normalizeBasePath`: "" is "/", a leading "/" is added, then cleaned. */
export function normalizeBasePath(p: string): string {
  if (p === "") return "/";
  return cleanPath(p.startsWith("/") ? p : "/" + p);
}

const JSON_TYPE = "application/json";
const TEXT_TYPE = "text/plain; charset=utf-8";

function notFound(): Response {
  return new Response("404 page not found\n", {
    status: 404,
    headers: { "content-type": TEXT_TYPE, "x-content-type-options": "nosniff" },
  });
}

/** `ResponseHandler`: JSON, or JSONP when `callback` is given. */
function respond(q: URLSearchParams, data: string): Response {
  const callback = q.get("callback") ?? "";
  if (callback !== "") {
    return new Response(`${callback}(${data})`, {
      headers: { "content-type": "application/javascript" },
    });
  }
  return new Response(data, { headers: { "content-type": JSON_TYPE } });
}

type Handler = (q: URLSearchParams, count: () => void) => Response;

/** PEM material for HTTPS monitoring (the top-level `tls` block's certificate). */
export interface MonitorTls {
  certPem: string;
  keyPem: string;
}

/**
 * Starts monitoring on `options.monitor` and logs `Starting http monitor on host:port`; with
 * `tls`, on `https_port` (`Starting https monitor on ...`, no client certificates asked for, as
 * the reference). Throws `Can't start monitoring: can't listen to the monitor port: ...` when
 * it cannot listen.
 */
export function startMonitor(src: MonitorSource, tls?: MonitorTls): RunningMonitor {
  const mo = src.options.monitor;
  const base = normalizeBasePath(mo.basePath);
  const path = (p: string) => cleanPath(`${base}/${p}`);
  const stats = new Map<string, number>();
  const cpu = new CpuSampler(src.startedAt.getTime());
  const routes = new Map<string, Handler>();
  const bump = (key: string) => () => stats.set(key, (stats.get(key) ?? 0) + 1);
  const json = (q: URLSearchParams, v: object) => respond(q, marshalIndent(v));

  routes.set(path("/"), (_q, count) => {
    count();
    return new Response(indexHtml(String(src.baseInfo().version), path), {
      headers: { "content-type": "text/html; charset=utf-8" },
    });
  });
  routes.set(path("/varz"), (q, count) => {
    count();
    return json(q, varz(src, stats, cpu, nowMs()));
  });
  routes.set(path("/connz"), (q, count) => {
    const sort = q.get("sort") ?? "";
    const auth = decodeBool(q, "auth");
    const subs = decodeSubs(q);
    const offset = decodeInt(q, "offset");
    const limit = decodeInt(q, "limit");
    const cid = decodeUint64(q, "cid");
    const state = decodeState(q);
    const user = q.get("user") ?? "";
    const acc = q.get("acc") ?? "";
    count();
    const opts = { sort, auth, subs, offset, limit, cid, state, user, acc };
    return json(q, connz(src, opts, nowMs()));
  });
  routes.set(path("/routez"), (q, count) => {
    decodeSubs(q);
    count();
    return json(q, routez(src, nowMs()));
  });
  routes.set(path("/gatewayz"), (q, count) => {
    count();
    decodeBool(q, "accs");
    return json(q, gatewayz(src, nowMs()));
  });
  routes.set(path("/leafz"), (q, count) => {
    count();
    const subs = decodeBool(q, "subs");
    return json(q, leafz(src, nowMs(), subs, q.get("acc") ?? ""));
  });
  const subszHandler: Handler = (q, count) => {
    count();
    const subs = decodeBool(q, "subs");
    const offset = decodeInt(q, "offset");
    const limit = decodeInt(q, "limit");
    const test = q.get("test") ?? "";
    const acc = q.get("acc") ?? "";
    return json(q, subsz(src, { subs, offset, limit, test, acc }, nowMs()));
  };
  routes.set(path("/subsz"), subszHandler);
  routes.set(path("/subscriptionsz"), subszHandler);
  routes.set(path("/accountz"), (q, count) => {
    count();
    return json(q, accountz(src, q.get("acc") ?? "", nowMs()));
  });
  routes.set(path("/jsz"), (q, count) => {
    count();
    for (const p of ["accounts", "streams", "consumers", "config"]) decodeBool(q, p);
    decodeInt(q, "offset");
    decodeInt(q, "limit");
    const leaderOnly = decodeBool(q, "leader-only");
    return json(q, jsz(src, leaderOnly, nowMs()));
  });
  routes.set(path("/healthz"), (q, count) => {
    count();
    if (decodeBool(q, "js-enabled")) {
      src.log.warn("Healthcheck: js-enabled deprecated, use js-enabled-only instead");
    }
    decodeBool(q, "js-enabled-only");
    decodeBool(q, "js-server-only");
    return respond(q, marshal(healthz()));
  });
  // Request counters use the endpoint names without the base path; the alias counts as /subsz.
  const statKey = new Map<string, string>();
  for (const p of routes.keys()) {
    const rel = base === "/" ? p : p.slice(base.length) || "/";
    statKey.set(p, rel === "/subscriptionsz" ? "/subsz" : rel);
  }

  const handler = (req: Request): Response => {
    const url = new URL(req.url);
    // The mux answers an unclean path (e.g. "//varz") with a redirect to the clean one.
    const clean = muxCleanPath(url.pathname);
    if (clean !== url.pathname) {
      const location = clean + url.search;
      return new Response(`<a href="${location}">Moved Permanently</a>.\n\n`, {
        status: 301,
        headers: { "content-type": "text/html; charset=utf-8", location },
      });
    }
    const route = routes.get(url.pathname);
    if (!route) return notFound();
    try {
      return route(url.searchParams, bump(statKey.get(url.pathname)!));
    } catch (err) {
      if (err instanceof BadRequest) {
        return new Response(err.message, { status: 400, headers: { "content-type": TEXT_TYPE } });
      }
      src.log.error(`Error handling monitoring request ${url.pathname}: ${err}`);
      return new Response("internal error\n", {
        status: 500,
        headers: { "content-type": TEXT_TYPE },
      });
    }
  };

  const configured = tls ? mo.httpsPort ?? 0 : mo.port;
  const port = configured === -1 ? 0 : configured;
  const scheme = tls ? "https" : "http";
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      {
        hostname: mo.host,
        port,
        onListen: () => {},
        ...(tls ? { cert: tls.certPem, key: tls.keyPem } : {}),
      },
      handler,
    );
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) throw err;
    throw new Error(
      `Can't start monitoring: can't listen to the monitor port: ${
        goListenError(err, mo.host, port)
      }`,
    );
  }
  const bound = server.addr.port;
  const hp = joinHostPort(mo.host, bound);
  src.log.info(`Starting ${scheme} monitor on ${hp}`);
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    scheme,
    requestStats: stats,
    close: () => closing ??= server.shutdown(),
  };
}
