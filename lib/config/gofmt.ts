/**
 * Small re-implementations of the Go standard-library behaviour whose text ends up in
 * nats-server's error messages: `strconv.Quote`, `time.ParseDuration`, `time.Duration.String`,
 * `net.SplitHostPort`, `strconv.Atoi`, and the `%v`/`%T` renderings of config values.
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

/** Go's strconv.Quote for a JS string. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (c) {
      case 0x07:
        out += "\\a";
        continue;
      case 0x08:
        out += "\\b";
        continue;
      case 0x0c:
        out += "\\f";
        continue;
      case 0x0a:
        out += "\\n";
        continue;
      case 0x0d:
        out += "\\r";
        continue;
      case 0x09:
        out += "\\t";
        continue;
      case 0x0b:
        out += "\\v";
        continue;
      case 0x5c:
        out += "\\\\";
        continue;
      case 0x22:
        out += '\\"';
        continue;
    }
    if (c < 0x20 || c === 0x7f) {
      out += "\\x" + c.toString(16).padStart(2, "0");
    } else if (!isPrintable(c)) {
      out += c > 0xffff
        ? "\\U" + c.toString(16).padStart(8, "0")
        : "\\u" + c.toString(16).padStart(4, "0");
    } else {
      out += ch;
    }
  }
  return out + '"';
}

const NON_PRINTABLE = /^[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]$/u;
function isPrintable(c: number): boolean {
  if (c < 0x7f) return c >= 0x20;
  if (c === 0xfffd) return true;
  const ch = String.fromCodePoint(c);
  return !NON_PRINTABLE.test(ch) || c === 0x20;
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

/** net.SplitHostPort. Throws Error(Go text) on failure. */
export function splitHostPort(hostport: string): [string, string] {
  const missingPort = "missing port in address";
  const tooManyColons = "too many colons in address";
  const addrErr = (why: string) => new Error(`address ${hostport}: ${why}`);
  let j = 0;
  let k = 0;
  const i = hostport.lastIndexOf(":");
  if (i < 0) throw addrErr(missingPort);
  let host: string;
  if (hostport[0] === "[") {
    const end = hostport.indexOf("]");
    if (end < 0) throw addrErr("missing ']' in address");
    if (end + 1 === hostport.length) throw addrErr(missingPort);
    if (end + 1 !== i) {
      if (hostport[end + 1] === ":") throw addrErr(tooManyColons);
      throw addrErr(missingPort);
    }
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(":")) throw addrErr(tooManyColons);
  }
  if (hostport.indexOf("[", j) >= 0) throw addrErr("unexpected '[' in address");
  if (hostport.indexOf("]", k) >= 0) throw addrErr("unexpected ']' in address");
  return [host, hostport.slice(i + 1)];
}

/** strconv.Atoi (64-bit int). Returns undefined when Go would fail. */
export function goAtoi(s: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const v = BigInt(s);
  if (v > MAX_INT64 || v < -MAX_INT64 - 1n) return undefined;
  return Number(v);
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
