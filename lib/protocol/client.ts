/**
 * One client connection: the protocol state machine between a transport's bytes and the
 * account's subscriptions. Transport-agnostic: TCP and WebSocket connections are the same here.
 */
import { joinHostPort } from "../core/gofmt.ts";
import { publishViolation, replyViolation, subscribeViolation } from "../auth/errors.ts";
import { hasGatewayReplyPrefix, isReservedReply } from "../auth/permissions.ts";
import type { ConnectCredentials, Identity } from "../auth/types.ts";
import { isValidLiteralSubject, isValidSubject } from "../core/subject.ts";
import { decimalLength, encoder, put, putInt, tokenString } from "./bytes.ts";
import { type ConnectOptions, parseConnect } from "./connect.ts";
import type { Account, Origin, PermissionChecker, ServerContext } from "./context.ts";
import { deliverInAccount } from "./deliver.ts";
import { Err } from "./errors.ts";
import { Closed, closeDescriptor } from "../core/close_reasons.ts";
import { infoLine } from "./info.ts";
import { Outbound } from "./outbound.ts";
import { Parser, type ParserHandler } from "./parser.ts";
import type { ClientSub, Subscriber } from "./subscription.ts";
import type { Transport } from "./transport.ts";

const OK = encoder.encode("+OK\r\n");
const PING = encoder.encode("PING\r\n");
const PONG = encoder.encode("PONG\r\n");
const MSG_ = encoder.encode("MSG ");
const HMSG_ = encoder.encode("HMSG ");
const NO_RESPONDERS_HDR = encoder.encode(" 16 16\r\nNATS/1.0 503\r\n\r\n\r\n");
const textDecoder = new TextDecoder();

/** The first server PING comes at most this soon after CONNECT (the reference's 2s). */
const FIRST_PING_MS = 2000;
/** The reference re-measures the round trip with a PING at least this often (1h). */
const RTT_INTERVAL_MS = 60 * 60 * 1000;

/** Per-connection counters (for monitoring). */
export interface ClientStats {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
}

/** A NATS client connection. */
export class ClientConnection implements ParserHandler, Subscriber, Origin {
  readonly cid: number;
  readonly transport: Transport;
  readonly startedAt = new Date();
  readonly stats: ClientStats = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
  account: Account;
  identity?: Identity;
  connectOpts?: ConnectOptions;
  closeReason?: string;
  /**
   * Round-trip estimate in ns (the reference's `c.rtt`): accept→CONNECT at first, then each
   * server PING→PONG. Sent to service exporters in the `Nats-Request-Info` header.
   */
  rttNs = 0;
  private readonly ctx: ServerContext;
  private readonly parser: Parser;
  private readonly out: Outbound;
  private readonly subs = new Map<string, ClientSub>();
  private perms: PermissionChecker | null = null;
  private verbose = false;
  /** -V: trace protocol ops (checked before building any trace text). */
  private readonly tracing: boolean;
  /** `vVERSION:LANG:NAME` from CONNECT, as the reference shows it in log lines. */
  private clientTag = "";
  private echo = true;
  private headers = false;
  private noResponders = false;
  private closed = false;
  private nonce?: string;
  private authTimer?: ReturnType<typeof setTimeout>;
  private pingTimer?: ReturnType<typeof setTimeout>;
  private pingsOut = 0;
  private pingSentAt = 0;
  /** When the last server PING (an RTT measurement) was sent; 0 = never. */
  private rttStartedAt = 0;
  private readonly acceptedAt = performance.now();
  private lastActivity = performance.now();
  /** Set when a message or subscription op arrived since the last read (cheaper than a clock). */
  private msgActivity = false;
  private lastPingIn = 0;
  /** Input held back while the parser is paused (auth in progress). */
  private held: Uint8Array | null = null;

  constructor(ctx: ServerContext, transport: Transport, cid: number, nonce?: string) {
    this.ctx = ctx;
    this.cid = cid;
    this.transport = transport;
    this.nonce = nonce;
    this.account = ctx.account("$G");
    this.tracing = ctx.log.traceEnabled;
    const o = ctx.options;
    this.parser = new Parser(this, {
      maxControlLine: o.maxControlLine,
      maxPayload: o.maxPayload,
      headers: false,
      pedantic: false,
      awaitingConnect: false,
    });
    this.out = new Outbound({
      write: (data) => transport.write(data),
      onWriteError: () => this.close(Closed.writeError, false),
    });
  }

  /** `host:port - cid:N`, the reference's log prefix. */
  toString(): string {
    const p = this.transport.peer;
    const fwd = p.ws?.forwardedFor ? `${p.ws.forwardedFor}/` : "";
    const tag = p.kind === "WEBSOCKET" ? "wid" : "cid";
    return `${fwd}${joinHostPort(p.hostname, p.port)} - ${tag}:${this.cid}`;
  }

  /** Whether this connection is closed or closing. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Number of subscriptions. */
  get subscriptionCount(): number {
    return this.subs.size;
  }

  /** Bytes waiting to be written. */
  get pendingBytes(): number {
    return this.out.pending;
  }

  /** When the connection was accepted (performance.now()); monitoring's `start`. */
  get acceptedTime(): number {
    return this.acceptedAt;
  }

  /**
   * Last message or subscription activity, or CONNECT (performance.now()); monitoring's
   * `last_activity`, as the reference updates it.
   */
  get lastActivityTime(): number {
    return this.lastActivity;
  }

  /** The connection's subscriptions (live view; do not modify them). */
  subscriptions(): IterableIterator<ClientSub> {
    return this.subs.values();
  }

  /** When the in-flight write started (performance.now()), 0 when idle. */
  get writeStartedAt(): number {
    return this.out.writeStartedAt;
  }

  /** Sends INFO and starts the auth and ping timers. */
  start(): void {
    if (this.ctx.log.debugEnabled) this.ctx.log.debug(`${this} - Client connection created`);
    const auth = this.ctx.authenticator;
    const kind = this.transport.peer.kind;
    const authRequired = auth.authRequired(kind);
    const info = {
      ...this.ctx.baseInfo(),
      auth_required: authRequired,
      client_id: this.cid,
      client_ip: this.transport.peer.hostname,
      nonce: this.nonce,
    };
    this.out.push(encoder.encode(infoLine(info)));
    if (auth.authEnforced?.(kind) ?? authRequired) {
      this.parser.limits.awaitingConnect = true;
      this.authTimer = setTimeout(() => {
        this.authTimer = undefined;
        this.sendErr(Err.authTimeout);
        this.close(Closed.authTimeout);
      }, auth.timeoutMs(kind));
    }
    this.schedulePing(this.firstPingDelay());
  }

  /** Feeds bytes read from the transport. The bytes may be reused by the caller afterwards. */
  receive(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.held) {
      const merged = new Uint8Array(this.held.length + bytes.length);
      merged.set(this.held);
      merged.set(bytes, this.held.length);
      this.held = merged;
      if (merged.length > this.ctx.options.maxPending) this.close(Closed.readError, false);
      return;
    }
    this.msgActivity = false;
    const used = this.parser.parse(bytes);
    if (this.msgActivity) this.lastActivity = performance.now();
    if (used < bytes.length && !this.closed) this.held = bytes.slice(used);
  }

  /** The transport saw EOF or a read error. */
  transportClosed(err?: unknown): void {
    this.close(err ? Closed.readError : Closed.clientClosed, false);
  }

  /** Queues `-ERR '<text>'`. */
  sendErr(text: string): void {
    this.out.push(encoder.encode(`-ERR '${text}'\r\n`));
    if (this.tracing) this.traceOut(`[-ERR '${text}']`);
  }

  /**
   * Closes the connection with a reference closed-state reason. With `flush`, queued bytes
   * (e.g. a final -ERR) are written first, bounded by the write deadline.
   */
  close(reason: string, flush = true): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    if (this.ctx.log.debugEnabled) {
      this.ctx.log.debug(`${this.logPrefix()} - Client connection closed: ${reason}`);
    }
    // Ops pipelined behind the one that closed us (e.g. PING after a failed CONNECT) are not
    // processed, as in the reference.
    this.parser.paused = true;
    clearTimeout(this.authTimer);
    clearTimeout(this.pingTimer);
    // Before the subscriptions go: monitoring keeps them with the closed connection.
    this.ctx.removeClient(this.cid);
    const account = this.account;
    for (const sub of this.subs.values()) account.sublist.remove(sub);
    if (account.links !== null) {
      for (const sub of this.subs.values()) account.links.interestLost(account, sub.subject);
    }
    this.subs.clear();
    this.held = null;
    const finish = () => {
      this.out.close();
      this.transport.close(closeDescriptor(reason));
    };
    if (!flush) return finish();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.ctx.options.writeDeadlineMs);
    });
    Promise.race([this.out.drained(), deadline]).then(() => {
      clearTimeout(timer);
      finish();
    });
  }

  // ---- parser handler -------------------------------------------------------------------------

  onOpBeforeConnect(): boolean {
    const id = this.ctx.authenticator.noAuthIdentity?.() ?? null;
    if (!id) return false;
    clearTimeout(this.authTimer);
    this.bind(id);
    return true;
  }

  onConnect(json: Uint8Array): void {
    if (this.authTimer !== undefined) {
      clearTimeout(this.authTimer);
      this.authTimer = undefined;
    }
    const text = textDecoder.decode(json);
    if (this.tracing) this.traceIn(`[CONNECT ${redactPassword(text)}]`);
    let opts: ConnectOptions;
    try {
      opts = parseConnect(text);
    } catch {
      return this.close(Closed.protocolViolation);
    }
    this.connectOpts = opts;
    this.clientTag = clientTag(opts);
    this.lastActivity = performance.now();
    this.rttNs = elapsedNs(this.acceptedAt);
    this.echo = opts.echo;
    this.verbose = opts.verbose;
    this.headers = !this.ctx.options.noHeaderSupport && opts.headers;
    this.noResponders = opts.no_responders;
    this.parser.limits.headers = this.headers;
    this.parser.limits.pedantic = opts.pedantic;
    this.parser.limits.awaitingConnect = false;
    const creds: ConnectCredentials = {
      user: opts.user,
      pass: opts.pass,
      auth_token: opts.auth_token,
      nkey: opts.nkey,
      sig: opts.sig,
      jwt: opts.jwt ?? this.transport.peer.ws?.cookieJwt,
    };
    const result = this.ctx.authenticator.authenticate(creds, this.transport.peer, this.nonce);
    if (result instanceof Promise) {
      this.parser.paused = true;
      result.then((id) => this.afterAuth(id, opts), () => this.afterAuth(null, opts)).finally(
        () => this.resume(),
      );
    } else this.afterAuth(result, opts);
    this.schedulePing(this.firstPingDelay());
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
    msg: Uint8Array,
  ): void {
    const stats = this.stats;
    stats.inMsgs++;
    stats.inBytes += msg.length;
    const g = this.ctx.stats;
    g.inMsgs++;
    g.inBytes += msg.length;
    this.msgActivity = true;
    if (this.tracing) this.traceMsgIn(subject, replyB, hdrLen, sizeTok, msg);
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
    const delivered = deliverInAccount(
      this.account,
      this.echo ? null : this,
      subject,
      subjectB,
      replyB,
      hdrLen,
      sizeTok,
      msg,
      this,
      null,
    );
    if (delivered === 0 && replyB !== null && this.noResponders) this.sendNoResponders(replyB);
  }

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
    if (max > 0 && this.subs.size >= max) {
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
        sidBytes: sidB.slice(),
        client: this,
        max: 0,
        delivered: 0,
      };
      this.subs.set(sid, sub);
      this.account.sublist.insert(sub);
    }
    if (this.verbose) this.sendOK();
  }

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

  onPing(): void {
    if (this.tracing) this.traceIn("[PING]");
    this.out.push(PONG);
    if (this.tracing) this.traceOut("[PONG]");
    this.lastPingIn = performance.now();
  }

  onPong(): void {
    if (this.tracing) this.traceIn("[PONG]");
    this.pingsOut = 0;
    if (this.pingSentAt > 0) {
      this.rttNs = elapsedNs(this.pingSentAt);
      this.pingSentAt = 0;
    }
  }

  onInfo(json: Uint8Array): void {
    try {
      JSON.parse(textDecoder.decode(json));
    } catch {
      this.close(Closed.protocolViolation);
    }
  }

  onPeerError(_text: Uint8Array): void {
    this.close(Closed.parseError);
  }

  onFatal(err: string | null, reason: string): void {
    if (err) this.sendErr(err);
    this.close(reason);
  }

  // ---- delivery -------------------------------------------------------------------------------

  deliver(
    sub: ClientSub,
    subject: Uint8Array,
    reply: Uint8Array | null,
    hdrLen: number,
    sizeTok: Uint8Array,
    msg: Uint8Array,
    subjectText: string,
  ): boolean {
    if (this.closed) return false;
    if (this.perms && !this.perms.deliverAllowed(subjectText)) return false;
    if (sub.max > 0 && sub.delivered >= sub.max) {
      this.removeSub(sub);
      return false;
    }
    sub.delivered++;
    const sid = sub.sidBytes;
    const strip = hdrLen >= 0 && !this.headers;
    const payload = strip ? msg.subarray(hdrLen) : msg;
    const useSizeTok = hdrLen < 0;
    const sizeLen = useSizeTok ? sizeTok.length : decimalLength(payload.length);
    const withHdr = hdrLen >= 0 && !strip;
    const n = (withHdr ? 5 + decimalLength(hdrLen) + 1 : 4) + subject.length + 1 + sid.length +
      1 + (reply ? reply.length + 1 : 0) + sizeLen + 2 + payload.length + 2;
    const out = this.out;
    const buf = out.reserve(n);
    let p = put(buf, out.len, withHdr ? HMSG_ : MSG_);
    p = put(buf, p, subject);
    buf[p++] = 32;
    p = put(buf, p, sid);
    buf[p++] = 32;
    if (reply) {
      p = put(buf, p, reply);
      buf[p++] = 32;
    }
    if (withHdr) {
      p = putInt(buf, p, hdrLen);
      buf[p++] = 32;
    }
    p = useSizeTok ? put(buf, p, sizeTok) : putInt(buf, p, payload.length);
    buf[p++] = 13;
    buf[p++] = 10;
    p = put(buf, p, payload);
    buf[p++] = 13;
    buf[p++] = 10;
    out.len = p;
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
    if (out.pending > this.ctx.options.maxPending) this.slowConsumer();
    return true;
  }

  // ---- internals ------------------------------------------------------------------------------

  /** The log prefix, with the client's `"vVERSION:LANG:NAME"` once CONNECT told it. */
  private logPrefix(): string {
    return this.clientTag ? `${this} - ${JSON.stringify(this.clientTag)}` : `${this}`;
  }

  private traceIn(text: string): void {
    this.ctx.log.trace(`${this.logPrefix()} - <<- ${text}`);
  }

  private traceOut(text: string): void {
    this.ctx.log.trace(`${this.logPrefix()} - ->> ${text}`);
  }

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

  /** Binds the connection to an authenticated identity (moving subscriptions across accounts). */
  private bind(id: Identity): void {
    this.identity = id;
    this.perms = id.permissions ? this.ctx.permissionChecker(id.permissions) : null;
    if (id.account !== this.account.name) {
      const next = this.ctx.account(id.account);
      for (const sub of this.subs.values()) {
        this.account.sublist.remove(sub);
        next.sublist.insert(sub);
      }
      this.account = next;
    }
  }

  private resume(): void {
    this.parser.paused = false;
    const held = this.held;
    this.held = null;
    if (held && !this.closed) this.receive(held);
  }

  private removeSub(sub: ClientSub): void {
    if (this.subs.get(sub.sid) === sub) this.subs.delete(sub.sid);
    const account = this.account;
    if (account.sublist.remove(sub) && account.links !== null) {
      account.links.interestLost(account, sub.subject);
    }
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

  private slowConsumer(): void {
    this.ctx.stats.slowConsumers++;
    this.ctx.log.info(
      `${this} - Slow Consumer Detected: MaxPending of ${this.ctx.options.maxPending} Exceeded`,
    );
    this.close(Closed.slowConsumerPending, false);
  }

  private firstPingDelay(): number {
    const d = Math.min(this.ctx.options.pingIntervalMs, FIRST_PING_MS);
    return d + Math.floor(Math.random() * (d / 5));
  }

  private schedulePing(ms: number): void {
    clearTimeout(this.pingTimer);
    if (this.closed) return;
    this.pingTimer = setTimeout(() => this.pingTimerFired(), ms);
  }

  private pingTimerFired(): void {
    if (this.closed) return;
    const interval = this.ctx.options.pingIntervalMs;
    const now = performance.now();
    // Like the reference, a PING also measures the round trip: the first one always goes, and
    // one goes at least hourly; otherwise recent activity makes it unnecessary.
    const needRtt = this.rttStartedAt === 0 || now - this.rttStartedAt > RTT_INTERVAL_MS;
    const active = now - this.lastActivity < interval || now - this.lastPingIn < interval;
    if (needRtt || !active) {
      if (this.pingsOut + 1 > this.ctx.options.pingMax) {
        this.ctx.log.debug(`${this} - Stale Client Connection - Closing`);
        this.sendErr(Err.staleConnection);
        return this.close(Closed.staleConnection);
      }
      this.pingsOut++;
      this.pingSentAt = this.rttStartedAt = now;
      this.out.push(PING);
    }
    this.schedulePing(interval);
  }

  /** Called by the server's write-deadline sweep. */
  writeDeadlineExceeded(): void {
    this.ctx.stats.slowConsumers++;
    this.ctx.log.info(`${this} - Slow Consumer Detected: WriteDeadline exceeded`);
    this.close(Closed.slowConsumerDeadline, false);
  }
}

/** Nanoseconds since `since` (performance.now() ms), at least 1 (the reference's computeRTT). */
function elapsedNs(since: number): number {
  return Math.max(1, Math.round((performance.now() - since) * 1e6));
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
