/**
 * TLS `verify_and_map`: which configured user a verified client certificate stands for, in the
 * order of nats-server 2.9.10's `checkClientTLSCertSubject` (`server/auth.go`):
 *
 * 1. each email SAN, 2. each DNS SAN, 3. each URI SAN — looked up as a user name;
 * 4. the subject as an RFC 4514 DN (raw RDN order, reversed) compared with each user name parsed
 *    as a DN (`ldap.DN.Equal`, then `RDNsMatch` for reordered RDNs) — skipped when the subject
 *    has an attribute outside C, ST, L, STREET, POSTALCODE, O, OU, CN, SERIALNUMBER, DC;
 * 5. Go's `Subject.ToRDNSequence().String()` plus `,DC=…` when the subject has domain
 *    components; 6. the same string without them (e.g. `CN=example.com,OU=NATS.io`).
 *
 * Pure: a small DER reader over the leaf certificate, no crypto (the TLS layer verified the
 * chain). The caller passes the user names allowed for the connection's kind (the reference
 * skips users whose `allowed_connection_types` exclude it).
 *
 * @example
 * ```ts ignore
 * import { mapCertificateToUser } from "./tls_map.ts";
 *
 * const leaf = transport.peer.tls!.chainDer[0];
 * const m = mapCertificateToUser(leaf, ["CN=example.com,OU=NATS.io", "alice@example.com"]);
 * if (m) console.log(`authenticated as ${m.user} (via ${m.via})`);
 * ```
 *
 * @module
 */

// ---------------------------------------------------------------------------------------------
// DER

interface Tlv {
  tag: number;
  /** Start of the whole element. */
  start: number;
  /** Start and end of the contents. */
  body: number;
  end: number;
}

function readTlv(b: Uint8Array, pos: number, limit = b.length): Tlv {
  if (pos + 2 > limit) throw new Error("truncated DER");
  const tag = b[pos];
  if ((tag & 0x1f) === 0x1f) throw new Error("multi-byte DER tags are not supported");
  let len = b[pos + 1];
  let body = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || body + n > limit) throw new Error("bad DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[body + i];
    body += n;
  }
  const end = body + len;
  if (end > limit) throw new Error("truncated DER");
  return { tag, start: pos, body, end };
}

function children(b: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.body; p < t.end;) {
    const c = readTlv(b, p, t.end);
    out.push(c);
    p = c.end;
  }
  return out;
}

function oidString(b: Uint8Array, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let i = t.body; i < t.end; i++) {
    v = v * 128 + (b[i] & 0x7f);
    if ((b[i] & 0x80) === 0) {
      if (parts.length === 0) {
        const first = v < 40 ? 0 : v < 80 ? 1 : 2;
        parts.push(first, v - first * 40);
      } else parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8");

/** The string value of an attribute (what Go's asn1 yields as a `string`), else null. */
function stringValue(b: Uint8Array, t: Tlv): string | null {
  const raw = b.subarray(t.body, t.end);
  switch (t.tag) {
    case 0x0c: // UTF8String
      return utf8.decode(raw);
    case 0x13: // PrintableString
    case 0x16: // IA5String
    case 0x12: // NumericString
    case 0x14: // T61String (Go decodes it byte for byte)
      return latin1.decode(raw);
    case 0x1e: { // BMPString, UTF-16BE
      let s = "";
      for (let i = 0; i + 1 < raw.length; i += 2) {
        s += String.fromCharCode((raw[i] << 8) | raw[i + 1]);
      }
      return s;
    }
    default:
      return null;
  }
}

/** One attribute of a subject, in DER order. */
export interface SubjectAttribute {
  oid: string;
  /** null when the value is not a string type. */
  value: string | null;
}

/** What the mapping reads from a certificate. */
export interface CertificateNames {
  /** Subject RDNs in DER order; each RDN is a set of attributes (usually one). */
  subject: SubjectAttribute[][];
  emails: string[];
  dnsNames: string[];
  uris: string[];
}

const OID_SAN = "2.5.29.17";

/** Reads the subject and the email/DNS/URI SANs of a DER certificate. Throws on bad DER. */
export function certificateNames(der: Uint8Array): CertificateNames {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0];
  const f = children(der, tbs);
  let i = f[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  i += 3; // serialNumber, signature, issuer
  i += 1; // validity
  const subjectTlv = f[i];
  const subject: SubjectAttribute[][] = [];
  for (const rdn of children(der, subjectTlv)) {
    const set: SubjectAttribute[] = [];
    for (const atv of children(der, rdn)) {
      const [type, value] = children(der, atv);
      set.push({ oid: oidString(der, type), value: stringValue(der, value) });
    }
    subject.push(set);
  }
  const names: CertificateNames = { subject, emails: [], dnsNames: [], uris: [] };
  const ext = f.find((t) => t.tag === 0xa3);
  if (!ext) return names;
  for (const e of children(der, children(der, ext)[0])) {
    const parts = children(der, e);
    if (oidString(der, parts[0]) !== OID_SAN) continue;
    const octets = parts[parts.length - 1];
    const seq = readTlv(der, octets.body, octets.end);
    for (const gn of children(der, seq)) {
      const v = latin1.decode(der.subarray(gn.body, gn.end));
      if (gn.tag === 0x81) names.emails.push(v);
      else if (gn.tag === 0x82) names.dnsNames.push(v);
      else if (gn.tag === 0x86) names.uris.push(v);
    }
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Go's pkix.Name / RDNSequence strings

const OID = {
  C: "2.5.4.6",
  ST: "2.5.4.8",
  L: "2.5.4.7",
  STREET: "2.5.4.9",
  POSTALCODE: "2.5.4.17",
  O: "2.5.4.10",
  OU: "2.5.4.11",
  CN: "2.5.4.3",
  SERIALNUMBER: "2.5.4.5",
  DC: "0.9.2342.19200300.100.1.25",
} as const;

/** `ldap.attributeTypeNames` (nats-server internal/ldap): the pkix names plus DC. */
const LDAP_NAMES: ReadonlyMap<string, string> = new Map(
  Object.entries(OID).map(([name, oid]) => [oid, name]),
);

/** Go's `RDNSequence.String()` escaping of one value. */
function escapeValue(v: string): string {
  const bytes = new TextEncoder().encode(v).length;
  let out = "";
  let k = 0; // byte index, as Go's range over a string
  for (const c of v) {
    let esc = false;
    if (',+"\\<>;'.includes(c)) esc = true;
    else if (c === " ") esc = k === 0 || k === bytes - 1;
    else if (c === "#") esc = k === 0;
    out += esc ? "\\" + c : c;
    k += new TextEncoder().encode(c).length;
  }
  return out;
}

/**
 * `cert.Subject.ToRDNSequence().String()`: the subject rebuilt from pkix.Name's fields (C, ST, L,
 * STREET, POSTALCODE, O, OU, CN, SERIALNUMBER; one multi-valued RDN per kind, last CN/SERIAL
 * wins, other attributes dropped) and printed in reverse, `+` inside an RDN.
 */
export function goSubjectString(subject: readonly SubjectAttribute[][]): string {
  const lists = new Map<string, string[]>();
  for (const rdn of subject) {
    for (const a of rdn) {
      if (a.value === null) continue;
      const name = LDAP_NAMES.get(a.oid);
      if (!name || name === "DC") continue;
      if (name === "CN" || name === "SERIALNUMBER") lists.set(name, [a.value]);
      else lists.set(name, [...(lists.get(name) ?? []), a.value]);
    }
  }
  const order = ["C", "ST", "L", "STREET", "POSTALCODE", "O", "OU", "CN", "SERIALNUMBER"];
  const rdns: string[] = [];
  for (const name of order) {
    const vals = lists.get(name);
    if (vals && vals.length) rdns.push(vals.map((v) => `${name}=${escapeValue(v)}`).join("+"));
  }
  return rdns.reverse().join(",");
}

/** `getTLSAuthDCs`: `DC=a,DC=b` in DER order ("" when none). */
export function goDomainComponents(subject: readonly SubjectAttribute[][]): string {
  const dcs: string[] = [];
  for (const rdn of subject) {
    for (const a of rdn) if (a.oid === OID.DC && a.value !== null) dcs.push(`DC=${a.value}`);
  }
  return dcs.join(",");
}

// ---------------------------------------------------------------------------------------------
// RFC 4514 DNs (nats-server internal/ldap)

/** A DN: RDNs in string order, each a list of [type, value]. */
export type Dn = [string, string][][];

/** `ldap.FromRawCertSubject`: RDNs and their attributes reversed; null on an unknown type. */
export function dnFromSubject(subject: readonly SubjectAttribute[][]): Dn | null {
  const dn: Dn = [];
  for (let i = subject.length - 1; i >= 0; i--) {
    const rdn = subject[i];
    if (rdn.length === 0) continue;
    const attrs: [string, string][] = [];
    for (let j = rdn.length - 1; j >= 0; j--) {
      const name = LDAP_NAMES.get(rdn[j].oid);
      if (!name || rdn[j].value === null) return null;
      attrs.push([name, rdn[j].value!]);
    }
    dn.push(attrs);
  }
  return dn;
}

/** `ldap.ParseDN` (RFC 4514 with its quirks); null where it returns an error. */
export function parseDn(str: string): Dn | null {
  const dn: Dn = [];
  let rdn: [string, string][] = [];
  let buf: number[] = [];
  let type: string | null = null;
  let escaping = false;
  let trailing = 0;
  const bytes = new TextEncoder().encode(str);
  const take = () => {
    const s = new TextDecoder().decode(new Uint8Array(buf.slice(0, buf.length - trailing)));
    buf = [];
    trailing = 0;
    return s;
  };
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    const ch = String.fromCharCode(c);
    if (escaping) {
      trailing = 0;
      escaping = false;
      if (' "#+,;<=>\\'.includes(ch)) {
        buf.push(c);
        continue;
      }
      if (i + 1 >= bytes.length) return null;
      const hex = String.fromCharCode(c, bytes[i + 1]);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return null;
      buf.push(parseInt(hex, 16));
      i++;
    } else if (ch === "\\") {
      trailing = 0;
      escaping = true;
    } else if (ch === "=") {
      type = take();
      if (i + 1 < bytes.length && bytes[i + 1] === 0x23) return null; // "#" BER: unsupported
    } else if (ch === "," || ch === "+") {
      if (!type) return null;
      rdn.push([type, take()]);
      type = null;
      if (ch === ",") {
        dn.push(rdn);
        rdn = [];
      }
    } else if (ch === " " && buf.length === 0) {
      continue;
    } else {
      trailing = ch === " " ? trailing + 1 : 0;
      buf.push(c);
    }
  }
  if (buf.length > 0) {
    if (!type) return null;
    rdn.push([type, take()]);
    dn.push(rdn);
  }
  return dn;
}

function attrEqual(a: [string, string], b: [string, string]): boolean {
  return a[0].toLowerCase() === b[0].toLowerCase() && a[1] === b[1];
}

function hasAll(r: [string, string][], attrs: [string, string][]): boolean {
  return attrs.every((a) => r.some((m) => attrEqual(m, a)));
}

function rdnEqual(a: [string, string][], b: [string, string][]): boolean {
  return a.length === b.length && hasAll(a, b) && hasAll(b, a);
}

/** `DN.Equal`: same RDNs in the same order (attribute order inside an RDN ignored). */
export function dnEqual(a: Dn, b: Dn): boolean {
  return a.length === b.length && a.every((r, i) => rdnEqual(r, b[i]));
}

/** `DN.RDNsMatch`: the same RDNs in any order. */
export function dnRdnsMatch(a: Dn, b: Dn): boolean {
  return a.length === b.length && a.every((r) => b.some((o) => rdnEqual(r, o)));
}

// ---------------------------------------------------------------------------------------------
// The mapping

/** How the user was found. */
export type TlsMapVia = "email" | "dns" | "uri" | "dn" | "subject_dc" | "subject";

/** A successful mapping. */
export interface TlsMapMatch {
  user: string;
  via: TlsMapVia;
}

/**
 * The user a verified leaf certificate maps to, or null (`Authorization Violation`). `users`
 * are the configured user names allowed for this connection kind, in config order.
 */
export function mapCertificateToUser(
  leafDer: Uint8Array,
  users: Iterable<string>,
): TlsMapMatch | null {
  let names: CertificateNames;
  try {
    names = certificateNames(leafDer);
  } catch {
    return null;
  }
  return mapCertificateNames(names, users);
}

/** {@link mapCertificateToUser} on already extracted names. */
export function mapCertificateNames(
  names: CertificateNames,
  users: Iterable<string>,
): TlsMapMatch | null {
  const list = [...users];
  const known = new Set(list);
  const subject = goSubjectString(names.subject);
  // Go: `!hasEmailAddresses && !hasSubject && !hasURIs` → no mapping at all. Subject.String()
  // also shows attributes outside the named fields, so any attribute counts.
  const hasSubject = names.subject.some((r) => r.length > 0);
  if (names.emails.length === 0 && !hasSubject && names.uris.length === 0) return null;

  for (const e of names.emails) if (known.has(e)) return { user: e, via: "email" };
  for (const d of names.dnsNames) if (known.has(d)) return { user: d, via: "dns" };
  for (const u of names.uris) if (known.has(u)) return { user: u, via: "uri" };

  const certDn = dnFromSubject(names.subject);
  if (certDn) {
    const parsed: [string, Dn][] = [];
    for (const u of list) {
      const d = parseDn(u);
      if (!d) continue;
      if (dnEqual(d, certDn)) return { user: u, via: "dn" };
      parsed.push([u, d]);
    }
    for (const [u, d] of parsed) if (dnRdnsMatch(d, certDn)) return { user: u, via: "dn" };
  }

  const dcs = goDomainComponents(names.subject);
  if (dcs) {
    const withDcs = `${subject},${dcs}`;
    if (known.has(withDcs)) return { user: withDcs, via: "subject_dc" };
  }
  if (known.has(subject)) return { user: subject, via: "subject" };
  return null;
}
