/**
 * WebSocket origin rules of nats-server 2.9.10 (`srvWebsocket.checkOrigin`, `wsGetHostAndPort`,
 * `wsSetOriginOptions`, `validateWebsocketOptions`). Pure functions, no I/O.
 *
 * @module
 */

import { splitHostPort } from "../../core/gofmt.ts";
import { goUrlParse, goUrlParseRequestURI } from "../../core/gourl.ts";

/** One entry of the allowed-origins table (keyed by lower-cased host). */
export interface AllowedOrigin {
  /** Lower-cased scheme, e.g. "http". */
  readonly scheme: string;
  /** Port as text ("80"/"443" when the origin had none). */
  readonly port: string;
}

/** Allowed origins, parsed once: host → {scheme, port}. One entry per host (the last one wins). */
export type AllowedOrigins = ReadonlyMap<string, AllowedOrigin>;

/** An empty table (no allowed-origins restriction). */
export const NO_ALLOWED_ORIGINS: AllowedOrigins = new Map();

/** Outcome of {@link parseAllowedOrigins}. */
export type ParseAllowedOriginsResult =
  | {
    ok: true;
    origins: AllowedOrigins;
    /**
     * Entries that passed validation (`url.Parse`) but not `url.ParseRequestURI`, e.g. "host1.com".
     * The reference logs each as an error (`error parsing allowed origin: ...`) and skips it; when
     * every entry is skipped the table is empty, so no origin restriction applies.
     */
    warnings: string[];
  }
  | {
    ok: false;
    /** Startup error, e.g. `unable to parse allowed origin: parse "http://this:is:bad:url": invalid port ":url" after host`. */
    error: string;
  };

/**
 * Validate and parse `allowed_origins` once at startup (reference: `validateWebsocketOptions`,
 * then `wsSetOriginOptions`).
 */
export function parseAllowedOrigins(list: readonly string[]): ParseAllowedOriginsResult {
  for (const ao of list) {
    const r = goUrlParse(ao);
    if (!r.ok) return { ok: false, error: `unable to parse allowed origin: ${r.error}` };
  }
  const origins = new Map<string, AllowedOrigin>();
  const warnings: string[] = [];
  for (const ao of list) {
    const r = goUrlParseRequestURI(ao);
    if (!r.ok) {
      warnings.push(`error parsing allowed origin: ${r.error}`);
      continue;
    }
    const hp = hostAndPort(r.url.scheme === "https", r.url.host);
    // The reference ignores the error here: host and port are then both "".
    const host = hp.ok ? hp.host : "";
    const port = hp.ok ? hp.port : "";
    origins.set(host, { scheme: r.url.scheme, port });
  }
  return { ok: true, origins, warnings };
}

type HostPort = { ok: true; host: string; port: string } | { ok: false; error: string };

/**
 * `wsGetHostAndPort`: split "host[:port]"; a missing port defaults to 443 when `tls`, else 80
 * (the whole input is then the host, brackets included). The host is lower-cased.
 */
export function hostAndPort(tls: boolean, hostport: string): HostPort {
  const r = splitHostPort(hostport);
  if (r.ok) return { ok: true, host: r.host.toLowerCase(), port: r.port };
  if (r.why.includes("missing port")) {
    return { ok: true, host: hostport.toLowerCase(), port: tls ? "443" : "80" };
  }
  return { ok: false, error: r.error };
}

/** What {@link checkOrigin} needs besides the Origin value. */
export interface OriginPolicy {
  sameOrigin: boolean;
  allowedOrigins: AllowedOrigins;
  /** The request's Host (header value). */
  requestHost: string;
  /** Whether the connection is TLS (default port of the request Host: 443, else 80). */
  isTls: boolean;
}

/**
 * `checkOrigin`: returns null when accepted, or the reason text (to be prefixed with
 * `origin not allowed: `). No restriction configured, or no Origin at all, is accepted.
 */
export function checkOrigin(origin: string, policy: OriginPolicy): string | null {
  const listEmpty = policy.allowedOrigins.size === 0;
  if (!policy.sameOrigin && listEmpty) return null;
  if (origin === "") return null;
  const u = goUrlParseRequestURI(origin);
  if (!u.ok) return u.error;
  const o = hostAndPort(u.url.scheme === "https", u.url.host);
  if (!o.ok) return o.error;
  if (policy.sameOrigin) {
    const r = hostAndPort(policy.isTls, policy.requestHost);
    if (!r.ok) return r.error;
    if (o.host !== r.host || o.port !== r.port) return "not same origin";
  }
  if (!listEmpty) {
    const ao = policy.allowedOrigins.get(o.host);
    if (ao === undefined || u.url.scheme !== ao.scheme || o.port !== ao.port) {
      return "not in the allowed list";
    }
  }
  return null;
}
