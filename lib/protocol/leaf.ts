/**
 * A leafnode connection (server to server): a kind on the connection core (`connection.ts`)
 * with its own op table (`LS+`, `LS-`, `LMSG`, `HMSG`, plus INFO/CONNECT/PING/PONG/-ERR), in
 * both roles: **accepted** (a remote server dialed our leafnode or websocket port: the core
 * sends INFO, we expect CONNECT, authenticate and bind it to an account) and **solicited** (we
 * dialed a remote's leafnode port: we read its INFO and send CONNECT). Once bound, both sides
 * exchange interest (`LS+`/`LS-`, with queue weights) and messages (`LMSG`, `HMSG` with
 * headers), keep the link alive with `PING`/`PONG`, and detect loops with the account's `$LDS.`
 * subject.
 *
 * Interest sent to the remote follows the account's interest events, minus the remote's own,
 * and, on a spoke (we solicited a hub), minus those of other spokes: the reference's rules
 * (leafnode.go `updateSmap`).
 *
 * @module
 */
import { joinHostPort } from "../core/gofmt.ts";
import { Closed } from "../core/close_reasons.ts";
import { subjectIsSubsetOf, subjectMatchesPattern } from "../core/subject.ts";
import type { Identity } from "../auth/types.ts";
import type { InterestChange } from "../accounts/account.ts";
import { deliverInAccount } from "../routing/deliver.ts";
import { Message } from "../routing/message.ts";
import { decimalLength, encoder, put, putAscii, putSizesAndPayload, tokenString } from "./bytes.ts";
import { Connection } from "./connection.ts";
import type { ServerContext } from "./context.ts";
import { Err } from "./errors.ts";
import { infoLine } from "./info.ts";
import {
  type LeafConnectInfo,
  leafConnectLine,
  type LeafInfo,
  parseLeafConnect,
  parseLeafInfo,
} from "./leaf_info.ts";
import { type OpTable, parseSize } from "./parser.ts";
import type { ClientSub } from "./subscription.ts";
import type { PeerInfo, Transport } from "./transport.ts";

const LMSG_ = encoder.encode("LMSG ");
const HMSG_ = encoder.encode("HMSG ");
const PLUS_ = encoder.encode("+ ");
const BAR_ = encoder.encode("| ");
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

/** The leafnode op set. */
export const LEAF_OPS: OpTable<LeafConnection> = {
  hot: "LMSG",
  limitsControlLine: false,
  ops: [
    { name: "PING", kind: "none", run: (c) => (c.onPing(), true) },
    { name: "PONG", kind: "none", run: (c) => (c.onPong(), true) },
    { name: "CONNECT", kind: "line", run: (c, arg) => (c.onConnect(arg), true) },
    { name: "INFO", kind: "line", run: (c, arg) => (c.onInfo(arg), true) },
    { name: "+OK", kind: "none" },
    { name: "-ERR", kind: "line", needsSpace: true, run: (c, arg) => (c.onPeerError(arg), true) },
    { name: "LS+", kind: "line", needsSpace: true, run: (c, arg) => (c.onLeafSub(arg), true) },
    { name: "LS-", kind: "line", needsSpace: true, run: (c, arg) => (c.onLeafUnsub(arg), true) },
    {
      name: "LMSG",
      kind: "payload",
      size: (c, arg) => c.msgArgs(arg, false),
      body: (c, payload) => c.onLeafMsg(payload),
    },
    {
      name: "HMSG",
      kind: "payload",
      size: (c, arg) => c.msgArgs(arg, true),
      body: (c, payload) => c.onLeafMsg(payload),
    },
  ],
};

/** Prefix of the loop-detection subject each account announces. */
export const LOOP_DETECTION_PREFIX = "$LDS.";
/** The reference's delay before soliciting again after a loop was detected (30s). */
export const LOOP_RECONNECT_DELAY_MS = 30_000;
/** Closed-state texts specific to leafnodes. */
export const LeafClosed = {
  wrongPort: "Wrong Port",
  wrongGateway: "Wrong Gateway",
  missingAccount: "Missing Account",
  duplicate: "Duplicate Remote LeafNode Connection",
  clusterNamesIdentical: "Cluster Names Identical",
} as const;
/** Error texts specific to leafnodes. */
export const LeafErr = {
  clientOnLeafPort: "attempted to connect to leaf node port",
  wrongPort: "attempted to connect to wrong port",
} as const;

/** What a leafnode connection needs from the server, beyond what every connection does. */
export interface LeafContext extends ServerContext {
  readonly serverId: string;
  readonly serverName: string;
  /** The accepting side's INFO fields (without the per-connection ones). */
  leafInfo(kind: PeerInfo["kind"]): Record<string, unknown>;
  /** Leafnode authentication: the identity to bind, or null (`Authorization Violation`). */
  leafAuthenticate(
    connect: LeafConnectInfo,
    peer: PeerInfo,
    nonce: string | undefined,
  ): Identity | null | Promise<Identity | null>;
  /** The account's loop-detection subject (`$LDS.<nuid>`), one per account. */
  loopSubject(account: string): string;
  /** The open leafnode connections (for the interest a new link is told first). */
  leafConnections(): Iterable<LeafConnection>;
}

/** How a solicited connection was configured. */
export interface SolicitConfig {
  /** `hub: true` on the remote: we are the hub of this link. */
  hub: boolean;
  /** Local account bound to the link. */
  account: string;
  /** Credentials from the URL. */
  user?: string;
  /** Password from the URL. */
  pass?: string;
  /** `credentials` file contents resolved by the server: user JWT and a nonce signer. */
  creds?: { jwt: string; sign(nonce: string): string };
  /** Whether the link runs over TLS (announced in CONNECT). */
  tls: boolean;
  /** `deny_imports`: interest not announced, messages not taken. */
  denyImports: readonly string[];
  /** `deny_exports`: messages not sent. */
  denyExports: readonly string[];
  /** The remote told us to wait this long before soliciting again (loop detected). */
  delayReconnect(ms: number): void;
  /** The hub's INFO listed where leafnodes can connect (`leafnode_urls` / `ws_connect_urls`). */
  learnedUrls?(hostPorts: readonly string[]): void;
}

/** A subscription standing for the remote side's interest (`LS+`). */
interface LeafSub extends ClientSub {
  /** Queue members the remote has (its `LS+` weight); 1 for a plain subscription. */
  weight: number;
}

/** Any character outside ASCII. */
const NON_ASCII = /[\u0080-\uffff]/;

/** The reference's wait for a hub's INFO after dialing (DEFAULT_LEAFNODE_INFO_WAIT). */
const INFO_WAIT_MS = 2000;

/** One leafnode connection. */
export class LeafConnection extends Connection {
  readonly kind = "LEAF" as const;
  /** Queue members here are remote: local members are preferred, one copy per message. */
  readonly remote = true;
  /** The remote server's name (its CONNECT `name` or INFO `server_name`). */
  remoteServer = "";
  /** The remote's cluster (CONNECT `cluster`). */
  remoteCluster = "";
  /** Whether we play the spoke role on this link (we solicited a hub, or the remote is a hub). */
  isSpoke: boolean;
  /** Whether we dialed this connection. */
  readonly solicited: boolean;
  /** The user the remote authenticated as (accepted side). */
  user?: string;
  private readonly leafCtx: LeafContext;
  private readonly cfg?: SolicitConfig;
  private readonly nonce?: string;
  /** Remote interest: key (`subject` or `subject queue`) → its subscription. */
  private readonly subs = new Map<string, LeafSub>();
  /** Interest we announced: key → count. */
  private readonly smap = new Map<string, number>();
  private unlisten?: () => void;
  private headers = false;
  private bound = false;
  private gotInfo = false;
  private waitTimer?: ReturnType<typeof setTimeout>;
  /** The message value reused for every LMSG of this connection (delivery is synchronous). */
  private readonly msg: Message;
  // The pending LMSG/HMSG while its payload is read (owned copies).
  private msgSubjectB: Uint8Array = EMPTY;
  private msgSubject = "";
  private msgReply: Uint8Array | null = null;
  private msgQueues: string[] | null = null;
  private msgHdrLen = -1;
  private msgSize: Uint8Array = EMPTY;
  /** Start/end offsets of the arguments of the current LMSG/HMSG. */
  private readonly tok = new Int32Array(32);

  constructor(
    ctx: LeafContext,
    transport: Transport,
    cid: number,
    opts: { nonce?: string; solicit?: SolicitConfig },
  ) {
    super(ctx, transport, cid, LEAF_OPS);
    this.leafCtx = ctx;
    this.nonce = opts.nonce;
    this.cfg = opts.solicit;
    this.solicited = !!opts.solicit;
    this.isSpoke = this.solicited && !opts.solicit!.hub;
    this.msg = new Message(this);
    if (this.solicited) this.account = ctx.account(opts.solicit!.account);
  }

  /** `host:port - lid:N`, the reference's log prefix. */
  override toString(): string {
    const p = this.transport.peer;
    const tag = p.kind === "LEAFNODE_WS" ? "lid_ws" : "lid";
    return `${joinHostPort(p.hostname, p.port)} - ${tag}:${this.cid}`;
  }

  protected get label(): string {
    return "Leafnode";
  }

  protected info(): Record<string, unknown> {
    const info: Record<string, unknown> = {
      ...this.leafCtx.leafInfo(this.transport.peer.kind),
      client_id: this.cid,
    };
    if (this.nonce) info.nonce = this.nonce;
    return info;
  }

  protected authEnforced(): boolean {
    return !this.solicited;
  }

  protected authTimeoutMs(): number {
    return this.ctx.options.leafnodes.authTimeoutMs ?? 2000;
  }

  protected released(): void {
    clearTimeout(this.waitTimer);
    this.unlisten?.();
    const acc = this.account;
    if (this.bound) {
      this.ctx.log.info(
        `${this} - Leafnode connection closed: ${this.closeReason} - Account: ${acc.name}`,
      );
    }
    for (const sub of this.subs.values()) acc.unsubscribe(sub);
    this.subs.clear();
    this.smap.clear();
  }

  /** Whether the handshake completed. */
  get isBound(): boolean {
    return this.bound;
  }

  /** Number of remote subscriptions (interest the remote announced). */
  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** Remote interest keys (`subject` or `subject queue`). */
  subscriptionKeys(): string[] {
    return [...this.subs.keys()];
  }

  /** The remote's subscriptions (live view; do not modify them). */
  subscriptions(): IterableIterator<ClientSub> {
    return this.subs.values();
  }

  /**
   * Accepted side: INFO and the auth timer (the core). Solicited side: nothing is sent until the
   * remote's INFO arrived, which must come soon.
   */
  override start(): void {
    if (!this.solicited) {
      this.ctx.log.info(`${this} - Leafnode connection created`);
      return super.start();
    }
    this.waitTimer = setTimeout(() => {
      this.ctx.log.error(`${this} - Leafnode did not receive INFO in time`);
      this.close(Closed.readError, false);
    }, INFO_WAIT_MS);
  }

  // ---- handshake ------------------------------------------------------------------------------

  /** INFO from the remote (the solicited side's greeting, then the answer to our CONNECT). */
  onInfo(json: Uint8Array): void {
    let info: LeafInfo;
    try {
      info = parseLeafInfo(decoder.decode(json));
    } catch {
      return this.close(Closed.protocolViolation);
    }
    if (!this.solicited) return;
    const urls = this.transport.peer.kind === "LEAFNODE_WS"
      ? info.ws_connect_urls
      : info.leafnode_urls;
    if (urls && urls.length > 0) this.cfg!.learnedUrls?.(urls);
    if (this.gotInfo) {
      // The hub's answer to our CONNECT; later INFOs (URL updates) are not acted upon.
      if (!this.bound && info.connect_info) {
        clearTimeout(this.waitTimer);
        this.bind();
      }
      return;
    }
    this.gotInfo = true;
    clearTimeout(this.waitTimer);
    // A leafnode port's INFO has a client id and leafnode URLs; anything else is another port.
    if (!info.client_id || info.leafnode_urls === undefined) {
      this.ctx.log.error(`${this} - ${LeafErr.wrongPort}`);
      return this.close(LeafClosed.wrongPort, false);
    }
    this.remoteServer = info.server_name || info.server_id || "";
    this.headers = !this.ctx.options.noHeaderSupport && !!info.headers;
    const cfg = this.cfg!;
    const connect: LeafConnectInfo = {
      version: "2.9.10",
      tls_required: cfg.tls,
      server_id: this.leafCtx.serverId,
      name: this.leafCtx.serverName,
      is_hub: cfg.hub,
      cluster: this.leafCtx.serverName,
      headers: !this.ctx.options.noHeaderSupport,
      deny_pub: cfg.denyImports.length ? [...cfg.denyImports] : undefined,
    };
    if (cfg.creds) {
      connect.jwt = cfg.creds.jwt;
      connect.sig = cfg.creds.sign(info.nonce ?? "");
    } else if (cfg.user !== undefined) {
      connect.user = cfg.user;
      connect.pass = cfg.pass;
    }
    this.out.push(encoder.encode(leafConnectLine(connect)));
    // Without info_on_connect (servers before 2.2) no second INFO comes: finish now.
    if (!info.info_on_connect) return this.bind();
    this.waitTimer = setTimeout(() => {
      this.ctx.log.error(`${this} - Leafnode did not receive the CONNECT reply in time`);
      this.close(Closed.authTimeout, false);
    }, this.authTimeoutMs());
  }

  /** CONNECT from a soliciting remote: authenticate, bind, reply with the account INFO. */
  onConnect(json: Uint8Array): void {
    if (this.solicited || this.bound) return;
    this.connectReceived();
    let c: LeafConnectInfo;
    try {
      c = parseLeafConnect(decoder.decode(json));
    } catch {
      return this.close(Closed.protocolViolation);
    }
    if (c.lang !== undefined && c.lang !== "") {
      this.sendErr(LeafErr.clientOnLeafPort);
      this.ctx.log.error(`${this} - ${LeafErr.clientOnLeafPort}`);
      return this.close(LeafClosed.wrongPort);
    }
    if (c.gateway) {
      const t = `Rejecting connection from gateway "${c.gateway}" on the leafnode port`;
      this.ctx.log.error(`${this} - ${t}`);
      this.sendErr(t);
      return this.close(LeafClosed.wrongGateway);
    }
    const r = this.leafCtx.leafAuthenticate(c, this.transport.peer, this.nonce);
    const then = (id: Identity | null) => {
      if (this.closed) return;
      if (!id) {
        this.ctx.log.error(`${this} - authentication error`);
        this.sendErr(Err.authViolation);
        return this.close(Closed.authViolation);
      }
      this.user = id.user;
      this.remoteServer = c.name ?? "";
      this.remoteCluster = c.cluster ?? "";
      this.headers = !this.ctx.options.noHeaderSupport && !!c.headers;
      if (c.is_hub) this.isSpoke = true;
      this.account = this.ctx.account(id.account);
      // The reply INFO tells the remote the account it is bound to.
      const info = {
        ...this.leafCtx.leafInfo(this.transport.peer.kind),
        client_id: this.cid,
        connect_info: true,
        remote_account: this.account.name,
      };
      this.out.push(encoder.encode(infoLine(info)));
      this.bind();
    };
    if (r instanceof Promise) {
      this.pause();
      r.then(then, () => then(null)).finally(() => this.resume());
    } else then(r);
  }

  /** Handshake done: announce our interest, follow the account's changes, start pinging. */
  private bind(): void {
    if (this.bound || this.closed) return;
    this.bound = true;
    const acc = this.account;
    if (this.solicited) {
      this.ctx.log.info(`${this} - Leafnode connection created for account: ${acc.name}`);
      this.ctx.log.info(`Connected leafnode to "${this.remoteServer}"`);
    }
    const smap = this.smap;
    for (const i of acc.interest()) {
      const key = i.queue ? `${i.subject} ${i.queue}` : i.subject;
      smap.set(key, i.weight);
    }
    // Not our own interest, and on a spoke not that of other spokes.
    const others = [
      this,
      ...[...this.leafCtx.leafConnections()].filter((l) =>
        l !== this && l.account === acc && this.isSpoke && l.isSpoke
      ),
    ];
    for (const l of others) {
      for (const sub of l.subs.values()) {
        const key = keyOf(sub);
        const n = (smap.get(key) ?? 0) - (sub.weight ?? 1);
        if (n > 0) smap.set(key, n);
        else smap.delete(key);
      }
    }
    smap.set(this.leafCtx.loopSubject(acc.name), 1);
    this.unlisten = acc.onInterest((change) => this.interestChanged(change));
    const lines: string[] = [];
    for (const [key, n] of smap) {
      if (this.allowedOut(key)) lines.push(subLine(key, n));
    }
    if (lines.length) this.out.push(encoder.encode(lines.join("")));
    this.restartPings();
  }

  /** Whether a subscription's interest is announced on this link (updateSmap rules). */
  private shouldShare(sub: ClientSub): boolean {
    const c = sub.client as { isSpoke?: boolean; remote?: boolean };
    if (c === (this as unknown)) return false;
    // A spoke only forwards interest of local clients and of leafnodes that are not spokes.
    if (this.isSpoke && c.remote === true && c.isSpoke === true) return false;
    return true;
  }

  /** Deny lists of a solicited link (`deny_imports`: interest we do not announce). */
  private allowedOut(key: string): boolean {
    const deny = this.cfg?.denyImports;
    if (!deny || deny.length === 0 || key.startsWith(LOOP_DETECTION_PREFIX)) return true;
    const subject = key.split(" ")[0];
    return !deny.some((d) => subjectIsSubsetOf(subject, d));
  }

  private interestChanged(change: InterestChange): void {
    if (this.closed || !this.shouldShare(change.sub)) return;
    const key = change.queue ? `${change.subject} ${change.queue}` : change.subject;
    const n = this.smap.get(key) ?? 0;
    const next = n + change.delta;
    const update = change.queue !== undefined || n === 0 || next <= 0;
    if (next > 0) this.smap.set(key, next);
    else this.smap.delete(key);
    if (update && this.allowedOut(key)) this.out.push(encoder.encode(subLine(key, next)));
  }

  // ---- ops ------------------------------------------------------------------------------------

  /** `-ERR` from the remote: a loop the other side detected, or the end of the link. */
  override onPeerError(text: Uint8Array): void {
    let t = decoder.decode(text).trim();
    if (t.startsWith("'") && t.endsWith("'") && t.length >= 2) t = t.slice(1, -1);
    this.ctx.log.error(`${this} - Leafnode Error '${t}'`);
    if (t.includes("Loop detected")) return this.loopDetected(false);
    if (this.solicited && t.includes("remote leafnode has same cluster name")) {
      this.cfg!.delayReconnect(LOOP_RECONNECT_DELAY_MS);
    }
    this.close(this.bound ? Closed.parseError : Closed.authViolation, false);
  }

  /** `LS+ subject [queue weight]`. */
  onLeafSub(arg: Uint8Array): void {
    const a = splitTokens(arg);
    if (a.length !== 1 && a.length !== 3) {
      return this.parseError(`processLeafSub Parse Error: '${tokenString(trim(arg))}'`);
    }
    if (!this.bound) return this.notBound();
    this.msgActivity = true;
    const subject = a[0];
    const queue = a.length === 3 ? a[1] : null;
    const weight = a.length === 3 ? Math.max(1, Number(a[2]) || 1) : 1;
    const acc = this.account;
    if (
      subject.startsWith(LOOP_DETECTION_PREFIX) && subject === this.leafCtx.loopSubject(acc.name)
    ) {
      return this.loopDetected(true);
    }
    const key = queue ? `${subject} ${queue}` : subject;
    const old = this.subs.get(key);
    if (old) {
      if (queue && old.weight !== weight) {
        const delta = weight - old.weight;
        old.weight = weight;
        acc.reweigh(old, delta);
      }
      return;
    }
    const sub: LeafSub = {
      subject,
      queue: queue ?? undefined,
      sid: key,
      // The queue is written into LMSG lines: from its char codes when the key is ASCII.
      sidBytes: NON_ASCII.test(key) ? encoder.encode(key) : undefined,
      client: this,
      max: 0,
      delivered: 0,
      weight,
    };
    try {
      acc.subscribe(sub);
    } catch {
      this.sendErr(Err.invalidSubject);
      return;
    }
    this.subs.set(key, sub);
  }

  /** `LS- subject [queue]`. */
  onLeafUnsub(arg: Uint8Array): void {
    const a = splitTokens(arg);
    if (a.length !== 1 && a.length !== 2) {
      return this.parseError(`processLeafUnsub Parse Error: '${tokenString(trim(arg))}'`);
    }
    if (!this.bound) return this.notBound();
    this.msgActivity = true;
    const key = a.length === 2 ? `${a[0]} ${a[1]}` : a[0];
    const sub = this.subs.get(key);
    if (!sub) return;
    this.subs.delete(key);
    this.account.unsubscribe(sub);
  }

  /**
   * `LMSG subject [reply | + reply queues... | | queues...] size` or `HMSG ... hdr size`:
   * keeps the arguments (owned) and returns the payload size, -1 for a parse error.
   */
  msgArgs(arg: Uint8Array, headers: boolean): number {
    const tok = this.tok;
    let n = 0;
    for (let i = 0; i < arg.length && n < tok.length;) {
      while (i < arg.length && (arg[i] === 32 || arg[i] === 9)) i++;
      if (i >= arg.length) break;
      const st = i;
      while (i < arg.length && arg[i] !== 32 && arg[i] !== 9) i++;
      tok[n++] = st;
      tok[n++] = i;
    }
    const count = n >> 1;
    const sizes = headers ? 2 : 1;
    if (count < 1 + sizes || count > 16) return this.badMsgArgs("Parse Error", arg);
    const sizeTok = arg.subarray(tok[2 * count - 2], tok[2 * count - 1]);
    const size = parseSize(sizeTok);
    const hdrLen = headers ? parseSize(arg.subarray(tok[2 * count - 4], tok[2 * count - 3])) : -1;
    if (size < 0 || (headers && (hdrLen < 0 || hdrLen > size))) {
      return this.badMsgArgs("Bad or Missing Size", arg);
    }
    const subjectB = arg.subarray(tok[0], tok[1]);
    if (!sameBytes(subjectB, this.msgSubjectB)) {
      this.msgSubjectB = subjectB.slice();
      this.msgSubject = tokenString(subjectB);
    }
    if (!sameBytes(sizeTok, this.msgSize)) this.msgSize = sizeTok.slice();
    const middle = count - 1 - sizes;
    let reply: Uint8Array | null = null;
    let queues: string[] | null = null;
    if (middle === 1) reply = arg.slice(tok[2], tok[3]);
    else if (middle > 1) {
      const mark = arg[tok[2]];
      const single = tok[3] - tok[2] === 1;
      let q = 2;
      if (single && mark === 43 /* + */) {
        reply = arg.slice(tok[4], tok[5]);
        q = 3;
      } else if (!(single && mark === 124 /* | */)) return this.badMsgArgs("Parse Error", arg);
      queues = [];
      for (let k = q; k < 1 + middle; k++) {
        queues.push(tokenString(arg.subarray(tok[2 * k], tok[2 * k + 1])));
      }
    }
    this.msgReply = reply;
    this.msgQueues = queues;
    this.msgHdrLen = hdrLen;
    return size;
  }

  private badMsgArgs(why: string, arg: Uint8Array): number {
    this.parseError(`processLeafMsgArgs ${why}: '${tokenString(trim(arg))}'`);
    return -1;
  }

  /** The payload of the LMSG/HMSG whose arguments {@link msgArgs} kept. */
  onLeafMsg(payload: Uint8Array): void {
    if (!this.bound) return this.notBound();
    this.msgActivity = true;
    this.stats.inMsgs++;
    this.stats.inBytes += payload.length;
    const g = this.ctx.stats;
    g.inMsgs++;
    g.inBytes += payload.length;
    const subject = this.msgSubject;
    const deny = this.cfg?.denyImports;
    if (deny && deny.length && deny.some((d) => subjectMatchesPattern(subject, d))) return;
    const m = this.msg;
    m.subject = subject;
    m.subjectBytes = this.msgSubjectB;
    m.reply = this.msgReply;
    m.hdrLen = this.msgHdrLen;
    m.sizeTok = this.msgSize;
    m.payload = payload;
    m.trail = null;
    deliverInAccount(this.account, m, this, this.msgQueues);
  }

  private parseError(log: string): void {
    this.ctx.log.error(`${this} - ${log}`);
    this.close(Closed.parseError);
  }

  private notBound(): void {
    this.sendErr(Err.authViolation);
    this.close(Closed.authViolation);
  }

  private loopDetected(sendErr: boolean): void {
    const delay = LOOP_RECONNECT_DELAY_MS;
    if (this.solicited) this.cfg!.delayReconnect(delay);
    const text = `Loop detected for leafnode account="${this.account.name}". ` +
      `Delaying attempt to reconnect for ${delay / 1000}s`;
    if (sendErr) this.sendErr(text);
    this.ctx.log.error(`${this} - ${text}`);
    this.close(Closed.protocolViolation);
  }

  // ---- delivery -------------------------------------------------------------------------------

  /** Queues `msg` for the remote: `LMSG` (or `HMSG` with headers), with the queue it is for. */
  deliver(sub: ClientSub, msg: Message): boolean {
    if (this.closed) return false;
    const deny = this.cfg?.denyExports;
    if (deny && deny.length && deny.some((d) => subjectMatchesPattern(msg.subject, d))) {
      return false;
    }
    const subject = msg.subjectBytes;
    const reply = msg.reply;
    const hdrLen = msg.hdrLen;
    const sizeTok = msg.sizeTok;
    const strip = hdrLen >= 0 && !this.headers;
    const payload = strip ? msg.payload.subarray(hdrLen) : msg.payload;
    const withHdr = hdrLen >= 0 && !strip;
    const queue = sub.queue;
    const keyB = sub.sidBytes;
    // A non-ASCII key keeps its bytes ("subject queue"); the queue (no spaces) follows the last one.
    const qb = queue && keyB !== undefined ? keyB.subarray(keyB.lastIndexOf(32) + 1) : null;
    const qLen = !queue ? 0 : qb !== null ? qb.length : queue.length;
    const n = 5 + subject.length + 1 + (reply ? reply.length + 1 : 0) +
      (queue ? 2 + qLen + 1 : 0) + (withHdr ? decimalLength(hdrLen) + 1 : 0) +
      (hdrLen < 0 ? sizeTok.length : decimalLength(payload.length)) + 2 + payload.length + 2;
    const out = this.out;
    const buf = out.reserve(n);
    let p = put(buf, out.len, withHdr ? HMSG_ : LMSG_);
    p = put(buf, p, subject);
    buf[p++] = 32;
    if (queue) {
      if (reply) {
        p = put(buf, p, PLUS_);
        p = put(buf, p, reply);
        buf[p++] = 32;
      } else p = put(buf, p, BAR_);
      p = qb !== null ? put(buf, p, qb) : putAscii(buf, p, queue);
      buf[p++] = 32;
    } else if (reply) {
      p = put(buf, p, reply);
      buf[p++] = 32;
    }
    out.len = putSizesAndPayload(buf, p, withHdr, hdrLen, sizeTok, payload);
    out.schedule();
    this.stats.outMsgs++;
    this.stats.outBytes += payload.length;
    const g = this.ctx.stats;
    g.outMsgs++;
    g.outBytes += payload.length;
    return true;
  }
}

function keyOf(sub: ClientSub): string {
  return sub.queue ? `${sub.subject} ${sub.queue}` : sub.subject;
}

/** `LS+ key[ weight]` or `LS- key`. */
function subLine(key: string, n: number): string {
  if (n <= 0) return `LS- ${key}\r\n`;
  return key.includes(" ") ? `LS+ ${key} ${n}\r\n` : `LS+ ${key}\r\n`;
}

/** Space/tab separated tokens, decoded. */
function splitTokens(arg: Uint8Array): string[] {
  return tokenString(trim(arg)).split(/[ \t]+/).filter((t) => t !== "");
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function trim(b: Uint8Array): Uint8Array {
  let s = 0;
  let e = b.length;
  while (s < e && (b[s] === 32 || b[s] === 9)) s++;
  while (e > s && (b[e - 1] === 32 || b[e - 1] === 9)) e--;
  return b.subarray(s, e);
}
