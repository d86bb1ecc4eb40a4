/**
 * How nats-server's monitoring renders values, re-implemented: `json.MarshalIndent` (two-space
 * indent, `<`, `>`, `&`, U+2028/U+2029 escaped), `time.Time` as RFC 3339 with nanoseconds,
 * `myUptime` durations, RTT as `time.Duration.String()`, and the `strconv` errors of the query
 * parameter decoders (`decodeBool`, `decodeInt`, `decodeUint64`, `decodeState`).
 *
 * @module
 */
import { formatGoDuration, goQuote, parseGoInt } from "../core/gofmt.ts";

const HTML_UNSAFE = /[<>&\u2028\u2029]/g;

function escapeHtml(json: string): string {
  return json.replace(HTML_UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * `json.MarshalIndent(v, "", "  ")`. Properties whose value is `undefined` are left out (how
 * this module spells `omitempty`); key order is insertion order, as Go's struct field order.
 */
export function marshalIndent(v: unknown): string {
  return escapeHtml(JSON.stringify(v, null, 2));
}

/** `json.Marshal(v)` (compact). */
export function marshal(v: unknown): string {
  return escapeHtml(JSON.stringify(v));
}

/** A Go `map[string]T` as JSON sees it: keys sorted. */
export function sortedMap<T>(entries: Iterable<[string, T]>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) out[k] = v;
  return out;
}

/** Wall-clock now in epoch milliseconds with sub-millisecond precision. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** A `performance.now()` timestamp as epoch milliseconds. */
export function perfToEpochMs(perf: number): number {
  return performance.timeOrigin + perf;
}

/** A `time.Time` in UTC as Go's JSON writes it (RFC 3339, fraction up to ns, zeros trimmed). */
export function rfc3339(epochMs: number): string {
  const wholeMs = Math.floor(epochMs);
  const d = new Date(wholeMs);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const ns = (wholeMs % 1000) * 1_000_000 + Math.round((epochMs - wholeMs) * 1_000_000);
  const frac = ns > 0
    ? "." + String(Math.min(ns, 999_999_999)).padStart(9, "0").replace(/0+$/, "")
    : "";
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${
    p(d.getUTCHours())
  }:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${frac}Z`;
}

/** The reference's `myUptime`: whole seconds as `1y2d3h4m5s`, leading zero units dropped. */
export function uptime(ms: number): string {
  const tsecs = Math.max(0, Math.floor(ms / 1000));
  const tmins = Math.floor(tsecs / 60);
  const thrs = Math.floor(tmins / 60);
  const tdays = Math.floor(thrs / 24);
  const tyrs = Math.floor(tdays / 365);
  if (tyrs > 0) return `${tyrs}y${tdays % 365}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (tdays > 0) return `${tdays}d${thrs % 24}h${tmins % 60}m${tsecs % 60}s`;
  if (thrs > 0) return `${thrs}h${tmins % 60}m${tsecs % 60}s`;
  if (tmins > 0) return `${tmins}m${tsecs % 60}s`;
  return `${tsecs}s`;
}

/** `client.getRTT().String()`: microsecond precision between 1µs and 1ms, else nanoseconds. */
export function rttString(ns: number): string {
  let v = Math.max(0, Math.round(ns));
  if (v > 1000 && v < 1_000_000) v -= v % 1000;
  return formatGoDuration(BigInt(v));
}

/** A query parameter that does not decode: answered with 400 and this text. */
export class BadRequest extends Error {}

const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);
const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);
const MAX_UINT64 = (1n << 64n) - 1n;

/** `decodeBool`: empty is false; otherwise `strconv.ParseBool`. */
export function decodeBool(q: URLSearchParams, param: string): boolean {
  const s = q.get(param) ?? "";
  if (s === "") return false;
  if (GO_TRUE.has(s)) return true;
  if (GO_FALSE.has(s)) return false;
  throw new BadRequest(
    `Error decoding boolean for '${param}': strconv.ParseBool: parsing ${
      goQuote(s)
    }: invalid syntax`,
  );
}

/** `decodeInt`: empty is 0; otherwise `strconv.Atoi`. */
export function decodeInt(q: URLSearchParams, param: string): number {
  const s = q.get(param) ?? "";
  if (s === "") return 0;
  const fail = (why: string): never => {
    throw new BadRequest(
      `Error decoding int for '${param}': strconv.Atoi: parsing ${goQuote(s)}: ${why}`,
    );
  };
  const v = parseGoInt(s);
  return typeof v === "number" ? v : fail(v);
}

/** `decodeUint64`: empty is 0; otherwise `strconv.ParseUint(s, 10, 64)`. */
export function decodeUint64(q: URLSearchParams, param: string): number {
  const s = q.get(param) ?? "";
  if (s === "") return 0;
  const fail = (why: string): never => {
    throw new BadRequest(
      `Error decoding uint64 for '${param}': strconv.ParseUint: parsing ${goQuote(s)}: ${why}`,
    );
  };
  if (!/^[0-9]+$/.test(s)) return fail("invalid syntax");
  if (BigInt(s) > MAX_UINT64) return fail("value out of range");
  return Number(s);
}

/** Connection states of `/connz?state=`. */
export type ConnState = "open" | "closed" | "all";

/** `decodeState`: open (default), closed, any/all, case-insensitive. */
export function decodeState(q: URLSearchParams): ConnState {
  const s = q.get("state") ?? "";
  switch (s.toLowerCase()) {
    case "":
    case "open":
      return "open";
    case "closed":
      return "closed";
    case "any":
    case "all":
      return "all";
  }
  throw new BadRequest(`Error decoding state for ${s}`);
}

/** `decodeSubs`: `subs=detail` (any case) asks for details, otherwise a boolean. */
export function decodeSubs(q: URLSearchParams): { subs: boolean; detail: boolean } {
  if ((q.get("subs") ?? "").toLowerCase() === "detail") return { subs: false, detail: true };
  return { subs: decodeBool(q, "subs"), detail: false };
}
