/**
 * The `Nats-Request-Info` header value: the reference's ClientInfo struct as Go's json.Marshal
 * writes it (field order, omitempty, HTML-safe escapes).
 *
 * @module
 */

/** Header the reference adds to requests crossing a service import. */
export const CLIENT_INFO_HDR = "Nats-Request-Info";

/** JSON string as Go's encoding/json writes it (HTML-safe escapes). */
function goJsonString(s: string): string {
  return JSON.stringify(s).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** Field order and omitempty of the reference's ClientInfo struct. */
const CLIENT_INFO_FIELDS: [string, "str" | "num" | "any", boolean][] = [
  ["start", "any", true],
  ["host", "str", true],
  ["id", "num", true],
  ["acc", "str", false],
  ["svc", "str", true],
  ["user", "str", true],
  ["name", "str", true],
  ["lang", "str", true],
  ["ver", "str", true],
  ["rtt", "num", true],
  ["server", "str", true],
  ["cluster", "str", true],
  ["alts", "any", true],
  ["stop", "any", true],
  ["jwt", "str", true],
  ["issuer_key", "str", true],
  ["name_tag", "str", true],
  ["tags", "any", true],
  ["kind", "str", true],
  ["client_type", "str", true],
  ["client_id", "str", true],
];

/** Serializes a ClientInfo object like Go's json.Marshal of the struct. */
export function clientInfoJson(ci: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, kind, omit] of CLIENT_INFO_FIELDS) {
    const v = ci[k];
    if (kind === "str") {
      const s = typeof v === "string" ? v : "";
      if (omit && s === "") continue;
      parts.push(`"${k}":${goJsonString(s)}`);
    } else if (kind === "num") {
      const n = typeof v === "number" ? v : 0;
      if (omit && n === 0) continue;
      parts.push(`"${k}":${n}`);
    } else {
      if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) continue;
      parts.push(`"${k}":${JSON.stringify(v)}`);
    }
  }
  return `{${parts.join(",")}}`;
}
