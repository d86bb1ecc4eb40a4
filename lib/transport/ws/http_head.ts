/**
 * A small HTTP/1.x request-head reader for the own-codec WebSocket engine, with the acceptance
 * rules and error answers of Go 1.19's `net/http` server (the HTTP layer of nats-server 2.9.10):
 * request line, headers (repeated ones kept as `rawHeaders`, obs-fold continuation lines
 * joined), a size limit, and the exact bytes Go writes before closing on a head it cannot parse.
 *
 * Pure: no sockets, no timers. Feed bytes with {@link HttpHeadReader.push} until it returns a
 * head or an error.
 *
 * @example
 * ```ts
 * import { HttpHeadReader } from "./http_head.ts";
 *
 * const r = new HttpHeadReader();
 * const res = r.push(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
 * if (res.kind === "head") console.log(res.head.method, res.head.host); // GET a
 * ```
 *
 * @module
 */

import { goUrlParseRequestURI } from "../../core/gourl.ts";
import { buildHttpParseErrorResponse, trimSpaceTab } from "./handshake.ts";

/** Go's `http.DefaultMaxHeaderBytes` (1 MiB) plus the 4096 bytes of slack its server allows. */
export const GO_MAX_HEADER_BYTES = (1 << 20) + 4096;

/** A parsed request head. Header names and values are byte strings (latin1), as Go sees them. */
export interface HttpRequestHead {
  method: string;
  /** The request-target as sent ("/path?q", "*", or an absolute URL). */
  target: string;
  /** "HTTP/1.1", "HTTP/1.0", ... as sent. */
  proto: string;
  major: number;
  minor: number;
  /** Header lines in arrival order: [name as sent, value trimmed of spaces and tabs]. */
  rawHeaders: [string, string][];
  /** The same headers (repeated ones joined with ", "). */
  headers: Headers;
  /** Go's `Request.Host`: the host of an absolute-form target, else the Host header ("" if none). */
  host: string;
  /** Declared body length (0 when none). */
  contentLength: number;
  /** Go's `Request.Close`: the connection closes after the response. */
  close: boolean;
}

/** Result of one {@link HttpHeadReader.push}. */
export type HttpHeadResult =
  | { kind: "incomplete" }
  | {
    kind: "head";
    head: HttpRequestHead;
    /** Bytes received after the head (pipelined data). */
    rest: Uint8Array;
  }
  | {
    /**
     * Go would answer `response` (when not null) and close the connection. `reason` is the Go
     * error text, for debug logs.
     */
    kind: "error";
    response: Uint8Array | null;
    reason: string;
  };

const enc = new TextEncoder();
const latin1 = new TextDecoder("latin1");
/** An empty reader's buffer (never written: `push` replaces it before copying in). */
const NO_BYTES = new Uint8Array(0);

/** Go's `fmt.Fprintf(c.rwc, "HTTP/1.1 %d %s: %s" + errorHeaders + ...)` for a statusError. */
function goStatusError(code: number, text: string, detail?: string): Uint8Array {
  const pub = detail ? `${code} ${text}: ${detail}` : `${code} ${text}`;
  return enc.encode(
    `HTTP/1.1 ${pub}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${pub}`,
  );
}

/** What Go writes when the head exceeds `MaxHeaderBytes`. */
export const RESPONSE_431 = goStatusError(431, "Request Header Fields Too Large");
/** What Go writes for a major version other than 1. */
export const RESPONSE_505 = goStatusError(
  505,
  "HTTP Version Not Supported",
  "unsupported protocol version",
);
/** What Go writes for a Transfer-Encoding it does not implement. */
export const RESPONSE_501 = enc.encode(
  "HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close" +
    "\r\n\r\nUnsupported transfer encoding",
);

/**
 * What Go's HTTP server writes on a TLS port when the first bytes look like plain HTTP
 * (`tlsRecordHeaderLooksLikeHTTP`), on the raw connection, before closing it.
 */
export const RESPONSE_HTTP_ON_TLS = enc.encode(
  "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n",
);

/** Go's `tlsRecordHeaderLooksLikeHTTP`: the first 5 bytes of a TLS record start plain HTTP. */
export function looksLikeHttp(first: Uint8Array): boolean {
  if (first.length < 5) return false;
  const s = latin1.decode(first.subarray(0, 5));
  return s === "GET /" || s === "HEAD " || s === "POST " || s === "PUT /" || s === "OPTIO";
}

class HeadError extends Error {
  constructor(readonly response: Uint8Array | null, reason: string) {
    super(reason);
  }
}

/** Plain `400 Bad Request` (Go's default branch); `detail` only for Go's `badRequestError`s. */
function bad(reason: string, detail?: string): HeadError {
  return new HeadError(buildHttpParseErrorResponse(detail), reason);
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** httpguts.ValidHostHeader's byte set. */
const HOST_BYTES = /^[0-9A-Za-z!$%&'()*+,\-.:;=\[\]_~]*$/;

function validHeaderValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return false;
  }
  return true;
}

function valuesOf(raw: readonly [string, string][], lowerName: string): string[] {
  const out: string[] = [];
  for (const [k, v] of raw) if (k.toLowerCase() === lowerName) out.push(v);
  return out;
}

/** Go's `http.ParseHTTPVersion`. */
function parseVersion(proto: string): [number, number] | null {
  if (proto === "HTTP/1.1") return [1, 1];
  if (proto === "HTTP/1.0") return [1, 0];
  if (!proto.startsWith("HTTP/")) return null;
  const rest = proto.slice(5);
  const dot = rest.indexOf(".");
  if (dot < 0) return null;
  const a = rest.slice(0, dot);
  const b = rest.slice(dot + 1);
  if (!/^[0-9]{1,7}$/.test(a) || !/^[0-9]{1,7}$/.test(b)) return null;
  const maj = Number(a);
  const min = Number(b);
  return maj > 1000000 || min > 1000000 ? null : [maj, min];
}

/** Split a head (without its blank line) into lines the way textproto's ReadLine does. */
function splitLines(head: string): string[] {
  const lines = head.split("\n");
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].endsWith("\r")) lines[i] = lines[i].slice(0, -1);
  }
  return lines;
}

/** Parse a complete head (request line + header lines, no terminating blank line). */
export function parseRequestHead(head: string): HttpRequestHead {
  const lines = splitLines(head);
  const line = lines[0];
  const sp1 = line.indexOf(" ");
  const sp2 = sp1 < 0 ? -1 : line.indexOf(" ", sp1 + 1);
  if (sp2 < 0) throw bad(`malformed HTTP request ${JSON.stringify(line)}`);
  const method = line.slice(0, sp1);
  const target = line.slice(sp1 + 1, sp2);
  const proto = line.slice(sp2 + 1);
  const version = parseVersion(proto);
  if (!version) throw bad(`malformed HTTP version ${JSON.stringify(proto)}`);
  if (!TOKEN.test(method)) throw bad(`invalid method ${JSON.stringify(method)}`);
  const justAuthority = method === "CONNECT" && !target.startsWith("/");
  const url = goUrlParseRequestURI(justAuthority ? "http://" + target : target);
  if (!url.ok) throw bad(url.error);

  // textproto.ReadMIMEHeader
  const raw: [string, string][] = [];
  if (lines.length > 1 && (lines[1].startsWith(" ") || lines[1].startsWith("\t"))) {
    throw bad(`malformed MIME header initial line: ${lines[1]}`);
  }
  for (let i = 1; i < lines.length; i++) {
    let kv = trimSpaceTab(lines[i]);
    while (
      i + 1 < lines.length && (lines[i + 1].startsWith(" ") || lines[i + 1].startsWith("\t"))
    ) {
      kv += " " + trimSpaceTab(lines[++i]);
    }
    const colon = kv.indexOf(":");
    if (colon < 0) throw bad(`malformed MIME header line: ${kv}`);
    const name = kv.slice(0, colon);
    if (name === "") continue; // Go skips empty keys
    raw.push([name, trimSpaceTab(kv.slice(colon + 1))]);
  }

  // request.go readRequest: Host count, then readTransfer.
  const hosts = valuesOf(raw, "host");
  if (hosts.length > 1) throw bad("too many Host headers");
  let contentLength = 0;
  const te = valuesOf(raw, "transfer-encoding");
  if (te.length > 0 && version[0] === 1 && version[1] >= 1) {
    if (te.length !== 1 || te[0].toLowerCase() !== "chunked") {
      throw new HeadError(RESPONSE_501, `unsupported transfer encoding: ${JSON.stringify(te)}`);
    }
    contentLength = -1;
  } else {
    const cls = valuesOf(raw, "content-length");
    if (cls.some((v) => v !== cls[0])) {
      throw bad("http: message cannot contain multiple Content-Length headers");
    }
    if (cls.length > 0 && cls[0] !== "") {
      if (!/^[0-9]+$/.test(cls[0])) throw bad(`bad Content-Length ${JSON.stringify(cls[0])}`);
      contentLength = Number(cls[0]);
    }
  }

  // server.go readRequest: version, Host presence and form, header names and values.
  if (version[0] !== 1) throw new HeadError(RESPONSE_505, "unsupported protocol version");
  if (version[1] >= 1 && hosts.length === 0 && method !== "CONNECT") {
    throw bad("missing required Host header", "missing required Host header");
  }
  if (hosts.length === 1 && !HOST_BYTES.test(hosts[0])) {
    throw bad("malformed Host header", "malformed Host header");
  }
  const headers = new Headers();
  for (const [k, v] of raw) {
    if (!TOKEN.test(k)) throw bad("invalid header name", "invalid header name");
    if (!validHeaderValue(v)) throw bad("invalid header value", "invalid header value");
    headers.append(k, v);
  }

  const connection = headers.get("connection")?.toLowerCase() ?? "";
  const tokens = connection.split(",").map((t) => t.trim());
  const close = version[1] === 0 ? !tokens.includes("keep-alive") : tokens.includes("close");
  return {
    method,
    target,
    proto,
    major: version[0],
    minor: version[1],
    rawHeaders: raw,
    headers,
    host: url.url.host !== "" ? url.url.host : (hosts[0] ?? ""),
    contentLength,
    close,
  };
}

/**
 * Accumulates bytes until a complete request head (ending with an empty line, CRLF or LF) and
 * parses it. Bounded by `maxBytes` (Go's limit by default): a longer head is a 431.
 */
export class HttpHeadReader {
  #buf = NO_BYTES;
  #len = 0;
  /** Where the search for the blank line resumes. */
  #scan = 0;

  constructor(readonly maxBytes = GO_MAX_HEADER_BYTES) {}

  /** Bytes held (a partial head). */
  get buffered(): number {
    return this.#len;
  }

  /** Adds bytes (copied) and tries to complete the head. */
  push(bytes: Uint8Array): HttpHeadResult {
    const need = this.#len + bytes.length;
    if (need > this.#buf.length) {
      const next = new Uint8Array(
        Math.max(need, Math.min(this.#buf.length * 2 || 1024, this.maxBytes + 4)),
      );
      next.set(this.#buf.subarray(0, this.#len));
      this.#buf = next;
    }
    this.#buf.set(bytes, this.#len);
    this.#len = need;
    const end = this.#findEnd();
    if (end < 0) {
      if (this.#len > this.maxBytes) {
        return { kind: "error", response: RESPONSE_431, reason: "request too large" };
      }
      return { kind: "incomplete" };
    }
    const [headEnd, restStart] = this.#bounds(end);
    if (headEnd > this.maxBytes) {
      return { kind: "error", response: RESPONSE_431, reason: "request too large" };
    }
    const text = latin1.decode(this.#buf.subarray(0, headEnd));
    const rest = this.#buf.slice(restStart, this.#len);
    this.reset();
    try {
      return { kind: "head", head: parseRequestHead(text), rest };
    } catch (e) {
      if (e instanceof HeadError) return { kind: "error", response: e.response, reason: e.message };
      throw e;
    }
  }

  /** Forget everything (e.g. before the next keep-alive request). */
  reset(): void {
    this.#buf = NO_BYTES;
    this.#len = 0;
    this.#scan = 0;
  }

  /** Index of the "\n" that ends the blank line, or -1. */
  #findEnd(): number {
    const b = this.#buf;
    // A blank line: "\n\n" or "\n\r\n" (the head's first line may itself be blank).
    let i = Math.max(0, this.#scan);
    for (; i < this.#len; i++) {
      if (b[i] !== 0x0a) continue;
      if (i === 0 || (i === 1 && b[0] === 0x0d)) return i; // empty request line
      if (b[i - 1] === 0x0a) return i;
      if (b[i - 1] === 0x0d && i >= 2 && b[i - 2] === 0x0a) return i;
    }
    this.#scan = Math.max(0, this.#len - 2);
    return -1;
  }

  /** [end of the head text (exclusive, without the blank line), start of the rest]. */
  #bounds(nl: number): [number, number] {
    const b = this.#buf;
    let start = nl; // position of the blank line's first byte
    if (start > 0 && b[start - 1] === 0x0d) start--;
    // start now points at the "\r" or "\n" of the blank line; the head text ends before it,
    // excluding the previous line's terminator.
    let end = start;
    if (end > 0 && b[end - 1] === 0x0a) end--;
    if (end > 0 && b[end - 1] === 0x0d) end--;
    return [end, nl + 1];
  }
}
