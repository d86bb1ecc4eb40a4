/**
 * IP address parsing (Go `net.ParseIP` rules) and an IPv4/IPv6 CIDR matcher for `trusted_proxies`.
 * Pure functions, no I/O.
 *
 * IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`) are treated as the IPv4 address, as Go's
 * `IPNet.Contains` does, so a dual-stack listener reporting `::ffff:10.0.0.1` matches `10.0.0.0/8`.
 *
 * @module
 */

/** A parsed CIDR block. `bytes` is 4 bytes (IPv4) or 16 (IPv6), already masked. */
export interface Cidr {
  readonly bytes: Uint8Array;
  readonly bits: number;
  /** The text it was parsed from. */
  readonly text: string;
}

function dtoi(s: string, i: number): [number, number] {
  let n = 0;
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
    if (n >= 0xffffff) return [0, -1];
    j++;
  }
  return j === i ? [0, -1] : [n, j];
}

function parseIPv4(s: string): Uint8Array | null {
  const out = new Uint8Array(4);
  let i = 0;
  for (let k = 0; k < 4; k++) {
    if (i >= s.length) return null;
    if (k > 0) {
      if (s[i] !== ".") return null;
      i++;
    }
    const [n, j] = dtoi(s, i);
    if (j < 0 || n > 0xff) return null;
    if (j - i > 1 && s[i] === "0") return null; // leading zeros are rejected (Go >= 1.17)
    out[k] = n;
    i = j;
  }
  return i === s.length ? out : null;
}

function xtoi(s: string, i: number): [number, number] {
  let n = 0;
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
    else break;
    n = n * 16 + d;
    if (n >= 0xffffff) return [0, -1];
    j++;
  }
  return j === i ? [0, -1] : [n, j];
}

function parseIPv6(s: string): Uint8Array | null {
  const ip = new Uint8Array(16);
  let ellipsis = -1;
  let i = 0;
  if (s.length >= 2 && s[0] === ":" && s[1] === ":") {
    ellipsis = 0;
    i = 2;
    if (i === s.length) return ip;
  }
  let k = 0;
  while (k < 16) {
    const [n, j] = xtoi(s, i);
    if (j < 0 || n > 0xffff) return null;
    if (j < s.length && s[j] === ".") {
      // Embedded IPv4 at the end.
      if (ellipsis < 0 && k !== 12) return null;
      if (k + 4 > 16) return null;
      const v4 = parseIPv4(s.slice(i));
      if (v4 === null) return null;
      ip.set(v4, k);
      k += 4;
      i = s.length;
      break;
    }
    ip[k] = n >> 8;
    ip[k + 1] = n & 0xff;
    k += 2;
    i = j;
    if (i === s.length) break;
    if (s[i] !== ":" || i + 1 === s.length) return null;
    i++;
    if (s[i] === ":") {
      if (ellipsis >= 0) return null;
      ellipsis = k;
      i++;
      if (i === s.length) break;
    }
  }
  if (i !== s.length) return null;
  if (k < 16) {
    if (ellipsis < 0) return null;
    const n = 16 - k;
    for (let j = k - 1; j >= ellipsis; j--) ip[j + n] = ip[j];
    for (let j = ellipsis + n - 1; j >= ellipsis; j--) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return null; // an ellipsis must stand for at least one group
  }
  return ip;
}

/**
 * Go's `net.ParseIP`: dotted IPv4 (no leading zeros) or IPv6 text (no zone, no brackets).
 * Returns 4 bytes for IPv4 text and 16 bytes for IPv6 text; null when invalid.
 */
export function parseIp(s: string): Uint8Array | null {
  for (let i = 0; i < s.length; i++) {
    if (s[i] === ".") return parseIPv4(s);
    if (s[i] === ":") return parseIPv6(s);
  }
  return null;
}

/** 16-byte IPv4-mapped address → its 4 bytes; anything else unchanged. */
function unmap(ip: Uint8Array): Uint8Array {
  if (ip.length !== 16) return ip;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return ip;
  if (ip[10] !== 0xff || ip[11] !== 0xff) return ip;
  return ip.subarray(12);
}

/**
 * Parse "addr/bits" (IPv4 or IPv6). A bare address is accepted as a single host (/32 or /128).
 * Returns null when invalid.
 */
export function parseCidr(text: string): Cidr | null {
  const t = text.trim();
  const slash = t.indexOf("/");
  const addr = slash < 0 ? t : t.slice(0, slash);
  const ip = parseIp(addr);
  if (ip === null) return null;
  let bits = ip.length * 8;
  if (slash >= 0) {
    const b = t.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(b)) return null;
    bits = Number(b);
    if (bits > ip.length * 8) return null;
  }
  let bytes = ip;
  if (ip.length === 16 && unmap(ip).length === 4 && bits >= 96) {
    bytes = unmap(ip);
    bits -= 96;
  }
  bytes = bytes.slice();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return { bytes, bits, text };
}

/** Parse the `trusted_proxies` list once. Error text: `invalid CIDR address: <entry>`. */
export function parseTrustedProxies(
  list: readonly string[],
): { ok: true; cidrs: Cidr[] } | { ok: false; error: string } {
  const cidrs: Cidr[] = [];
  for (const entry of list) {
    const c = parseCidr(entry);
    if (c === null) return { ok: false, error: `invalid CIDR address: ${entry}` };
    cidrs.push(c);
  }
  return { ok: true, cidrs };
}

/**
 * Normalise a socket peer address for matching: strips `[...]` and an IPv6 zone (`%eth0`),
 * then parses it. Returns 4 bytes for IPv4 (incl. IPv4-mapped IPv6), 16 for IPv6, or null.
 */
export function peerIp(address: string): Uint8Array | null {
  let a = address;
  if (a.startsWith("[") && a.endsWith("]")) a = a.slice(1, -1);
  const pct = a.indexOf("%");
  if (pct >= 0) a = a.slice(0, pct);
  const ip = parseIp(a);
  return ip === null ? null : unmap(ip);
}

/** Whether `ip` (text or parsed bytes) lies inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: string | Uint8Array): boolean {
  const b = typeof ip === "string" ? peerIp(ip) : unmap(ip);
  if (b === null || b.length !== cidr.bytes.length) return false;
  let bits = cidr.bits;
  for (let i = 0; i < b.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((b[i] & mask) !== cidr.bytes[i]) return false;
  }
  return true;
}

/** Whether `ip` lies inside any of `cidrs` (false for an empty list or an unparsable address). */
export function ipInCidrs(ip: string, cidrs: readonly Cidr[]): boolean {
  if (cidrs.length === 0) return false;
  const b = peerIp(ip);
  if (b === null) return false;
  for (const c of cidrs) if (cidrContains(c, b)) return true;
  return false;
}
