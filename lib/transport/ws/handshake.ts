/**
 * The WebSocket upgrade rules of nats-server 2.9.10 (`wsUpgrade`), shared by both engines:
 * request checks in the reference's order with its statuses and reason texts, the accept key,
 * permessage-deflate / no-masking negotiation, browser detection, the JWT cookie, and
 * X-Forwarded-For (honoured only from trusted proxies — our addition). Also the exact response
 * bytes for the engine that writes its own HTTP.
 *
 * Pure functions: no sockets, no timers.
 *
 * @module
 */

import { nodeBuiltin } from "../../core/node_builtin.ts";
import type { WebSocketPeer } from "../../protocol/transport.ts";
import { type Cidr, ipInCidrs, parseIp } from "./cidr.ts";
import { type AllowedOrigins, checkOrigin } from "./origin.ts";

/** RFC 6455 GUID appended to the key. */
export const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/** The permessage-deflate answer (the only one the reference gives). */
export const PMC_RESPONSE =
  "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

/** Path prefixes routed to other connection kinds (anything else is a client). */
export const LEAFNODE_WS_PATH = "/leafnode";
export const MQTT_WS_PATH = "/mqtt";

/** Reason texts logged by the reference (`<remote> - websocket handshake error: <reason>`). */
export const HANDSHAKE_REASON = {
  METHOD: "request method must be GET",
  HOST: "'Host' missing in request",
  UPGRADE: "invalid value for header 'Upgrade'",
  CONNECTION: "invalid value for header 'Connection'",
  KEY: "key missing",
  VERSION: "invalid version",
  /** Prefix of the 403 reason; followed by the origin error text. */
  ORIGIN_PREFIX: "origin not allowed: ",
  /** Own-codec engine: bytes arrived after the request head, before the 101 was sent. */
  DATA_BEFORE_HANDSHAKE: "client sent data before handshake is complete",
} as const;

/** Go's `http.StatusText` for the statuses the upgrade can produce. */
export const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: "Bad Request",
  403: "Forbidden",
  405: "Method Not Allowed",
  500: "Internal Server Error",
};

/** `<remoteAddr> - websocket handshake error: <reason>` (the reference's error log line). */
export function handshakeErrorLog(remoteAddr: string, reason: string): string {
  return `${remoteAddr} - websocket handshake error: ${reason}`;
}

/** Sec-WebSocket-Accept: base64(SHA-1(key + GUID)). */
export function acceptKey(key: string): string {
  return nodeBuiltin("node:crypto").createHash("sha1").update(key + WS_GUID).digest("base64");
}

/** Connection kind chosen by the request path. */
export type WsPathKind = "client" | "leafnode" | "mqtt";

/** The upgrade request, as either engine sees it. */
export interface UpgradeRequest {
  method: string;
  headers: Headers;
  /** Request target ("/path?query") or a full URL ("http://host/path"). */
  url: string;
  /**
   * Header lines in arrival order (own-codec engine). When given, the reference's "first
   * instance" rules (Sec-WebSocket-Key, Origin, Nats-No-Masking, User-Agent, X-Forwarded-For)
   * are exact; with `Headers` alone repeated headers arrive joined by ", ".
   */
  rawHeaders?: readonly (readonly [string, string])[];
  /** Overrides the Host header (e.g. absolute-form request targets). */
  host?: string;
}

/** Server-side inputs of {@link checkUpgradeRequest}. Parse lists once at startup. */
export interface UpgradeCheckOptions {
  sameOrigin: boolean;
  /** From `parseAllowedOrigins(opts.allowedOrigins)`. */
  allowedOrigins: AllowedOrigins;
  /** `websocket.compression`. */
  compression: boolean;
  /** Whether this connection is TLS (same-origin default port). */
  isTls: boolean;
  /** `websocket.jwt_cookie`. */
  jwtCookie?: string;
  /** `websocket.user_cookie` / `pass_cookie` / `token_cookie` (beyond 2.9.10). */
  authCookies?: AuthCookieNames;
  /** From `parseTrustedProxies(opts.trustedProxies)`. Empty = X-Forwarded-For never honoured. */
  trustedProxies: readonly Cidr[];
  /** Socket peer IP (never X-Forwarded-For). */
  remoteIp: string;
}

/** Cookie names carrying a user name, password or token (`user_cookie`, ...). */
export interface AuthCookieNames {
  user?: string;
  pass?: string;
  token?: string;
}

/** Their values in an upgrade request. */
export type AuthCookieValues = AuthCookieNames;

/** Failed upgrade: answer `status` with `body` and `headers`, log `reason`. */
export interface UpgradeRejected {
  ok: false;
  status: 400 | 403 | 405;
  statusText: string;
  /** `StatusText + "\n"`. */
  body: string;
  /** In the reference's wire order (Date and Content-Length are added by the HTTP layer). */
  headers: [string, string][];
  reason: string;
}

/** Accepted upgrade. */
export interface UpgradeAccepted {
  ok: true;
  kind: WsPathKind;
  /** The client's Sec-WebSocket-Key (first instance). */
  key: string;
  /** Sec-WebSocket-Accept value. */
  accept: string;
  /** permessage-deflate negotiated (server option on and offered by the client). */
  compress: boolean;
  /** `Nats-No-Masking: true` requested: accept unmasked client frames. */
  noMasking: boolean;
  /** User-Agent starts with "Mozilla/" (client/mqtt only): outbound frames ≤ 4096 bytes. */
  browser: boolean;
  /** Safari with compression: compressed messages are not fragmented. */
  noCompressFragmentation: boolean;
  /** Value of the `jwt_cookie` cookie (client/mqtt only). */
  cookieJwt?: string;
  /** Values of the user/pass/token cookies (client/mqtt only). */
  cookies?: AuthCookieValues;
  /** X-Forwarded-For IP, only from a trusted proxy (the reference uses it for logging only). */
  forwardedFor?: string;
  /**
   * Headers of the 101 after Upgrade/Connection/Sec-WebSocket-Accept, in the reference's order:
   * Sec-WebSocket-Extensions, Nats-No-Masking, Sec-Websocket-Protocol (mqtt).
   */
  responseHeaders: [string, string][];
}

export type UpgradeResult = UpgradeRejected | UpgradeAccepted;

const ERROR_HEADERS: readonly [string, string][] = [
  ["Content-Type", "text/plain; charset=utf-8"],
  ["Sec-Websocket-Version", "13"],
  ["X-Content-Type-Options", "nosniff"],
];

function reject(status: 400 | 403 | 405, reason: string): UpgradeRejected {
  const statusText = STATUS_TEXT[status];
  return {
    ok: false,
    status,
    statusText,
    body: statusText + "\n",
    headers: ERROR_HEADERS.map(([k, v]) => [k, v]),
    reason,
  };
}

/** All values of a header, one per instance when raw headers are known. */
function headerValues(req: UpgradeRequest, name: string): string[] {
  if (req.rawHeaders) {
    const out: string[] = [];
    for (const [k, v] of req.rawHeaders) if (k.toLowerCase() === name) out.push(v);
    return out;
  }
  const v = req.headers.get(name);
  return v === null ? [] : [v];
}

/** Go's `Header.Get`: the first instance ("" when absent). */
function firstHeader(req: UpgradeRequest, name: string): string {
  if (req.rawHeaders) {
    for (const [k, v] of req.rawHeaders) if (k.toLowerCase() === name) return v;
    return "";
  }
  return req.headers.get(name) ?? "";
}

/** `wsHeaderContains`: some comma-separated token equals `token` (case-insensitive). */
export function headerHasToken(values: readonly string[], token: string): boolean {
  const t = token.toLowerCase();
  for (const v of values) {
    for (const part of v.split(",")) {
      if (trimSpaceTab(part).toLowerCase() === t) return true;
    }
  }
  return false;
}

/** Trims spaces and tabs at both ends (Go's `strings.Trim(s, " \t")`). */
export function trimSpaceTab(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s[a] === " " || s[a] === "\t")) a++;
  while (b > a && (s[b - 1] === " " || s[b - 1] === "\t")) b--;
  return s.slice(a, b);
}

/**
 * `wsPMCExtensionSupport(header, true)`: some Sec-WebSocket-Extensions element has a
 * `permessage-deflate` part (its parameters are ignored).
 */
export function offersPermessageDeflate(values: readonly string[]): boolean {
  for (const list of values) {
    for (const ext of list.split(",")) {
      for (const p of ext.split(";")) {
        if (trimSpaceTab(p).toLowerCase() === "permessage-deflate") return true;
      }
    }
  }
  return false;
}

/** The path used for routing: the request target up to "?"/"#", or a full URL's pathname. */
export function requestPath(url: string): string {
  if (url.startsWith("/") || url === "*" || url === "") {
    const q = url.search(/[?#]/);
    return q < 0 ? url : url.slice(0, q);
  }
  try {
    return new URL(url).pathname;
  } catch {
    return url;
  }
}

/**
 * Kind by path: `/leafnode…` (how 2.9.10 leaves dial, the URL path appended) or `…/leafnode` (how
 * later leaves dial behind a reverse-proxy prefix) → leafnode, `/mqtt…` → mqtt, else client.
 */
export function pathKind(path: string): WsPathKind {
  if (path.startsWith(LEAFNODE_WS_PATH) || path.endsWith(LEAFNODE_WS_PATH)) return "leafnode";
  if (path.startsWith(MQTT_WS_PATH)) return "mqtt";
  return "client";
}

// ---------------------------------------------------------------------------------------------
// Cookies (Go net/http readCookies)

const TOKEN_CHARS = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function trimAsciiSpace(s: string): string {
  return s.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

function cookieValue(raw: string): string | null {
  let v = raw;
  if (v.length > 1 && v[0] === '"' && v[v.length - 1] === '"') v = v.slice(1, -1);
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || c >= 0x7f || c === 0x22 || c === 0x3b || c === 0x5c) return null;
  }
  return v;
}

/**
 * Parse `Cookie` header values (RFC 6265 `name=value; name2=value2`) the way Go's
 * `readCookies` does: invalid names/values are skipped, double quotes around a value are removed,
 * nothing is decoded. Returns [name, value] pairs in order.
 */
export function parseCookies(values: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const line of values) {
    for (const rawPart of trimAsciiSpace(line).split(";")) {
      const part = trimAsciiSpace(rawPart);
      if (part === "") continue;
      const eq = part.indexOf("=");
      const name = eq < 0 ? part : part.slice(0, eq);
      if (!TOKEN_CHARS.test(name)) continue;
      const value = cookieValue(eq < 0 ? "" : part.slice(eq + 1));
      if (value === null) continue;
      out.push([name, value]);
    }
  }
  return out;
}

/** Go's `Request.Cookie(name)`: the first valid cookie with that name. */
export function getCookie(values: readonly string[], name: string): string | undefined {
  for (const [k, v] of parseCookies(values)) if (k === name) return v;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The check

/**
 * Check an upgrade request (`wsUpgrade` order): 405 method, 400 Host, 400 Upgrade, 400
 * Connection, 400 key, 400 version, 403 origin. On success returns everything both engines
 * need to answer 101 and to build the connection.
 */
export function checkUpgradeRequest(req: UpgradeRequest, opts: UpgradeCheckOptions): UpgradeResult {
  const kind = pathKind(requestPath(req.url));
  if (req.method !== "GET") return reject(405, HANDSHAKE_REASON.METHOD);
  const host = req.host ?? req.headers.get("host") ?? "";
  if (host === "") return reject(400, HANDSHAKE_REASON.HOST);
  if (!headerHasToken(headerValues(req, "upgrade"), "websocket")) {
    return reject(400, HANDSHAKE_REASON.UPGRADE);
  }
  if (!headerHasToken(headerValues(req, "connection"), "Upgrade")) {
    return reject(400, HANDSHAKE_REASON.CONNECTION);
  }
  const key = firstHeader(req, "sec-websocket-key");
  if (key === "") return reject(400, HANDSHAKE_REASON.KEY);
  if (!headerHasToken(headerValues(req, "sec-websocket-version"), "13")) {
    return reject(400, HANDSHAKE_REASON.VERSION);
  }
  const origin = firstHeader(req, "origin") || firstHeader(req, "sec-websocket-origin");
  const originErr = checkOrigin(origin, {
    sameOrigin: opts.sameOrigin,
    allowedOrigins: opts.allowedOrigins,
    requestHost: host,
    isTls: opts.isTls,
  });
  if (originErr !== null) return reject(403, HANDSHAKE_REASON.ORIGIN_PREFIX + originErr);

  const compress = opts.compression &&
    offersPermessageDeflate(headerValues(req, "sec-websocket-extensions"));
  const noMasking = firstHeader(req, "nats-no-masking") === "true";
  const responseHeaders: [string, string][] = [];
  if (compress) responseHeaders.push(["Sec-WebSocket-Extensions", PMC_RESPONSE]);
  if (noMasking) responseHeaders.push(["Nats-No-Masking", "true"]);
  if (kind === "mqtt") responseHeaders.push(["Sec-Websocket-Protocol", "mqtt"]);

  const result: UpgradeAccepted = {
    ok: true,
    kind,
    key,
    accept: acceptKey(key),
    compress,
    noMasking,
    browser: false,
    noCompressFragmentation: false,
    responseHeaders,
  };

  const xff = headerValues(req, "x-forwarded-for");
  if (xff.length > 0 && parseIp(xff[0]) !== null && ipInCidrs(opts.remoteIp, opts.trustedProxies)) {
    result.forwardedFor = xff[0];
  }

  if (kind === "client" || kind === "mqtt") {
    const ua = firstHeader(req, "user-agent");
    if (ua.startsWith("Mozilla/")) {
      result.browser = true;
      result.noCompressFragmentation = compress && ua.includes("Version/") &&
        ua.includes("Safari/");
    }
    if (opts.jwtCookie) {
      const v = getCookie(headerValues(req, "cookie"), opts.jwtCookie);
      if (v !== undefined) result.cookieJwt = v;
    }
    const names = opts.authCookies;
    if (names) {
      const cookies: AuthCookieValues = {};
      for (const k of ["user", "pass", "token"] as const) {
        const name = names[k];
        const v = name ? getCookie(headerValues(req, "cookie"), name) : undefined;
        if (v !== undefined) cookies[k] = v;
      }
      if (Object.keys(cookies).length) result.cookies = cookies;
    }
  }
  return result;
}

/**
 * The transport contract's view of an accepted upgrade: what was derived from the request, not
 * the request's headers themselves (kept for the connection's life they cost ~0.65 KiB each).
 */
export function toWebSocketPeer(res: UpgradeAccepted): WebSocketPeer {
  const peer: WebSocketPeer = { browser: res.browser };
  if (res.cookieJwt !== undefined) peer.cookieJwt = res.cookieJwt;
  if (res.cookies !== undefined) peer.cookies = res.cookies;
  if (res.forwardedFor !== undefined) peer.forwardedFor = res.forwardedFor;
  return peer;
}

// ---------------------------------------------------------------------------------------------
// Response bytes (own-codec engine)

const enc = new TextEncoder();

/**
 * The exact 101 the reference writes:
 * `HTTP/1.1 101 Switching Protocols`, Upgrade, Connection, Sec-WebSocket-Accept, then
 * {@link UpgradeAccepted.responseHeaders}, blank line.
 */
export function build101Response(
  res: Pick<UpgradeAccepted, "accept" | "responseHeaders">,
): Uint8Array {
  let s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
    `Sec-WebSocket-Accept: ${res.accept}\r\n`;
  for (const [k, v] of res.responseHeaders) s += `${k}: ${v}\r\n`;
  return enc.encode(s + "\r\n");
}

/** Options of {@link buildErrorResponse}. */
export interface ErrorResponseOptions {
  /** Status-line version: the request's ("HTTP/1.0" or "HTTP/1.1", default). */
  httpVersion?: string;
  /** Date header value: a Date, a preformatted string, or null to omit. Default: now. */
  date?: Date | string | null;
  /** Add `Connection: close` (not in the reference; useful if the engine closes after). */
  connectionClose?: boolean;
}

/**
 * The handshake error response as Go's `http.Error` writes it (verified against 2.9.10):
 * status line, Content-Type, Sec-Websocket-Version, X-Content-Type-Options, Date,
 * Content-Length, blank line, `StatusText\n`.
 */
export function buildErrorResponse(status: number, opts: ErrorResponseOptions = {}): Uint8Array {
  const text = STATUS_TEXT[status] ?? "Unknown";
  const body = text + "\n";
  let s = `${opts.httpVersion ?? "HTTP/1.1"} ${status} ${text}\r\n`;
  for (const [k, v] of ERROR_HEADERS) s += `${k}: ${v}\r\n`;
  const date = opts.date === undefined ? new Date() : opts.date;
  if (date !== null) s += `Date: ${typeof date === "string" ? date : date.toUTCString()}\r\n`;
  s += `Content-Length: ${enc.encode(body).length}\r\n`;
  if (opts.connectionClose) s += "Connection: close\r\n";
  return enc.encode(s + "\r\n" + body);
}

/**
 * What Go's HTTP server writes for a request it cannot parse, then closes, e.g. an HTTP/1.1
 * request without Host: `buildHttpParseErrorResponse("missing required Host header")` →
 * `HTTP/1.1 400 Bad Request: missing required Host header` (verified).
 */
export function buildHttpParseErrorResponse(message?: string): Uint8Array {
  const pub = message ? `400 Bad Request: ${message}` : "400 Bad Request";
  return enc.encode(
    `HTTP/1.1 ${pub}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${pub}`,
  );
}
