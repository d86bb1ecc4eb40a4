/**
 * The cross-account state of one account (reference: nats-server 2.9.10 `server/accounts.go`
 * AddStreamImport/AddMappedStreamImport/addServiceImport/addRespServiceImport/
 * removeRespServiceImport/checkForReverseEntry, and `server/client.go` processServiceImport,
 * processMsgResults' stream-import branch).
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
import { isValidSubject, subjectIsSubsetOf } from "../core/subject.ts";
import { type CrossAccountRoutes, deliverInAccount, deliverLocal } from "../routing/deliver.ts";
import type { ImportTrail, Message } from "../routing/message.ts";
import { importAuthorized } from "../core/import_auth.ts";
import { Sublist } from "../routing/sublist.ts";
import type { Subscriber } from "../routing/subscription.ts";
import type { Account } from "./account.ts";
import { CLIENT_INFO_HDR, clientInfoJson } from "./client_info.ts";
import { getHeader, setHeader } from "./headers.ts";
import { hasWildcard, subjectsCollide, type Transform } from "./transform.ts";

/** How many responses a service export may send per request. */
export type ResponseType = "singleton" | "stream" | "chunked";

const SUBJECT_RULES = { isValidSubject, subjectIsSubsetOf };
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const RESPONSE_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** What links need from the registry that owns them. */
export interface LinkContext {
  /** The links of `acc`, created when it has none yet. */
  linksOf(acc: Account): Links;
  /** Clock in ms. */
  now(): number;
  /** Response import expiry. */
  readonly responseThresholdMs: number;
}

/** The links of `acc` when it has any (never creates them). */
export function existingLinks(acc: Account): Links | null {
  return acc.links instanceof Links ? acc.links : null;
}

/** A service export of an account. */
export interface ServiceExport {
  readonly subject: string;
  approved: Set<string> | null;
  responseType: ResponseType;
}

/** A stream route: messages on `subject` in the exporting account go to `importer`. */
export interface StreamRoute {
  /** The exported subject pattern (sublist key). */
  readonly subject: string;
  readonly importer: Account;
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
export class ServiceImport {
  /** Sublist key: the local subject. */
  readonly subject: string;
  /** Where matching messages go: the exporter, or for a response the requester's account. */
  readonly acc: Account;
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
    acc: Account,
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

/** The cross-account state of one account. */
export class Links implements CrossAccountRoutes {
  readonly owner: Account;
  private readonly reg: LinkContext;
  /** This account's stream exports, with the accounts importing them. */
  streamExports = new Map<string, Set<string> | null>();
  serviceExports = new Map<string, ServiceExport>();
  /** The approvals of `serviceExports`, as the authorisation check reads them. */
  serviceApprovals = new Map<string, Set<string> | null>();
  /** Routes for messages published here to importers (keyed by exported subject). */
  streams: Sublist<StreamRoute> | null = null;
  /** The routes in `streams` (to find an importer's routes again). */
  private streamRoutes: StreamRoute[] = [];
  /** This account's stream imports (cycle and duplicate checks). */
  streamImports: { acc: Account; from: string; to: string }[] = [];
  /** This account's service imports, by local subject. */
  services: Sublist<ServiceImport> | null = null;
  serviceImports = new Map<string, ServiceImport>();
  /** Response imports: `_R_` subject → route back to the requester. */
  readonly responses = new Map<string, ServiceImport>();
  /** `_R_.xxxxxx.` once this account has answered a request through an import. */
  respPrefix: string | null = null;
  /** Reply subjects of this account waiting for responses: reply → [(responder acc, _R_)]. */
  readonly reverse = new Map<string, { acc: Account; msub: string }[]>();
  private sweepTimer?: ReturnType<typeof setTimeout>;

  constructor(owner: Account, reg: LinkContext) {
    this.owner = owner;
    this.reg = reg;
  }

  // ---- delivery (AccountLinks) ---------------------------------------------------------------

  forward(msg: Message, skip: Subscriber | null): number {
    const subject = msg.subject;
    let n = 0;
    const pre = this.respPrefix;
    if (pre !== null && subject.length > pre.length && subject.startsWith(pre)) {
      n++; // the reference's `_R_.xxxxxx.>` internal subscription
      const rsi = this.responses.get(subject);
      if (rsi !== undefined) this.processServiceImport(rsi, msg, skip);
    }
    if (this.services !== null) {
      const matched = this.services.match(subject).plain;
      for (let i = 0; i < matched.length; i++) {
        n++;
        this.processServiceImport(matched[i], msg, skip);
      }
    }
    // A message a service import brought in is not re-exported to stream importers.
    if (this.streams !== null && (msg.trail === null || !msg.trail.fromService)) {
      const routes = this.streams.match(subject).plain;
      for (let i = 0; i < routes.length; i++) {
        const r = routes[i];
        let routed: Message;
        if (r.tr !== null) {
          const to = r.tr.apply(subject);
          routed = msg.with({ subject: to, subjectBytes: encoder.encode(to) });
        } else if (r.usePub) routed = msg;
        else routed = msg.with({ subject: r.to, subjectBytes: r.toBytes });
        n += deliverLocal(r.importer, routed, skip);
      }
    }
    return n;
  }

  interestLost(subject: string): void {
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
    for (const e of entries) existingLinks(e.acc)?.responses.delete(e.msub);
  }

  /** The reference's client.processServiceImport. */
  private processServiceImport(si: ServiceImport, msg: Message, skip: Subscriber | null): void {
    const trail = msg.trail as Trail | null;
    const { subject, reply, hdrLen } = msg;
    if (trail !== null) {
      for (let i = trail.chain.length - 1; i >= 0; i--) if (trail.chain[i].se === si.se) return;
    }
    const isResponse = si.response;
    let nrr: Uint8Array | null = null;
    let rsi: ServiceImport | null = null;
    if (reply !== null) {
      const replyText = decoder.decode(reply);
      if (!replyText.startsWith("$JS.ACK.")) {
        rsi = this.reg.linksOf(si.acc).addRespServiceImport(this.owner, replyText, si);
        nrr = rsi.fromBytes;
      } else nrr = reply;
    }
    const to = si.tr !== null ? si.tr.apply(subject) : si.usePub ? subject : si.to;
    let m = msg.payload;
    let h = hdrLen;
    if (!isResponse) {
      let ci: Record<string, unknown> | null = null;
      if (trail !== null && trail.chain.length > 0 && hdrLen >= 0) {
        const raw = getHeader(CLIENT_INFO_HDR, m.subarray(0, hdrLen));
        try {
          const parsed = raw === null ? null : JSON.parse(raw);
          if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
            ci = parsed as Record<string, unknown>;
            ci.svc = this.owner.name;
          }
        } catch { /* the reference leaves the header as it is */ }
      } else {
        ci = { acc: msg.origin.account.name, rtt: msg.origin.rttNs };
      }
      if (ci !== null) {
        ({ msg: m, hdrLen: h } = setHeader(CLIENT_INFO_HDR, clientInfoJson(ci), m, h));
      }
    }
    const next: Trail = {
      fromService: true,
      chain: trail === null ? [si] : [...trail.chain, si],
    };
    const routed = msg.with({
      subject: to,
      subjectBytes: encoder.encode(to),
      reply: nrr,
      hdrLen: h,
      payload: m,
      trail: next,
    });
    const delivered = deliverInAccount(si.acc, routed, skip);
    const shouldRemove = delivered === 0 ||
      (isResponse && (si.rt === "singleton" || m.length === 0));
    if (si.rt !== "singleton" && delivered > 0) si.ts = this.reg.now();
    if (!shouldRemove) return;
    if (isResponse) this.removeRespServiceImport(si);
    else if (rsi !== null) this.reg.linksOf(si.acc).removeRespServiceImport(rsi);
  }

  // ---- response imports ----------------------------------------------------------------------

  /** addRespServiceImport: this account (the exporter) answers `dest`'s request on `to`. */
  addRespServiceImport(dest: Account, to: string, osi: ServiceImport): ServiceImport {
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
    const back = existingLinks(rsi.acc);
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
    this.serviceApprovals.set(subject, se.approved);
  }

  /** checkStreamExportApproved / checkServiceExportApproved. */
  approved(importer: string, subject: string, stream: boolean): boolean {
    const exports = stream ? this.streamExports : this.serviceApprovals;
    return importAuthorized(exports, importer, subject, SUBJECT_RULES);
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

  /** Routes messages on `route.subject` to an importer. */
  addStreamRoute(route: StreamRoute): void {
    (this.streams ??= new Sublist<StreamRoute>()).insert(route);
    this.streamRoutes.push(route);
  }

  /** Adds one of this account's service imports. */
  addServiceImport(si: ServiceImport): void {
    this.serviceImports.set(si.from, si);
    (this.services ??= new Sublist<ServiceImport>()).insert(si);
  }

  /** Drops every export (imports from this account are re-checked by the registry). */
  clearExports(): void {
    this.streamExports.clear();
    this.serviceExports.clear();
    this.serviceApprovals.clear();
  }

  /**
   * Drops every stream and service import of this account, with the routes the exporters
   * kept for them. Response routes already handed out stay until they expire.
   */
  clearImports(): void {
    for (const im of this.streamImports) this.reg.linksOf(im.acc).dropStreamRoutes(this.owner);
    this.streamImports = [];
    this.services = null;
    this.serviceImports.clear();
  }

  /** Removes the stream routes to `importer`. */
  private dropStreamRoutes(importer: Account): void {
    const keep: StreamRoute[] = [];
    for (const r of this.streamRoutes) {
      if (r.importer === importer) this.streams?.remove(r);
      else keep.push(r);
    }
    this.streamRoutes = keep;
  }
}

function randomDigits(n: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(n));
  let s = "";
  for (let i = 0; i < n; i++) s += RESPONSE_DIGITS[bytes[i] % 62];
  return s;
}
