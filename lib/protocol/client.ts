/**
 * The client kind of connection: its op table (PUB/HPUB, SUB, UNSUB, CONNECT, ...) and what
 * each op does, on top of the shared connection core (`connection.ts`).
 *
 * @module
 */
import { Closed } from "../core/close_reasons.ts";
import { isValidLiteralSubject, isValidSubject } from "../core/subject.ts";
import { goQuote } from "../core/gofmt.ts";
import { publishViolation, replyViolation, subscribeViolation } from "../auth/errors.ts";
import { hasGatewayReplyPrefix, isReservedReply } from "../auth/permissions.ts";
import type { ConnectCredentials, Identity } from "../auth/types.ts";
import { deliverInAccount } from "../routing/deliver.ts";
import { Message } from "../routing/message.ts";
import {
  decimalLength,
  encoder,
  isAscii,
  put,
  putAscii,
  putSizesAndPayload,
  smallCopy,
  tokenString,
} from "./bytes.ts";
import { type ConnectOptions, parseConnect } from "./connect.ts";
import { Connection, type ConnectionStats } from "./connection.ts";
import type { PermissionChecker, ServerContext } from "./context.ts";
import { Err } from "./errors.ts";
import { type OpTable, parseSize, type PubHandler, splitArgs } from "./parser.ts";
import type { ClientSub, Subscriber } from "./subscription.ts";
import type { Transport } from "./transport.ts";

const OK = encoder.encode("+OK\r\n");
const MSG_ = encoder.encode("MSG ");
const HMSG_ = encoder.encode("HMSG ");
const NO_RESPONDERS_HDR = encoder.encode(" 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
const textDecoder = new TextDecoder();

/** Per-connection counters (for monitoring). */
export type ClientStats = ConnectionStats;

/** The client protocol's ops, in the reference's spelling. */
const CLIENT_OPS: OpTable<ClientConnection> = {
  ops: [
    { name: "PUB", kind: "pub" },
    { name: "HPUB", kind: "hpub" },
    {
      name: "SUB",
      kind: "line",
      needsSpace: true,
      run: (c, arg) => {
        const a = splitArgs(arg, true);
        if (a.length !== 2 && a.length !== 3) return false;
        if (a.length === 2) c.onSub(a[0], null, a[1]);
        else c.onSub(a[0], a[1], a[2]);
        return true;
      },
    },
    {
      name: "UNSUB",
      kind: "line",
      needsSpace: true,
      run: (c, arg) => {
        const a = splitArgs(arg, true);
        if (a.length !== 1 && a.length !== 2) return false;
        c.onUnsub(a[0], a.length === 2 ? parseSize(a[1]) : -1);
        return true;
      },
    },
    { name: "PING", kind: "none", run: (c) => (c.onPing(), true) },
    { name: "PONG", kind: "none", run: (c) => (c.onPong(), true) },
    { name: "CONNECT", kind: "line", run: (c, arg) => (c.onConnect(arg), true) },
    { name: "INFO", kind: "line", run: (c, arg) => (c.onInfo(arg), true) },
    { name: "+OK", kind: "none" },
    {
      name: "-ERR",
      kind: "line",
      needsSpace: true,
      closes: true,
      run: (c, arg) => (c.onPeerError(arg), true),
    },
  ],
};

/** A NATS client connection. */
export class ClientConnection extends Connection implements PubHandler, Subscriber {
  /** Always "CLIENT". */
  readonly kind = "CLIENT" as const;
  /** The authenticated identity, once CONNECT passed. */
  identity?: Identity;
  /** The CONNECT options, once received. */
  connectOpts?: ConnectOptions;
  private readonly subs = new Map<string, ClientSub>();
  private perms: PermissionChecker | null = null;
  /** Until CONNECT says otherwise the reference is verbose and pedantic. */
  private verbose = true;
  private echo = true;
  private headers = false;
  private noResponders = false;
  private readonly nonce?: string;
  /** The credentials of its CONNECT, kept for re-checks on config reload. */
  private creds?: ConnectCredentials;
  /** The message value reused for every publish of this connection (delivery is synchronous). */
  private readonly msg: Message;
  /** A user JWT's subscription limit (user and account; -1 = none). */
  private jwtMaxSubs = -1;

  constructor(ctx: ServerContext, transport: Transport, cid: number, nonce?: string) {
    super(ctx, transport, cid, CLIENT_OPS);
    this.parser.limits.pedantic = true;
    this.nonce = nonce;
    this.msg = new Message(this);
  }

  protected get label(): string {
    return "Client";
  }

  protected info(): Record<string, unknown> {
    return {
      ...this.ctx.baseInfo(),
      auth_required: this.ctx.authenticator.authRequired(this.transport.peer.kind),
      client_id: this.cid,
      client_ip: this.transport.peer.hostname,
      nonce: this.nonce,
    };
  }

  protected authEnforced(): boolean {
    const auth = this.ctx.authenticator;
    const kind = this.transport.peer.kind;
    return auth.authEnforced?.(kind) ?? auth.authRequired(kind);
  }

  protected authTimeoutMs(): number {
    return this.ctx.authenticator.timeoutMs(this.transport.peer.kind);
  }

  protected released(): void {
    const account = this.account;
    for (const sub of this.subs.values()) account.unsubscribe(sub);
    this.subs.clear();
  }

  /** Number of subscriptions. */
  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** The connection's subscriptions (live view; do not modify them). */
  subscriptions(): IterableIterator<ClientSub> {
    return this.subs.values();
  }

  // ---- ops ------------------------------------------------------------------------------------

  override onOpBeforeConnect(): boolean {
    const id = this.ctx.authenticator.noAuthIdentity?.() ?? null;
    if (!id) return false;
    this.stopAuthTimer();
    this.bind(id);
    return true;
  }

  /** CONNECT: options, then authentication (possibly asynchronous, input held meanwhile). */
  onConnect(json: Uint8Array): void {
    this.stopAuthTimer();
    const text = textDecoder.decode(json);
    if (this.tracing) this.traceIn(`[CONNECT ${redactPassword(text)}]`);
    let opts: ConnectOptions;
    try {
      opts = parseConnect(text);
    } catch {
      return this.close(Closed.protocolViolation);
    }
    this.connectOpts = opts;
    this.tag = clientTag(opts);
    this.connectReceived();
    this.echo = opts.echo;
    this.verbose = opts.verbose;
    this.headers = !this.ctx.options.noHeaderSupport && opts.headers;
    this.noResponders = opts.no_responders;
    this.parser.limits.headers = this.headers;
    this.parser.limits.pedantic = opts.pedantic;
    const creds: ConnectCredentials = this.creds = {
      user: opts.user,
      pass: opts.pass,
      auth_token: opts.auth_token,
      nkey: opts.nkey,
      sig: opts.sig,
      jwt: opts.jwt || this.transport.peer.ws?.cookieJwt,
      ...cookieCredentials(opts, this.transport.peer.ws?.cookies),
    };
    const debug = this.ctx.log.debugEnabled
      ? (msg: string) => this.ctx.log.debug(`${this} - ${msg}`)
      : undefined;
    const result = this.ctx.authenticator.authenticate(
      creds,
      this.transport.peer,
      this.nonce,
      debug,
    );
    if (result instanceof Promise) {
      this.pause();
      result.then((id) => this.afterAuth(id, opts), () => this.afterAuth(null, opts)).finally(
        () => this.resume(),
      );
    } else this.afterAuth(result, opts);
    this.restartPings();
  }

  onPubSubject(subject: Uint8Array): void {
    if (!isValidLiteralSubject(tokenString(subject))) this.sendErr(Err.invalidPublishSubject);
  }

  onMsg(
    subject: string,
    subjectB: Uint8Array,
    replyB: Uint8Array | null,
    hdrLen: number,
    sizeTok: Uint8Array,
    payload: Uint8Array,
  ): void {
    const stats = this.stats;
    stats.inMsgs++;
    stats.inBytes += payload.length;
    const g = this.ctx.stats;
    g.inMsgs++;
    g.inBytes += payload.length;
    this.msgActivity = true;
    if (this.tracing) this.traceMsgIn(subject, replyB, hdrLen, sizeTok, payload);
    if (hasGatewayReplyPrefix(subject) || (this.perms && !this.perms.canPublish(subject))) {
      this.sendErr(publishViolation(subject));
      return;
    }
    // Reserved replies start with "_" or "$"; only those are worth decoding.
    if (replyB !== null && (replyB[0] === 95 || replyB[0] === 36)) {
      const reply = tokenString(replyB);
      if (isReservedReply(reply)) {
        this.sendErr(replyViolation(reply));
        return;
      }
    }
    if (this.verbose) this.sendOK();
    const msg = this.msg;
    msg.subject = subject;
    msg.subjectBytes = subjectB;
    msg.reply = replyB;
    msg.hdrLen = hdrLen;
    msg.sizeTok = sizeTok;
    msg.payload = payload;
    const delivered = deliverInAccount(this.account, msg, this.echo ? null : this);
    if (delivered === 0 && replyB !== null && this.noResponders) this.sendNoResponders(replyB);
  }

  /** SUB subject [queue] sid. */
  onSub(subjectB: Uint8Array, queueB: Uint8Array | null, sidB: Uint8Array): void {
    this.lastActivity = performance.now();
    const subject = tokenString(subjectB);
    const queue = queueB ? tokenString(queueB) : undefined;
    const sid = tokenString(sidB);
    if (this.tracing) this.traceIn(`[SUB ${subject}${queue ? ` ${queue}` : ""} ${sid}]`);
    if (this.perms && !this.perms.canSubscribe(subject, queue)) {
      this.sendErr(subscribeViolation(subject, queue));
      return;
    }
    const max = this.ctx.options.maxSubscriptions;
    if (
      (max > 0 && this.subs.size >= max) ||
      (this.jwtMaxSubs >= 0 && this.subs.size >= this.jwtMaxSubs)
    ) {
      this.sendErr(Err.maxSubscriptions);
      return;
    }
    if (!this.subs.has(sid)) {
      if (!isValidSubject(subject)) {
        this.sendErr(Err.invalidSubject);
        return;
      }
      const sub: ClientSub = {
        subject,
        queue,
        sid,
        sidBytes: isAscii(sidB) ? undefined : smallCopy(sidB),
        client: this,
        max: 0,
        delivered: 0,
      };
      this.subs.set(sid, sub);
      this.account.subscribe(sub);
    }
    if (this.verbose) this.sendOK();
  }

  /** UNSUB sid [max]. */
  onUnsub(sidB: Uint8Array, max: number): void {
    this.lastActivity = performance.now();
    const sid = tokenString(sidB);
    if (this.tracing) this.traceIn(`[UNSUB ${sid}${max > 0 ? ` ${max}` : ""}]`);
    const sub = this.subs.get(sid);
    if (this.verbose) this.sendOK();
    if (!sub) return;
    if (max > 0 && max > sub.delivered) sub.max = max;
    else this.removeSub(sub);
  }

  /** INFO from a client: only checked to be JSON. */
  onInfo(json: Uint8Array): void {
    try {
      JSON.parse(textDecoder.decode(json));
    } catch {
      this.close(Closed.protocolViolation);
    }
  }

  // ---- delivery -------------------------------------------------------------------------------

  deliver(sub: ClientSub, msg: Message): boolean {
    if (this.closed) return false;
    const subjectText = msg.subject;
    if (this.perms && !this.perms.deliverAllowed(subjectText)) return false;
    if (sub.max > 0 && sub.delivered >= sub.max) {
      this.removeSub(sub);
      return false;
    }
    sub.delivered++;
    const subject = msg.subjectBytes;
    const reply = msg.reply;
    const hdrLen = msg.hdrLen;
    const sizeTok = msg.sizeTok;
    const sidB = sub.sidBytes;
    const sidLen = sidB === undefined ? sub.sid.length : sidB.length;
    const strip = hdrLen >= 0 && !this.headers;
    const payload = strip ? msg.payload.subarray(hdrLen) : msg.payload;
    const useSizeTok = hdrLen < 0;
    const sizeLen = useSizeTok ? sizeTok.length : decimalLength(payload.length);
    const withHdr = hdrLen >= 0 && !strip;
    const n = (withHdr ? 5 + decimalLength(hdrLen) + 1 : 4) + subject.length + 1 + sidLen +
      1 + (reply ? reply.length + 1 : 0) + sizeLen + 2 + payload.length + 2;
    const out = this.out;
    const buf = out.reserve(n);
    let p = put(buf, out.len, withHdr ? HMSG_ : MSG_);
    p = put(buf, p, subject);
    buf[p++] = 32;
    p = sidB === undefined ? putAscii(buf, p, sub.sid) : put(buf, p, sidB);
    buf[p++] = 32;
    if (reply) {
      p = put(buf, p, reply);
      buf[p++] = 32;
    }
    out.len = putSizesAndPayload(buf, p, withHdr, hdrLen, sizeTok, payload);
    out.schedule();
    if (this.tracing) {
      const r = reply ? ` ${tokenString(reply)}` : "";
      const h = withHdr ? ` ${hdrLen}` : "";
      const size = useSizeTok ? tokenString(sizeTok) : String(payload.length);
      this.traceOut(`[${withHdr ? "HMSG" : "MSG"} ${subjectText} ${sub.sid}${r}${h} ${size}]`);
    }
    this.stats.outMsgs++;
    this.stats.outBytes += payload.length;
    const g = this.ctx.stats;
    g.outMsgs++;
    g.outBytes += payload.length;
    if (reply && this.perms?.tracksReplies) this.perms.noteReplySubject(tokenString(reply));
    if (sub.max > 0 && sub.delivered >= sub.max) this.removeSub(sub);
    const pending = out.pending;
    const maxPending = this.ctx.options.maxPending;
    if (pending > maxPending / 2) {
      if (pending > maxPending) this.slowConsumer();
      else {
        // Flow control: the client publishing this waits until we catch up.
        const origin = msg.origin;
        if (origin instanceof Connection && origin.kind === "CLIENT") {
          this.flow.filling(pending, maxPending, origin.flow);
        }
      }
    }
    return true;
  }

  // ---- internals ------------------------------------------------------------------------------

  private sendOK(): void {
    this.out.push(OK);
    if (this.tracing) this.traceOut("[OK]");
  }

  private traceMsgIn(
    subject: string,
    reply: Uint8Array | null,
    hdrLen: number,
    sizeTok: Uint8Array,
    msg: Uint8Array,
  ): void {
    const op = hdrLen >= 0 ? "HPUB" : "PUB";
    const r = reply ? ` ${tokenString(reply)}` : "";
    const h = hdrLen >= 0 ? ` ${hdrLen}` : "";
    this.traceIn(`[${op} ${subject}${r}${h} ${tokenString(sizeTok)}]`);
    this.traceIn(`MSG_PAYLOAD: [${JSON.stringify(textDecoder.decode(msg))}]`);
  }

  private afterAuth(id: Identity | null, opts: ConnectOptions): void {
    if (this.closed) return;
    if (!id || opts.account || opts.new_account) {
      this.ctx.log.debug(`${this} - Authorization Violation`);
      this.sendErr(Err.authViolation);
      return this.close(Closed.authViolation);
    }
    this.bind(id);
    if (id.jwt) this.applyLimits(id.jwt.maxSubs, id.jwt.maxPayload);
    this.ctx.clientAuthenticated?.(this);
    if (this.closed) return;
    if (opts.protocol < 0 || opts.protocol > 1) {
      this.sendErr(Err.badProtocol);
      return this.close(Closed.badClientProtocol);
    }
    if (opts.no_responders && !this.headers) {
      this.sendErr(Err.noRespondersNeedsHeaders);
      return this.close(Closed.noRespondersNeedsHeaders);
    }
    if (opts.verbose) this.sendOK();
  }

  /**
   * A user JWT's subscription and payload limits (applyAccountLimits), at login and again when
   * the account's JWT changes. At or over the subscription limit: the -ERR, then closed.
   */
  applyLimits(maxSubs: number, maxPayload: number): void {
    this.jwtMaxSubs = maxSubs;
    this.capPayload(maxPayload);
    if (this.jwtMaxSubs >= 0 && this.subs.size >= this.jwtMaxSubs) {
      this.sendErr(Err.maxSubscriptions);
      setTimeout(() => this.close(Closed.maxSubscriptions), 20);
    }
  }

  // ---- config reload ----------------------------------------------------------------------------

  /** Whether async INFO reaches it: CONNECT said `protocol` ≥ 1 and a PING got its PONG. */
  get takesAsyncInfo(): boolean {
    return this.pongSent && (this.connectOpts?.protocol ?? 0) >= 1 && !this.closed;
  }

  /**
   * Re-authenticates with the credentials of its CONNECT against the authenticator in force
   * (null when they no longer hold, or it never authenticated).
   */
  reauthenticate(): Identity | null | Promise<Identity | null> {
    if (!this.creds) {
      return this.identity ? this.ctx.authenticator.noAuthIdentity?.() ?? null : null;
    }
    return this.ctx.authenticator.authenticate(this.creds, this.transport.peer, this.nonce);
  }

  /**
   * Binds to the identity a reload produced (permissions, account) and removes the
   * subscriptions its permissions no longer allow, sending the reference's `-ERR` for each.
   * Returns the removed subscriptions.
   */
  rebindAfterReload(id: Identity): ClientSub[] {
    this.bind(id);
    const perms = this.perms;
    if (!perms) return [];
    const removed: ClientSub[] = [];
    for (const sub of [...this.subs.values()]) {
      const allowed = perms.canSubscribe(sub.subject) ||
        (sub.queue !== undefined && perms.canSubscribe(sub.subject, sub.queue));
      if (allowed) continue;
      this.removeSub(sub);
      removed.push(sub);
      this.sendErr(
        `Permissions Violation for Subscription to ${goQuote(sub.subject)} ` +
          `(sid ${goQuote(sub.sid)})`,
      );
    }
    return removed;
  }

  /**
   * Binds the connection to an authenticated identity, moving subscriptions when the account
   * object differs (another account, or the same name in a rebuilt registry).
   */
  private bind(id: Identity): void {
    this.identity = id;
    this.perms = id.permissions ? this.ctx.permissionChecker(id.permissions) : null;
    const next = this.ctx.account(id.account);
    if (next !== this.account) {
      for (const sub of this.subs.values()) {
        this.account.unsubscribe(sub);
        next.subscribe(sub);
      }
      this.account = next;
    }
  }

  private removeSub(sub: ClientSub): void {
    if (this.subs.get(sub.sid) === sub) this.subs.delete(sub.sid);
    this.account.unsubscribe(sub);
  }

  private sendNoResponders(reply: Uint8Array): void {
    const replyText = tokenString(reply);
    const r = this.account.sublist.match(replyText);
    let sub: ClientSub | undefined = r.plain.find((s) => s.client === this);
    if (!sub) {
      for (const g of r.queues) {
        sub = g.find((s) => s.client === this);
        if (sub) break;
      }
    }
    if (!sub) return;
    const head = encoder.encode(`HMSG ${replyText} ${sub.sid}`);
    const buf = this.out.reserve(head.length + NO_RESPONDERS_HDR.length);
    let p = put(buf, this.out.len, head);
    p = put(buf, p, NO_RESPONDERS_HDR);
    this.out.len = p;
    this.out.schedule();
  }
}

/** CONNECT text with the password value replaced, as the reference traces it. */
function redactPassword(text: string): string {
  return text.replace(/("pass"\s*:\s*)"(?:[^"\\]|\\.)*"/, '$1"[REDACTED]"');
}

/** The reference's `"vVERSION:LANG:NAME"` log tag from CONNECT (empty parts left out). */
function clientTag(o: ConnectOptions): string {
  const parts: string[] = [];
  if (o.version) parts.push(`v${o.version}`);
  if (o.lang) parts.push(o.lang);
  if (o.name) parts.push(o.name);
  return parts.join(":");
}

/** user/pass/token from the WebSocket upgrade's cookies where CONNECT has none. */
function cookieCredentials(
  opts: ConnectOptions,
  cookies: { user?: string; pass?: string; token?: string } | undefined,
): Pick<ConnectCredentials, "user" | "pass" | "auth_token"> {
  if (!cookies) return {};
  const out: Pick<ConnectCredentials, "user" | "pass" | "auth_token"> = {};
  if (!opts.user && cookies.user !== undefined) out.user = cookies.user;
  if (!opts.pass && cookies.pass !== undefined) out.pass = cookies.pass;
  if (!opts.auth_token && cookies.token !== undefined) out.auth_token = cookies.token;
  return out;
}
