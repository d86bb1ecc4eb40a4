/** Subject and NKEY checks used while validating a config (semantics of nats-server 2.9.10). */

/** sublist.go IsValidSubject. */
export function isValidSubject(subject: string): boolean {
  if (subject === "") return false;
  let sfwc = false;
  for (const t of subject.split(".")) {
    if (t.length === 0 || sfwc) return false;
    if (t.length > 1) {
      if (/[\t\n\f\r ]/.test(t)) return false;
      continue;
    }
    switch (t) {
      case ">":
        sfwc = true;
        break;
      case " ":
      case "\t":
      case "\n":
      case "\r":
      case "\f":
        return false;
    }
  }
  return true;
}

/** sublist.go subjectIsLiteral. */
export function subjectIsLiteral(subject: string): boolean {
  for (let i = 0; i < subject.length; i++) {
    const c = subject[i];
    if (c === "*" || c === ">") {
      if (
        (i === 0 || subject[i - 1] === ".") && (i + 1 === subject.length || subject[i + 1] === ".")
      ) {
        return false;
      }
    }
  }
  return true;
}

/** sublist.go isSubsetMatchTokenized: are `tokens` a subset of the `test` subject? */
export function isSubsetMatch(subject: string, test: string): boolean {
  const tokens = subject.split(".");
  const tts = test.split(".");
  for (let i = 0; i < tts.length; i++) {
    if (i >= tokens.length) return false;
    const t2 = tts[i];
    if (t2.length === 0) return false;
    if (t2 === ">") return true;
    const t1 = tokens[i];
    if (t1.length === 0 || t1 === ">") return false;
    if (t1 === "*") {
      if (t2 !== "*") return false;
      continue;
    }
    if (t2 !== "*" && t1 !== t2) return false;
  }
  return tokens.length === tts.length;
}

// ---------------------------------------------------------------------------------------------
// NKEYS public keys: base32(prefix byte + 32-byte key + crc16 little endian), no padding.

const B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32Decode(s: string): Uint8Array | undefined {
  const rem = s.replace(/[\r\n]/g, "").length % 8;
  if (rem === 1 || rem === 3 || rem === 6) return undefined;
  const out: number[] = [];
  let bits = 0;
  let acc = 0;
  for (const ch of s.replace(/[\r\n]/g, "")) {
    const v = B32.indexOf(ch);
    if (v < 0) return undefined;
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  return new Uint8Array(out);
}

function crc16(data: Uint8Array): number {
  let crc = 0;
  for (const b of data) {
    crc ^= b << 8;
    for (let i = 0; i < 8; i++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc;
}

export const PREFIX_USER = 20 << 3;
export const PREFIX_ACCOUNT = 0;
export const PREFIX_OPERATOR = 14 << 3;

/** nkeys.Decode(prefix, key) succeeds. */
export function isValidPublicKey(key: string, prefix: number): boolean {
  const raw = base32Decode(key);
  if (!raw || raw.length < 4) return false;
  const body = raw.subarray(0, raw.length - 2);
  const crc = raw[raw.length - 2] | (raw[raw.length - 1] << 8);
  if (crc16(body) !== crc) return false;
  return raw[0] === prefix;
}
