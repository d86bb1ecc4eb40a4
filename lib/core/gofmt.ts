/**
 * Small re-implementations of the Go standard-library behaviour whose text ends up in
 * nats-server's messages: `strconv.Quote`, `time.ParseDuration`, `time.Duration.String`,
 * `net.SplitHostPort`, `net.JoinHostPort`, `strconv.Atoi`, and the `%v` renderings of floats
 * and times. The one copy of each in lib/.
 *
 * @module
 */

const NS_PER: Record<string, bigint> = {
  ns: 1n,
  us: 1000n,
  "\u00b5s": 1000n,
  "\u03bcs": 1000n,
  ms: 1_000_000n,
  s: 1_000_000_000n,
  m: 60_000_000_000n,
  h: 3_600_000_000_000n,
};
const MAX_INT64 = (1n << 63n) - 1n;

// ---------------------------------------------------------------------------------------------
// strconv.Quote

// strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. Everything
// else (controls, format characters such as U+200B, private use U+E000, unassigned U+0378, and
// all other spaces such as U+00A0 and U+3000) is escaped. JS's Unicode tables may be newer than
// Go 1.19's (Unicode 13), so code points assigned since then print here and are escaped there.
const GO_PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;

/** Go's `strconv.IsPrint` for one code point. */
export function goIsPrint(cp: number): boolean {
  if (cp < 0x80) return cp >= 0x20 && cp < 0x7f;
  return GO_PRINT.test(String.fromCodePoint(cp));
}

function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, "0");
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
  if (b < 0x20 || b === 0x7f) return "\\x" + hex(b, 2);
  return String.fromCharCode(b);
}

/** Decodes one UTF-8 sequence at `i`: [code point, size], or [-1, 1] when invalid. */
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

/**
 * Go's `strconv.Quote` (the `%q` verb) of a Go string given as its bytes: invalid UTF-8 bytes
 * become `\xHH`, non-printable runes `\uHHHH`/`\UHHHHHHHH`.
 */
export function goQuoteBytes(bytes: Uint8Array): string {
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
    if (cp < 0) out += "\\x" + hex(b, 2);
    else if (goIsPrint(cp)) out += String.fromCodePoint(cp);
    else if (cp > 0xffff) out += "\\U" + hex(cp, 8);
    else out += "\\u" + hex(cp, 4);
    i += size;
  }
  return out + '"';
}

const utf8 = new TextEncoder();

/** Go's `strconv.Quote` of a JS string (UTF-8 encoded first; a lone surrogate becomes U+FFFD). */
export function goQuote(s: string): string {
  return goQuoteBytes(utf8.encode(s));
}

/** `%q` of a Go []string: `["a" "b"]`. */
export function goQuoteList(list: string[]): string {
  return "[" + list.map(goQuote).join(" ") + "]";
}

/** The quoting used by package time in its error messages. */
function timeQuote(s: string): string {
  let out = '"';
  const bytes = new TextEncoder().encode(s);
  let i = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    const w = new TextEncoder().encode(ch).length;
    if (c >= 0x80 || c < 0x20) {
      for (let j = 0; j < w; j++) out += "\\x" + bytes[i + j].toString(16).padStart(2, "0");
    } else {
      if (c === 0x22 || c === 0x5c) out += "\\";
      out += ch;
    }
    i += w;
  }
  return out + '"';
}

const TWO63 = 1n << 63n;

/** time.ParseDuration. Returns nanoseconds or throws Error with Go's message. */
export function parseGoDuration(orig: string): bigint {
  const invalid = () => new Error("time: invalid duration " + timeQuote(orig));
  let s = orig;
  let neg = false;
  if (s !== "") {
    const c = s[0];
    if (c === "-" || c === "+") {
      neg = c === "-";
      s = s.slice(1);
    }
  }
  if (s === "0") return 0n;
  if (s === "") throw invalid();
  const isD = (c: string) => c >= "0" && c <= "9";
  let d = 0n;
  while (s !== "") {
    let v = 0n;
    let f = 0n;
    let scale = 1;
    if (!(s[0] === "." || isD(s[0]))) throw invalid();
    let i = 0;
    for (; i < s.length && isD(s[i]); i++) {
      if (v > TWO63 / 10n) throw invalid();
      v = v * 10n + BigInt(s.charCodeAt(i) - 48);
      if (v > TWO63) throw invalid();
    }
    const pre = i > 0;
    s = s.slice(i);
    let post = false;
    if (s !== "" && s[0] === ".") {
      s = s.slice(1);
      let j = 0;
      let overflow = false;
      for (; j < s.length && isD(s[j]); j++) {
        if (overflow) continue;
        if (f > MAX_INT64 / 10n) {
          overflow = true;
          continue;
        }
        const y = f * 10n + BigInt(s.charCodeAt(j) - 48);
        if (y > TWO63) {
          overflow = true;
          continue;
        }
        f = y;
        scale *= 10;
      }
      post = j > 0;
      s = s.slice(j);
    }
    if (!pre && !post) throw invalid();
    let u = 0;
    while (u < s.length && s[u] !== "." && !isD(s[u])) u++;
    if (u === 0) throw new Error("time: missing unit in duration " + timeQuote(orig));
    const unitStr = s.slice(0, u);
    s = s.slice(u);
    const unit = NS_PER[unitStr];
    if (unit === undefined) {
      throw new Error(
        "time: unknown unit " + timeQuote(unitStr) + " in duration " + timeQuote(orig),
      );
    }
    if (v > TWO63 / unit) throw invalid();
    v *= unit;
    if (f > 0n) {
      v += BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
      if (v > TWO63) throw invalid();
    }
    d += v;
    if (d > TWO63) throw invalid();
  }
  if (neg) return -d;
  if (d > MAX_INT64) throw invalid();
  return d;
}

/** time.Duration.String for nanoseconds. */
export function formatGoDuration(ns: bigint): string {
  if (ns === 0n) return "0s";
  const neg = ns < 0n;
  let u = neg ? -ns : ns;
  let out: string;
  if (u < 1_000_000_000n) {
    let unit: string;
    let div: bigint;
    if (u < 1000n) {
      return (neg ? "-" : "") + u.toString() + "ns";
    } else if (u < 1_000_000n) {
      unit = "\u00b5s";
      div = 1000n;
    } else {
      unit = "ms";
      div = 1_000_000n;
    }
    out = fixed(u, div) + unit;
  } else {
    const h = u / 3_600_000_000_000n;
    u -= h * 3_600_000_000_000n;
    const m = u / 60_000_000_000n;
    u -= m * 60_000_000_000n;
    out = fixed(u, 1_000_000_000n) + "s";
    if (h > 0n || m > 0n) out = m.toString() + "m" + out;
    if (h > 0n) out = h.toString() + "h" + out;
  }
  return (neg ? "-" : "") + out;
}

function fixed(v: bigint, div: bigint): string {
  const whole = v / div;
  let frac = (v % div).toString().padStart(div.toString().length - 1, "0");
  frac = frac.replace(/0+$/, "");
  return frac === "" ? whole.toString() : `${whole}.${frac}`;
}

/** Result of Go's `net.SplitHostPort`; `why` is the `AddrError.Err` part. */
export type SplitHostPortResult =
  | { ok: true; host: string; port: string }
  | { ok: false; why: string; error: string };

/** Go's `net.SplitHostPort`, with `AddrError` texts (`address <addr>: <why>`). */
export function splitHostPort(hostport: string): SplitHostPortResult {
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
  if (hostport.indexOf("[", j) >= 0) return fail("unexpected '[' in address");
  if (hostport.indexOf("]", k) >= 0) return fail("unexpected ']' in address");
  return { ok: true, host, port: hostport.slice(i + 1) };
}

/** Go's `net.JoinHostPort`: a host containing `:` (IPv6) is bracketed. */
export function joinHostPort(host: string, port: number | string): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Why `strconv.Atoi` failed (the text after `strconv.Atoi: parsing "<s>": `). */
export type AtoiFailure = "invalid syntax" | "value out of range";

/** `strconv.Atoi` (64-bit int): the value, or why Go fails. */
export function parseGoInt(s: string): number | AtoiFailure {
  if (!/^[+-]?[0-9]+$/.test(s)) return "invalid syntax";
  const v = BigInt(s);
  if (v > MAX_INT64 || v < -MAX_INT64 - 1n) return "value out of range";
  return Number(v);
}

/** `strconv.Atoi` (64-bit int). Returns undefined when Go would fail. */
export function goAtoi(s: string): number | undefined {
  const v = parseGoInt(s);
  return typeof v === "number" ? v : undefined;
}

/** Go's `strconv.Atoi` error text: `strconv.Atoi: parsing "<s>": <why>`. */
export function atoiError(s: string, why: AtoiFailure): string {
  return `strconv.Atoi: parsing ${goQuote(s)}: ${why}`;
}

/** Go's `%v` for a float64. */
export function goFloat(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (!Number.isFinite(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const exp = Math.floor(Math.log10(Math.abs(f)));
  if (exp < -4 || exp >= 21) {
    const [m, e] = f.toExponential().split("e");
    const en = Number(e);
    const sign = en < 0 ? "-" : "+";
    return `${m}e${sign}${String(Math.abs(en)).padStart(2, "0")}`;
  }
  let s = String(f);
  if (s.includes("e")) {
    // JS switches to exponent form earlier (below 1e-6) than Go's %v does.
    s = f.toFixed(20).replace(/0+$/, "").replace(/\.$/, "");
  }
  return s;
}

/** Go's `%v` of a time.Time in UTC. */
export function goTime(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000 UTC`;
}
