/**
 * Accounts and the routes between them (reference: nats-server 2.9.10 `server/accounts.go`
 * AddStreamImport/AddMappedStreamImport/addServiceImport/addRespServiceImport/
 * removeRespServiceImport/checkForReverseEntry, and `server/client.go` processServiceImport,
 * processMsgResults' stream-import branch, setHeader).
 *
 * Every account has its own subject space (`sublist`). Exports and imports add routes, kept on
 * the account the message is published in (`links`; null when it has none, so an account
 * without imports costs one null check per message):
 *
 * - **Stream import** (B imports stream `foo` from A, `prefix: p` or `to: bar`): a message
 *   published in A on a subject matching the import is delivered to B's subscribers on the
 *   mapped subject (`p.foo`, `bar`, or a wildcard transform). The reference does this with
 *   "shadow" subscriptions that B's SUBs add to A's sublist; here A pushes to B's sublist at
 *   publish time, which gives the same deliveries (a stream import is never chained further,
 *   and messages that entered A through a service import are not re-exported).
 * - **Service import** (B imports service `svc` from A, local subject `to`, default `svc`):
 *   a request published in B on the local subject is delivered to A's subscribers on the
 *   exported subject, with a `Nats-Request-Info: {"acc":"B","rtt":N}` header added. When it has
 *   a reply subject, A gets a *response import*: the reply is replaced by a fresh
 *   `_R_.<6>.<6>` subject that routes back to B's original reply. Singleton responses (the
 *   default) are removed after one response; `stream`/`chunked` ones stay (an empty message
 *   ends them). All are removed when nothing was delivered, when B loses interest in the reply
 *   subject, or after the response threshold (2 minutes) without activity.
 *
 * A matched service import counts as a delivery for no-responders purposes (as the reference's
 * internal subscription does), even when the exporter has no responder.
 *
 * @module
 */
import { goQuote } from "../core/gofmt.ts";
import type { AccountConfig, ExportConfig } from "../auth/types.ts";
import { encoder, tokenString } from "../protocol/bytes.ts";
import type { Account, AccountLinks, ImportTrail, Origin } from "../protocol/context.ts";
import { deliverInAccount, deliverLocal } from "../protocol/deliver.ts";
import type { ClientSub, Subscriber } from "../protocol/subscription.ts";
import {
  isValidSubject,
  subjectHasWildcard as hasWildcard,
  subjectIsSubsetOf,
  subjectMatchesPattern,
} from "../core/subject.ts";
import { Sublist } from "../routing/sublist.ts";

/** How many responses a service export may send per request. */
export type ResponseType = "singleton" | "stream" | "chunked";

/** The reference's DEFAULT_SERVICE_EXPORT_RESPONSE_THRESHOLD. */
export const DEFAULT_RESPONSE_THRESHOLD_MS = 2 * 60 * 1000;

/** Header the reference adds to requests crossing a service import. */
export const CLIENT_INFO_HDR = "Nats-Request-Info";

const RESPONSE_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

// ---- subject helpers -------------------------------------------------------------------------

function tokens(s: string): string[] {
  return s.split(".");
}

/** Go's SubjectsCollide: whether two (wildcard) subjects can match a common literal subject. */
export function subjectsCollide(a: string, b: string): boolean {
  if (a === b) return true;
  const ta = tokens(a);
  const tb = tokens(b);
  const la = !hasWildcard(a);
  const lb = !hasWildcard(b);
  if (la && lb) return false;
  if (la) return subjectMatchesPattern(b, a);
  if (lb) return subjectMatchesPattern(a, b);
  const fa = ta[ta.length - 1] === ">";
  const fb = tb[tb.length - 1] === ">";
  if (!fa && !fb && ta.length !== tb.length) return false;
  if (ta.length < tb.length && !fa) return false;
  if (tb.length < ta.length && !fb) return false;
  const stop = Math.min(ta.length, tb.length);
  for (let i = 0; i < stop; i++) {
    const x = ta[i];
    const y = tb[i];
    if (x.length === 0 || y.length === 0) return false;
    const wild = x[0] === "*" || x[0] === ">" || y[0] === "*" || y[0] === ">";
    if (!wild && x !== y) return false;
  }
  return true;
}

/** Go's transformTokenize: each `*` token becomes `$1`, `$2`, ... */
function transformTokenize(s: string): string {
  let i = 1;
  return tokens(s).map((t) => (t === "*" ? `$${i++}` : t)).join(".");
}

/** Go's transformUntokenize: `$N` tokens become `*`; returns the placeholders in order. */
function transformUntokenize(s: string): [string, string[]] {
  const phs: string[] = [];
  const out = tokens(s).map((t) => {
    if (t.length > 1 && t[0] === "$" && t[1] >= "1" && t[1] <= "9") {
      phs.push(t);
      return "*";
    }
    return t;
  });
  return [out.join("."), phs];
}

const WILDCARD_FN = /^\{\{\s*[wW]ildcard\s*\((.*)\)\s*\}\}$/;

/**
 * A subject transform as imports use it (Go's newTransform/transform, limited to `$N`,
 * `{{wildcard(N)}}` placeholders and a trailing `>`). Throws with the reference's error text.
 */
export class Transform {
  readonly src: string;
  readonly dest: string;
  private readonly dtoks: string[];
  private readonly stoksLen: number;
  /** Per destination token: -1 literal, else the index of the source token to copy. */
  private readonly map: number[] | null;

  constructor(src: string, dest: string) {
    const si = subjectInfo(src);
    const di = subjectInfo(dest);
    if (!si || !di || di.pwcs > 0 || si.fwc !== di.fwc) throw new Error("invalid subject");
    this.src = src;
    this.dest = dest;
    this.dtoks = di.toks;
    this.stoksLen = si.toks.length;
    if (si.pwcs === 0 && !si.fwc) {
      this.map = null;
      return;
    }
    const sti = new Map<number, number>();
    si.toks.forEach((t, i) => {
      if (t === "*") sti.set(sti.size + 1, i);
    });
    const map: number[] = [];
    let placeholders = 0;
    for (const t of di.toks) {
      const idx = placeholderIndex(t);
      if (idx === null) {
        map.push(-1);
        continue;
      }
      placeholders++;
      if (idx > si.pwcs) {
        throw new Error(
          `invalid mapping destination: wildcard index out of range in ${t}: [${idx}]`,
        );
      }
      map.push(sti.get(idx) ?? 0);
    }
    if (placeholders < si.pwcs) {
      throw new Error(
        `invalid mapping destination: not using all of the token wildcard(s) in ${dest}`,
      );
    }
    this.map = map;
  }

  /** Maps a literal subject matched by `src`. */
  apply(subject: string): string {
    const map = this.map;
    if (map === null) return this.dest;
    const toks = tokens(subject);
    const out: string[] = [];
    for (let i = 0; i < map.length; i++) {
      const d = this.dtoks[i];
      if (map[i] === -1) {
        if (d === ">") break;
        out.push(d);
      } else out.push(toks[map[i]] ?? "");
    }
    if (this.dtoks[this.dtoks.length - 1] === ">") {
      for (let i = this.stoksLen - 1; i < toks.length; i++) out.push(toks[i]);
    }
    return out.join(".");
  }

  /** Go's transform.reverse (for service imports the transform is built backwards). */
  reverse(): Transform {
    if (this.map === null) return new Transform(this.dest, this.src);
    const [nsrc, phs] = transformUntokenize(this.dest);
    const nda = tokens(this.src).map((t) => (t === "*" ? phs.shift() ?? t : t));
    return new Transform(nsrc, nda.join("."));
  }
}

function subjectInfo(s: string): { toks: string[]; pwcs: number; fwc: boolean } | null {
  if (s === "") return null;
  const toks = tokens(s);
  let pwcs = 0;
  let fwc = false;
  for (const t of toks) {
    if (t.length === 0 || fwc) return null;
    if (t === ">") fwc = true;
    else if (t === "*") pwcs++;
  }
  return { toks, pwcs, fwc };
}

function placeholderIndex(t: string): number | null {
  if (t.length > 1 && t[0] === "$") {
    const n = Number(t.slice(1));
    return Number.isInteger(n) && /^[+-]?\d+$/.test(t.slice(1)) ? n : null;
  }
  const m = WILDCARD_FN.exec(t);
  if (m) {
    const n = Number(m[1].trim());
    if (!Number.isInteger(n)) {
      throw new Error(`invalid mapping destination: invalid argument in ${t}`);
    }
    return n;
  }
  if (t.startsWith("{{") && t.endsWith("}}")) {
    throw new Error(`invalid mapping destination: mapping function not supported here in ${t}`);
  }
  return null;
}

// ---- headers ---------------------------------------------------------------------------------

const HDR_LINE = encoder.encode("NATS/1.0\r\n");
const EMPTY_HDR_LEN = "NATS/1.0\r\n\r\n".length;

function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

const CRLF = encoder.encode("\r\n");

/** Go's removeHeaderIfPresent (first occurrence only, as the reference). */
function removeHeaderIfPresent(hdr: Uint8Array, key: Uint8Array): Uint8Array | null {
  const start = indexOf(hdr, key);
  if (start < 1 || hdr[start - 1] !== 10) return hdr;
  const index = start + key.length;
  if (index >= hdr.length || hdr[index] !== 58) return hdr;
  const end = indexOf(hdr, CRLF, start);
  if (end < 0) return hdr;
  const out = new Uint8Array(hdr.length - (end + 2 - start));
  out.set(hdr.subarray(0, start));
  out.set(hdr.subarray(end + 2), start);
  return out.length <= EMPTY_HDR_LEN ? null : out;
}

/** Go's getHeader: the value of `key` in a header block, or null. */
export function getHeader(key: string, hdr: Uint8Array): string | null {
  const k = encoder.encode(key);
  let index = indexOf(hdr, k);
  if (index < 2 || hdr[index - 1] !== 10 || hdr[index - 2] !== 13) return null;
  index += k.length;
  if (index >= hdr.length || hdr[index] !== 58) return null;
  index++;
  while (index < hdr.length && hdr[index] === 32) index++;
  let end = index;
  while (end < hdr.length && !(hdr[end] === 13 && hdr[end + 1] === 10)) end++;
  return new TextDecoder().decode(hdr.subarray(index, end));
}

/**
 * Go's client.setHeader: replaces `key` in the message's header block (adding one when there
 * is none). Returns the new message and header length.
 */
export function setHeader(
  key: string,
  value: string,
  msg: Uint8Array,
  hdrLen: number,
): { msg: Uint8Array; hdrLen: number } {
  let base: Uint8Array = HDR_LINE;
  let omi = 0;
  if (hdrLen > 2) {
    omi = hdrLen;
    const h = removeHeaderIfPresent(msg.subarray(0, hdrLen - 2), encoder.encode(key));
    if (h !== null && h.length > 0) base = h;
  }
  const line = encoder.encode(`${key}: ${value.replace(/[\r\n]/g, " ")}\r\n\r\n`);
  const rest = msg.subarray(omi);
  const out = new Uint8Array(base.length + line.length + rest.length);
  out.set(base);
  out.set(line, base.length);
  out.set(rest, base.length + line.length);
  return { msg: out, hdrLen: base.length + line.length };
}

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

// ---- accounts --------------------------------------------------------------------------------

/** An account of the server: its subject space and its cross-account links. */
export class ServerAccount implements Account {
  readonly name: string;
  readonly sublist: Sublist<ClientSub> = new Sublist<ClientSub>();
  links: Links | null = null;
  /** Creation time (epoch ms), monitoring's `update_time`. */
  readonly createdAt = Date.now();

  constructor(name: string) {
    this.name = name;
  }
}

/** A service export of an account. */
interface ServiceExport {
  readonly subject: string;
  approved: Set<string> | null;
  responseType: ResponseType;
}

/** A stream route: messages on `subject` in the exporting account go to `importer`. */
interface StreamRoute {
  /** The exported subject pattern (sublist key). */
  readonly subject: string;
  readonly importer: ServerAccount;
  /** Literal delivery subject when there is no transform and `usePub` is false. */
  readonly to: string;
  readonly toBytes: Uint8Array;
  readonly tr: Transform | null;
  readonly usePub: boolean;
}

/**
 * A service import (keyed by its local subject `from` in the importing account's links), or a
 * response import (keyed by its `_R_` subject in the responder's account).
 */
class ServiceImport {
  /** Sublist key: the local subject. */
  readonly subject: string;
  /** Where matching messages go: the exporter, or for a response the requester's account. */
  readonly acc: ServerAccount;
  readonly from: string;
  readonly to: string;
  readonly tr: Transform | null;
  readonly usePub: boolean;
  readonly rt: ResponseType;
  readonly se: ServiceExport | null;
  readonly response: boolean;
  /** Last activity (performance.now()), for the response threshold. */
  ts = 0;
  /** `from` as bytes (response imports: the reply the exporter sees). */
  readonly fromBytes: Uint8Array;

  constructor(
    acc: ServerAccount,
    from: string,
    to: string,
    tr: Transform | null,
    usePub: boolean,
    rt: ResponseType,
    se: ServiceExport | null,
    response: boolean,
  ) {
    this.subject = from;
    this.acc = acc;
    this.from = from;
    this.to = to;
    this.tr = tr;
    this.usePub = usePub;
    this.rt = rt;
    this.se = se;
    this.response = response;
    this.fromBytes = encoder.encode(from);
  }
}

/** The service imports a message went through (cycle detection and the `svc` field). */
interface Trail extends ImportTrail {
  readonly chain: readonly ServiceImport[];
}

/** What a registry needs besides the account configs. */
export interface AccountRegistryOptions {
  /** Response import expiry (default {@link DEFAULT_RESPONSE_THRESHOLD_MS}). */
  responseThresholdMs?: number;
  /** Clock in ms (default performance.now). */
  now?: () => number;
}

/** The cross-account state of one account. */
export class Links implements AccountLinks {
  readonly owner: ServerAccount;
  private readonly reg: AccountRegistry;
  /** This account's stream exports, with the accounts importing them. */
  streamExports = new Map<string, Set<string> | null>();
  serviceExports = new Map<string, ServiceExport>();
  /** Routes for messages published here to importers (keyed by exported subject). */
  streams: Sublist<StreamRoute> | null = null;
  /** This account's stream imports (cycle and duplicate checks). */
  streamImports: { acc: ServerAccount; from: string; to: string }[] = [];
  /** This account's service imports, by local subject. */
  services: Sublist<ServiceImport> | null = null;
  serviceImports = new Map<string, ServiceImport>();
  /** Response imports: `_R_` subject → route back to the requester. */
  readonly responses = new Map<string, ServiceImport>();
  /** `_R_.xxxxxx.` once this account has answered a request through an import. */
  respPrefix: string | null = null;
  /** Reply subjects of this account waiting for responses: reply → [(responder acc, _R_)]. */
  readonly reverse = new Map<string, { acc: ServerAccount; msub: string }[]>();
  private sweepTimer?: ReturnType<typeof setTimeout>;

  constructor(owner: ServerAccount, reg: AccountRegistry) {
    this.owner = owner;
    this.reg = reg;
  }

  // ---- delivery (AccountLinks) ---------------------------------------------------------------

  forward(
    _account: Account,
    skip: Subscriber | null,
    subject: string,
    subjectB: Uint8Array,
    reply: Uint8Array | null,
    hdrLen: number,
    sizeTok: Uint8Array,
    msg: Uint8Array,
    origin: Origin,
    trail: ImportTrail | null,
  ): number {
    const t = trail as Trail | null;
    let n = 0;
    const pre = this.respPrefix;
    if (pre !== null && subject.length > pre.length && subject.startsWith(pre)) {
      n++; // the reference's `_R_.xxxxxx.>` internal subscription
      const rsi = this.responses.get(subject);
      if (rsi !== undefined) {
        this.processServiceImport(rsi, skip, subject, reply, hdrLen, sizeTok, msg, origin, t);
      }
    }
    if (this.services !== null) {
      const matched = this.services.match(subject).plain;
      for (let i = 0; i < matched.length; i++) {
        n++;
        this.processServiceImport(
          matched[i],
          skip,
          subject,
          reply,
          hdrLen,
          sizeTok,
          msg,
          origin,
          t,
        );
      }
    }
    // A message a service import brought in is not re-exported to stream importers.
    if (this.streams !== null && (t === null || !t.fromService)) {
      const routes = this.streams.match(subject).plain;
      for (let i = 0; i < routes.length; i++) {
        const r = routes[i];
        let dsubj = r.to;
        let bytes: Uint8Array = r.toBytes;
        if (r.tr !== null) {
          dsubj = r.tr.apply(subject);
          bytes = encoder.encode(dsubj);
        } else if (r.usePub) {
          dsubj = subject;
          bytes = subjectB;
        }
        n += deliverLocal(r.importer, skip, dsubj, bytes, reply, hdrLen, sizeTok, msg);
      }
    }
    return n;
  }

  interestLost(_account: Account, subject: string): void {
    if (this.reverse.size === 0) return;
    if (hasWildcard(subject)) {
      for (const k of [...this.reverse.keys()]) {
        if (subjectIsSubsetOf(k, subject)) this.checkReverse(k);
      }
    } else this.checkReverse(subject);
  }

  /** checkForReverseEntry(reply, nil, true): no interest left → drop its pending responses. */
  private checkReverse(reply: string): void {
    const entries = this.reverse.get(reply);
    if (entries === undefined) return;
    const r = this.owner.sublist.match(reply);
    if (r.plain.length + r.queues.length > 0) return;
    this.reverse.delete(reply);
    for (const e of entries) e.acc.links?.responses.delete(e.msub);
  }

  /** The reference's client.processServiceImport. */
  private processServiceImport(
    si: ServiceImport,
    skip: Subscriber | null,
    subject: string,
    reply: Uint8Array | null,
    hdrLen: number,
    sizeTok: Uint8Array,
    msg: Uint8Array,
    origin: Origin,
    trail: Trail | null,
  ): void {
    if (trail !== null) {
      for (let i = trail.chain.length - 1; i >= 0; i--) if (trail.chain[i].se === si.se) return;
    }
    const isResponse = si.response;
    let nrr: Uint8Array | null = null;
    let rsi: ServiceImport | null = null;
    if (reply !== null) {
      const replyText = tokenString(reply);
      if (!replyText.startsWith("$JS.ACK.")) {
        rsi = this.reg.linksOf(si.acc).addRespServiceImport(this.owner, replyText, si);
        nrr = rsi.fromBytes;
      } else nrr = reply;
    }
    const to = si.tr !== null ? si.tr.apply(subject) : si.usePub ? subject : si.to;
    let m = msg;
    let h = hdrLen;
    if (!isResponse) {
      let ci: Record<string, unknown> | null = null;
      if (trail !== null && trail.chain.length > 0 && hdrLen >= 0) {
        const raw = getHeader(CLIENT_INFO_HDR, msg.subarray(0, hdrLen));
        try {
          const parsed = raw === null ? null : JSON.parse(raw);
          if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
            ci = parsed as Record<string, unknown>;
            ci.svc = this.owner.name;
          }
        } catch { /* the reference leaves the header as it is */ }
      } else {
        ci = { acc: origin.account.name, rtt: origin.rttNs };
      }
      if (ci !== null) {
        ({ msg: m, hdrLen: h } = setHeader(CLIENT_INFO_HDR, clientInfoJson(ci), m, h));
      }
    }
    const next: Trail = {
      fromService: true,
      chain: trail === null ? [si] : [...trail.chain, si],
    };
    const delivered = deliverInAccount(si.acc, skip, to, null, nrr, h, sizeTok, m, origin, next);
    const shouldRemove = delivered === 0 ||
      (isResponse && (si.rt === "singleton" || m.length === 0));
    if (si.rt !== "singleton" && delivered > 0) si.ts = this.reg.now();
    if (!shouldRemove) return;
    if (isResponse) this.removeRespServiceImport(si);
    else if (rsi !== null) this.reg.linksOf(si.acc).removeRespServiceImport(rsi);
  }

  // ---- response imports ----------------------------------------------------------------------

  /** addRespServiceImport: this account (the exporter) answers `dest`'s request on `to`. */
  addRespServiceImport(dest: ServerAccount, to: string, osi: ServiceImport): ServiceImport {
    const nrr = this.newServiceReply();
    const rsi = new ServiceImport(dest, nrr, to, null, false, osi.rt, osi.se, true);
    rsi.ts = this.reg.now();
    this.responses.set(nrr, rsi);
    this.scheduleSweep();
    const back = this.reg.linksOf(dest);
    const list = back.reverse.get(to);
    if (list) list.push({ acc: this.owner, msub: nrr });
    else back.reverse.set(to, [{ acc: this.owner, msub: nrr }]);
    return rsi;
  }

  /** removeRespServiceImport. */
  removeRespServiceImport(rsi: ServiceImport): void {
    this.responses.delete(rsi.from);
    const back = rsi.acc.links;
    const list = back?.reverse.get(rsi.to);
    if (!back || !list) return;
    const i = list.findIndex((e) => e.msub === rsi.from);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) back.reverse.delete(rsi.to);
  }

  private newServiceReply(): string {
    if (this.respPrefix === null) this.respPrefix = `_R_.${randomDigits(6)}.`;
    return this.respPrefix + randomDigits(6);
  }

  private scheduleSweep(): void {
    if (this.sweepTimer !== undefined) return;
    const ms = this.reg.responseThresholdMs;
    const timer = setTimeout(() => {
      this.sweepTimer = undefined;
      const min = this.reg.now() - ms;
      for (const rsi of [...this.responses.values()]) {
        if (rsi.ts <= min) this.removeRespServiceImport(rsi);
      }
      if (this.responses.size > 0) this.scheduleSweep();
    }, ms);
    this.sweepTimer = timer;
    Deno.unrefTimer(timer);
  }

  /** Stops the response sweep timer. */
  close(): void {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  // ---- configuration -------------------------------------------------------------------------

  addStreamExport(subject: string, accounts: string[] | undefined): void {
    const prev = this.streamExports.get(subject);
    if (accounts === undefined) {
      if (!this.streamExports.has(subject)) this.streamExports.set(subject, null);
      return;
    }
    const set = prev ?? new Set<string>();
    for (const a of accounts) set.add(a);
    this.streamExports.set(subject, set);
  }

  addServiceExport(subject: string, accounts: string[] | undefined, rt?: ResponseType): void {
    let se = this.serviceExports.get(subject);
    if (!se) {
      se = { subject, approved: null, responseType: "singleton" };
      this.serviceExports.set(subject, se);
    }
    if (rt && rt !== "singleton") se.responseType = rt;
    if (accounts !== undefined) {
      se.approved ??= new Set<string>();
      for (const a of accounts) se.approved.add(a);
    }
  }

  /** checkStreamExportApproved / checkServiceExportApproved. */
  approved(importer: string, subject: string, stream: boolean): boolean {
    if (!isValidSubject(subject)) return false;
    const check = (acl: Set<string> | null) => acl === null || acl.has(importer);
    if (stream) {
      if (this.streamExports.size === 0) return false;
      if (this.streamExports.has(subject)) return check(this.streamExports.get(subject)!);
      for (const [s, acl] of this.streamExports) {
        if (subjectIsSubsetOf(subject, s)) return check(acl);
      }
      return false;
    }
    const se = this.serviceExports.get(subject);
    if (se) return check(se.approved);
    for (const [s, x] of this.serviceExports) {
      if (subjectIsSubsetOf(subject, s)) return check(x.approved);
    }
    return false;
  }

  /** getServiceExport: exact, then the first wildcard export covering `subject`. */
  serviceExport(subject: string): ServiceExport | null {
    const se = this.serviceExports.get(subject);
    if (se) return se;
    for (const [s, x] of this.serviceExports) if (subjectIsSubsetOf(subject, s)) return x;
    return null;
  }

  private hasStreamExportMatching(to: string): boolean {
    for (const s of this.streamExports.keys()) if (subjectIsSubsetOf(to, s)) return true;
    return false;
  }

  /** checkStreamImportsForCycles. */
  streamCycle(to: string, visited: Set<string>): boolean {
    if (visited.size >= 1024) return true;
    if (!this.hasStreamExportMatching(to)) return false;
    for (const si of this.streamImports) {
      if (!subjectsCollide(to, si.to)) continue;
      if (visited.has(si.acc.name)) return true;
      visited.add(this.owner.name);
      if (subjectIsSubsetOf(si.to, to)) to = si.to;
      if (this.reg.linksOf(si.acc).streamCycle(to, visited)) return true;
    }
    return false;
  }

  /** checkServiceImportsForCycles. */
  serviceCycle(from: string, visited: Set<string>): boolean {
    if (visited.size >= 1024) return true;
    for (const si of this.serviceImports.values()) {
      if (!subjectsCollide(from, si.to)) continue;
      if (visited.has(si.acc.name)) return true;
      visited.add(this.owner.name);
      if (subjectIsSubsetOf(si.from, from)) from = si.from;
      if (this.reg.linksOf(si.acc).serviceCycle(from, visited)) return true;
    }
    return false;
  }

  addStreamRoute(route: StreamRoute): void {
    (this.streams ??= new Sublist<StreamRoute>()).insert(route);
  }

  addServiceImport(si: ServiceImport): void {
    this.serviceImports.set(si.from, si);
    (this.services ??= new Sublist<ServiceImport>()).insert(si);
  }
}

function randomDigits(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let s = "";
  for (let i = 0; i < n; i++) s += RESPONSE_DIGITS[bytes[i] % 62];
  return s;
}

/**
 * All accounts of a server. Configured accounts (with their exports and imports) are built
 * up front; others (`$G`, or names only known at runtime) are created on first use.
 * `errors` holds the reference's startup errors for imports that cannot be added.
 */
export class AccountRegistry {
  readonly responseThresholdMs: number;
  readonly now: () => number;
  readonly errors: string[] = [];
  private readonly accounts = new Map<string, ServerAccount>();

  constructor(configs: readonly AccountConfig[] = [], options: AccountRegistryOptions = {}) {
    this.responseThresholdMs = options.responseThresholdMs ?? DEFAULT_RESPONSE_THRESHOLD_MS;
    this.now = options.now ?? (() => performance.now());
    for (const c of configs) this.get(c.name);
    this.build(configs);
  }

  /** The account named `name`, created when new. */
  get(name: string): ServerAccount {
    let a = this.accounts.get(name);
    if (!a) {
      a = new ServerAccount(name);
      this.accounts.set(name, a);
    }
    return a;
  }

  /** The account named `name` when it exists (never creates one). */
  find(name: string): ServerAccount | undefined {
    return this.accounts.get(name);
  }

  /** Every account created so far. */
  all(): IterableIterator<ServerAccount> {
    return this.accounts.values();
  }

  /** The links of `acc`, created when it has none yet. */
  linksOf(acc: ServerAccount): Links {
    return acc.links ??= new Links(acc, this);
  }

  /** Stops timers. */
  close(): void {
    for (const a of this.accounts.values()) a.links?.close();
  }

  /** parseAccounts' second half: exports, then stream imports, then service imports. */
  private build(configs: readonly AccountConfig[]): void {
    const known = new Set(configs.map((c) => c.name));
    for (const c of configs) {
      for (const x of c.exports) this.addExport(this.get(c.name), x);
    }
    for (const c of configs) {
      const acc = this.get(c.name);
      for (const im of c.imports) {
        if (!im.stream) continue;
        const { account, subject } = im.stream;
        if (!known.has(account)) {
          this.errors.push(`${goQuote(account)} account not defined for stream import`);
          continue;
        }
        const err = this.addStreamImport(acc, this.get(account), subject, im.prefix, im.to);
        if (err) this.errors.push(`Error adding stream import ${goQuote(subject)}: ${err}`);
      }
    }
    for (const c of configs) {
      const acc = this.get(c.name);
      for (const im of c.imports) {
        if (!im.service) continue;
        const { account, subject } = im.service;
        if (!known.has(account)) {
          this.errors.push(`${goQuote(account)} account not defined for service import`);
          continue;
        }
        const err = this.addServiceImport(acc, this.get(account), im.to || subject, subject);
        if (err) this.errors.push(`Error adding service import ${goQuote(subject)}: ${err}`);
      }
    }
  }

  private addExport(acc: ServerAccount, x: ExportConfig): void {
    const links = this.linksOf(acc);
    if (x.stream !== undefined) links.addStreamExport(x.stream, x.accounts);
    else if (x.service !== undefined) {
      links.addServiceExport(x.service, x.accounts, x.responseType);
    }
  }

  /** AddStreamImport / AddMappedStreamImport; returns the error text or null. */
  addStreamImport(
    acc: ServerAccount,
    from: ServerAccount,
    subject: string,
    prefix?: string,
    to?: string,
  ): string | null {
    const exporter = this.linksOf(from);
    if (!exporter.approved(acc.name, subject, true)) return "stream import not authorized";
    let target = to || subject;
    if (prefix) {
      if (hasWildcard(prefix)) return "stream import prefix can not contain wildcard tokens";
      target = (prefix.endsWith(".") ? prefix : `${prefix}.`) + subject;
    }
    const links = this.linksOf(acc);
    if (exporter.streamCycle(target, new Set([acc.name]))) return "import forms a cycle";
    let tr: Transform | null = null;
    let usePub = false;
    if (hasWildcard(subject)) {
      if (target === subject) usePub = true;
      else {
        try {
          tr = new Transform(subject, transformTokenize(target));
        } catch (e) {
          return `failed to create mapping transform for stream import subject ${
            goQuote(subject)
          } to ${goQuote(target)}: ${(e as Error).message}`;
        }
        target = transformUntokenize(target)[0];
      }
    }
    if (links.streamImports.some((s) => s.acc === from && s.from === subject)) {
      return "stream import already exists";
    }
    links.streamImports.push({ acc: from, from: subject, to: target });
    exporter.addStreamRoute({
      subject,
      importer: acc,
      to: target,
      toBytes: encoder.encode(target),
      tr,
      usePub,
    });
    return null;
  }

  /**
   * addServiceImportWithClaim: requests on `localFrom` in `acc` go to `exported` in `dest`.
   * Returns the error text or null.
   */
  addServiceImport(
    acc: ServerAccount,
    dest: ServerAccount,
    localFrom: string,
    exported: string,
  ): string | null {
    let from = localFrom;
    let to = exported;
    if (!isValidSubject(from) || !isValidSubject(to)) return "sublist: invalid subject";
    const exporter = this.linksOf(dest);
    if (!exporter.approved(acc.name, to, false)) return "service import not authorized";
    if (exporter.serviceCycle(from, new Set([acc.name]))) return "import forms a cycle";
    const links = this.linksOf(acc);
    const se = exporter.serviceExport(to);
    const dup = links.serviceImports.get(from);
    if (dup) {
      return `duplicate service import subject ${
        goQuote(from)
      }, previously used in import for account ${goQuote(dup.acc.name)}, subject ${
        goQuote(dup.to)
      }`;
    }
    let tr: Transform | null = null;
    let usePub = false;
    if (hasWildcard(to)) {
      if (to === from) usePub = true;
      else {
        to = transformUntokenize(to)[0];
        try {
          tr = new Transform(to, transformTokenize(from));
        } catch (e) {
          return `failed to create mapping transform for service import subject ${
            goQuote(from)
          } to ${goQuote(to)}: ${(e as Error).message}`;
        }
        from = transformUntokenize(from)[0];
        tr = tr.reverse();
      }
    }
    links.addServiceImport(
      new ServiceImport(dest, from, to, tr, usePub, se?.responseType ?? "singleton", se, false),
    );
    return null;
  }
}
