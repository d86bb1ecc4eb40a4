/**
 * The parts of Go's `net/url` and `net` parsing that the reference's origin rules depend on
 * (Go 1.19, as used by nats-server 2.9.10). They are reimplemented here so that accept/reject
 * decisions and error texts match the reference: `url.Parse`, `url.ParseRequestURI`,
 * and the `%q` quoting of byte strings used in their messages (`net.SplitHostPort` is
 * `splitHostPort` in lib/core/gofmt.ts).
 *
 * Strings coming from HTTP headers are ByteStrings (one char per byte, U+0000..U+00FF); they are
 * handled byte by byte, exactly as Go handles its byte strings.
 *
 * @module
 */
import { goQuoteBytes } from "./gofmt.ts";

/** A parsed URL: only the fields the origin rules use. */
export interface GoUrl {
  /** Lower-cased scheme ("" when there is none). */
  scheme: string;
  /** Host with optional ":port", %-decoded (brackets of IPv6 literals kept). "" when absent. */
  host: string;
  /** Opaque part (scheme without "//"), e.g. "localhost" for "http:localhost". */
  opaque: string;
  /** Decoded path. */
  path: string;
}

/** Parse result: the URL, or Go's `*url.Error` text (`parse "<url>": <why>`). */
export type GoUrlResult = { ok: true; url: GoUrl } | { ok: false; error: string };

/**
 * Go's `strconv.Quote` of a header value: a ByteString (one char per byte) is quoted as those
 * bytes; a string with chars above U+00FF is UTF-8 encoded first.
 */
export function goQuoteByteString(s: string): string {
  return goQuoteBytes(toBytes(s));
}

/**
 * A JS (Unicode) string as the Go string of its UTF-8 bytes, one char per byte: how a config
 * value is handed to the parsers here, which read byte strings as Go does.
 */
export function utf8ByteString(s: string): string {
  let out = "";
  for (const b of new TextEncoder().encode(s)) out += String.fromCharCode(b);
  return out;
}

/** ByteString → bytes; a string with chars above U+00FF is UTF-8 encoded instead. */
function toBytes(s: string): Uint8Array {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0xff) return new TextEncoder().encode(s);
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

// ---------------------------------------------------------------------------------------------
// net/url

const MODE_HOST = 1;
const MODE_ZONE = 2;
const MODE_OTHER = 3;

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

function unhex(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return 0;
}

function isAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

/** Go's `shouldEscape` for the host and zone modes. */
function shouldEscapeHost(c: number): boolean {
  if (isAlnum(c)) return false;
  // '!', '$', '&', '\'', '(', ')', '*', '+', ',', ';', '=', ':', '[', ']', '<', '>', '"'
  // and the unreserved marks '-', '_', '.', '~'
  return !"!$&'()*+,;=:[]<>\"-_.~".includes(String.fromCharCode(c));
}

class UrlError extends Error {}

/** Go's `unescape` (validation + decoding). Throws UrlError with Go's message. */
function unescape(s: string, mode: number): string {
  let hasPct = false;
  for (let i = 0; i < s.length;) {
    const c = s.charCodeAt(i);
    if (c === 0x25) {
      hasPct = true;
      if (i + 2 >= s.length || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) {
        throw new UrlError(`invalid URL escape ${goQuoteByteString(s.slice(i, i + 3))}`);
      }
      if (mode === MODE_HOST && unhex(s.charCodeAt(i + 1)) < 8 && s.slice(i, i + 3) !== "%25") {
        throw new UrlError(`invalid URL escape ${goQuoteByteString(s.slice(i, i + 3))}`);
      }
      if (mode === MODE_ZONE) {
        const v = (unhex(s.charCodeAt(i + 1)) << 4) | unhex(s.charCodeAt(i + 2));
        if (s.slice(i, i + 3) !== "%25" && v !== 0x20 && shouldEscapeHost(v)) {
          throw new UrlError(`invalid URL escape ${goQuoteByteString(s.slice(i, i + 3))}`);
        }
      }
      i += 3;
    } else {
      if ((mode === MODE_HOST || mode === MODE_ZONE) && c < 0x80 && shouldEscapeHost(c)) {
        throw new UrlError(`invalid character ${goQuoteByteString(s[i])} in host name`);
      }
      i++;
    }
  }
  if (!hasPct) return s;
  let out = "";
  for (let i = 0; i < s.length;) {
    if (s.charCodeAt(i) === 0x25) {
      out += String.fromCharCode((unhex(s.charCodeAt(i + 1)) << 4) | unhex(s.charCodeAt(i + 2)));
      i += 3;
    } else {
      out += s[i];
      i++;
    }
  }
  return out;
}

function validOptionalPort(port: string): boolean {
  if (port === "") return true;
  if (port[0] !== ":") return false;
  for (let i = 1; i < port.length; i++) {
    const c = port.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function parseHost(host: string): string {
  if (host.startsWith("[")) {
    const i = host.lastIndexOf("]");
    if (i < 0) throw new UrlError("missing ']' in host");
    const colonPort = host.slice(i + 1);
    if (!validOptionalPort(colonPort)) {
      throw new UrlError(`invalid port ${goQuoteByteString(colonPort)} after host`);
    }
    const zone = host.slice(0, i).indexOf("%25");
    if (zone >= 0) {
      return unescape(host.slice(0, zone), MODE_HOST) +
        unescape(host.slice(zone, i), MODE_ZONE) +
        unescape(host.slice(i), MODE_HOST);
    }
  } else {
    const i = host.lastIndexOf(":");
    if (i !== -1) {
      const colonPort = host.slice(i);
      if (!validOptionalPort(colonPort)) {
        throw new UrlError(`invalid port ${goQuoteByteString(colonPort)} after host`);
      }
    }
  }
  return unescape(host, MODE_HOST);
}

function validUserinfo(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (isAlnum(c)) continue;
    if (c >= 0x80) return false;
    if (!"-._:~!$&'()*+,;=%@".includes(s[i])) return false;
  }
  return true;
}

function parseAuthority(authority: string): string {
  const i = authority.lastIndexOf("@");
  const host = parseHost(i < 0 ? authority : authority.slice(i + 1));
  if (i >= 0) {
    const userinfo = authority.slice(0, i);
    if (!validUserinfo(userinfo)) throw new UrlError("net/url: invalid userinfo");
    const c = userinfo.indexOf(":");
    if (c < 0) {
      unescape(userinfo, MODE_OTHER);
    } else {
      unescape(userinfo.slice(0, c), MODE_OTHER);
      unescape(userinfo.slice(c + 1), MODE_OTHER);
    }
  }
  return host;
}

function getScheme(raw: string): [string, string] {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) continue;
    if ((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e) {
      if (i === 0) return ["", raw];
      continue;
    }
    if (c === 0x3a) {
      if (i === 0) throw new UrlError("missing protocol scheme");
      return [raw.slice(0, i), raw.slice(i + 1)];
    }
    return ["", raw];
  }
  return ["", raw];
}

function parseInternal(raw: string, viaRequest: boolean): GoUrl {
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) throw new UrlError("net/url: invalid control character in URL");
  }
  if (raw === "" && viaRequest) throw new UrlError("empty url");
  const url: GoUrl = { scheme: "", host: "", opaque: "", path: "" };
  if (raw === "*") {
    url.path = "*";
    return url;
  }
  let [scheme, rest] = getScheme(raw);
  url.scheme = scheme.toLowerCase();
  const q = rest.indexOf("?");
  if (rest.endsWith("?") && q === rest.length - 1) {
    rest = rest.slice(0, -1);
  } else if (q >= 0) {
    rest = rest.slice(0, q);
  }
  if (!rest.startsWith("/")) {
    if (url.scheme !== "") {
      url.opaque = rest;
      return url;
    }
    if (viaRequest) throw new UrlError("invalid URI for request");
    const slash = rest.indexOf("/");
    const segment = slash < 0 ? rest : rest.slice(0, slash);
    if (segment.includes(":")) {
      throw new UrlError("first path segment in URL cannot contain colon");
    }
  }
  if ((url.scheme !== "" || (!viaRequest && !rest.startsWith("///"))) && rest.startsWith("//")) {
    let authority = rest.slice(2);
    rest = "";
    const i = authority.indexOf("/");
    if (i >= 0) {
      rest = authority.slice(i);
      authority = authority.slice(0, i);
    }
    url.host = parseAuthority(authority);
  }
  url.path = unescape(rest, MODE_OTHER);
  return url;
}

/** Go's `url.Parse` (the fragment is cut off first and only validated). */
export function goUrlParse(raw: string): GoUrlResult {
  const hash = raw.indexOf("#");
  const u = hash < 0 ? raw : raw.slice(0, hash);
  let url: GoUrl;
  try {
    url = parseInternal(u, false);
  } catch (e) {
    if (e instanceof UrlError) {
      return { ok: false, error: `parse ${goQuoteByteString(u)}: ${e.message}` };
    }
    throw e;
  }
  if (hash >= 0) {
    try {
      unescape(raw.slice(hash + 1), MODE_OTHER);
    } catch (e) {
      if (e instanceof UrlError) {
        return { ok: false, error: `parse ${goQuoteByteString(raw)}: ${e.message}` };
      }
      throw e;
    }
  }
  return { ok: true, url };
}

/** Go's `url.ParseRequestURI` (no fragment handling: a "#" stays in the URL). */
export function goUrlParseRequestURI(raw: string): GoUrlResult {
  try {
    return { ok: true, url: parseInternal(raw, true) };
  } catch (e) {
    if (e instanceof UrlError) {
      return { ok: false, error: `parse ${goQuoteByteString(raw)}: ${e.message}` };
    }
    throw e;
  }
}
