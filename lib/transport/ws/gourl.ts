/**
 * The parts of Go's `net/url` and `net` parsing that the reference's origin rules depend on
 * (Go 1.19, as used by nats-server 2.9.10). They are reimplemented here so that accept/reject
 * decisions and error texts match the reference: `url.Parse`, `url.ParseRequestURI`,
 * `net.SplitHostPort` and the `%q` quoting used in their messages.
 *
 * Strings coming from HTTP headers are ByteStrings (one char per byte, U+0000..U+00FF); they are
 * handled byte by byte, exactly as Go handles its byte strings.
 *
 * @module
 */

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

/** Go's `strconv.Quote` (the `%q` verb) for byte strings, close enough for error texts. */
export function goQuote(s: string): string {
  const bytes = toBytes(s);
  let out = '"';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    if (b < 0x80) {
      out += quoteAscii(b);
      i++;
      continue;
    }
    const [cp, size] = decodeUtf8(bytes, i);
    if (cp < 0) {
      out += "\\x" + hex2(b);
      i++;
      continue;
    }
    if (cp < 0xa0 || cp === 0xad || cp === 0xfeff || (cp >= 0x2028 && cp <= 0x2029)) {
      out += cp > 0xffff
        ? "\\U" + cp.toString(16).padStart(8, "0")
        : "\\u" + cp.toString(16).padStart(4, "0");
    } else {
      out += String.fromCodePoint(cp);
    }
    i += size;
  }
  return out + '"';
}

function quoteAscii(b: number): string {
  switch (b) {
    case 0x07:
      return "\\a";
    case 0x08:
      return "\\b";
    case 0x0c:
      return "\\f";
    case 0x0a:
      return "\\n";
    case 0x0d:
      return "\\r";
    case 0x09:
      return "\\t";
    case 0x0b:
      return "\\v";
    case 0x5c:
      return "\\\\";
    case 0x22:
      return '\\"';
  }
  if (b < 0x20 || b === 0x7f) return "\\x" + hex2(b);
  return String.fromCharCode(b);
}

function hex2(b: number): string {
  return b.toString(16).padStart(2, "0");
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

/** Decode one UTF-8 sequence at `i`: [codepoint, size], or [-1, 1] when invalid. */
function decodeUtf8(b: Uint8Array, i: number): [number, number] {
  const b0 = b[i];
  let need: number;
  let cp: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    need = 1;
    cp = b0 & 0x1f;
    min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    need = 2;
    cp = b0 & 0x0f;
    min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    need = 3;
    cp = b0 & 0x07;
    min = 0x10000;
  } else {
    return [-1, 1];
  }
  if (i + need >= b.length) return [-1, 1];
  for (let k = 1; k <= need; k++) {
    const c = b[i + k];
    if ((c & 0xc0) !== 0x80) return [-1, 1];
    cp = (cp << 6) | (c & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return [-1, 1];
  return [cp, need + 1];
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
        throw new UrlError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      if (mode === MODE_HOST && unhex(s.charCodeAt(i + 1)) < 8 && s.slice(i, i + 3) !== "%25") {
        throw new UrlError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
      }
      if (mode === MODE_ZONE) {
        const v = (unhex(s.charCodeAt(i + 1)) << 4) | unhex(s.charCodeAt(i + 2));
        if (s.slice(i, i + 3) !== "%25" && v !== 0x20 && shouldEscapeHost(v)) {
          throw new UrlError(`invalid URL escape ${goQuote(s.slice(i, i + 3))}`);
        }
      }
      i += 3;
    } else {
      if ((mode === MODE_HOST || mode === MODE_ZONE) && c < 0x80 && shouldEscapeHost(c)) {
        throw new UrlError(`invalid character ${goQuote(s[i])} in host name`);
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
      throw new UrlError(`invalid port ${goQuote(colonPort)} after host`);
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
        throw new UrlError(`invalid port ${goQuote(colonPort)} after host`);
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
    if (e instanceof UrlError) return { ok: false, error: `parse ${goQuote(u)}: ${e.message}` };
    throw e;
  }
  if (hash >= 0) {
    try {
      unescape(raw.slice(hash + 1), MODE_OTHER);
    } catch (e) {
      if (e instanceof UrlError) return { ok: false, error: `parse ${goQuote(raw)}: ${e.message}` };
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
    if (e instanceof UrlError) return { ok: false, error: `parse ${goQuote(raw)}: ${e.message}` };
    throw e;
  }
}

// ---------------------------------------------------------------------------------------------
// net

/** Result of Go's `net.SplitHostPort`; `why` is the `AddrError.Err` part. */
export type SplitHostPortResult =
  | { ok: true; host: string; port: string }
  | { ok: false; why: string; error: string };

/** Go's `net.SplitHostPort`, with `AddrError` texts (`address <addr>: <why>`). */
export function goSplitHostPort(hostport: string): SplitHostPortResult {
  const fail = (why: string): SplitHostPortResult => ({
    ok: false,
    why,
    error: hostport === "" ? why : `address ${hostport}: ${why}`,
  });
  const i = hostport.lastIndexOf(":");
  if (i < 0) return fail("missing port in address");
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === "[") {
    const end = hostport.indexOf("]");
    if (end < 0) return fail("missing ']' in address");
    if (end + 1 === hostport.length) return fail("missing port in address");
    if (end + 1 !== i) {
      return fail(
        hostport[end + 1] === ":" ? "too many colons in address" : "missing port in address",
      );
    }
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) return fail("too many colons in address");
  }
  if (hostport.slice(j).includes("[")) return fail("unexpected '[' in address");
  if (hostport.slice(k).includes("]")) return fail("unexpected ']' in address");
  return { ok: true, host, port: hostport.slice(i + 1) };
}
