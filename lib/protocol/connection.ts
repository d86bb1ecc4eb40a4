/**
 * The connection core every connection kind shares: INFO, the auth timer, PING/PONG with the
 * round-trip estimate and stale detection, the outbound buffer with its write deadline, and
 * close with a reason. What a kind's ops do lives in its subclass (the client in `client.ts`;
 * leafnodes and routes next), with the op table its parser is built with.
 * Transport-agnostic: TCP and WebSocket connections are the same here.
 *
 * @module
 */
import { joinHostPort } from "../core/gofmt.ts";
import { Closed, closeDescriptor } from "../core/close_reasons.ts";
import type { ConnKind } from "../core/kinds.ts";
import type { Origin } from "../routing/message.ts";
import { encoder } from "./bytes.ts";
import type { Account, ServerContext } from "./context.ts";
import { Err } from "./errors.ts";
import { type DeadlineItem, pingDeadlines } from "./deadlines.ts";
import { Flow, type FlowHost, goDurationMs } from "./flow.ts";
import { infoLine } from "./info.ts";
import { Outbound, type OutboundSink } from "./outbound.ts";
import { type OpHandler, type OpTable, Parser, type ParserLimits } from "./parser.ts";
import type { Transport } from "./transport.ts";

const PING = encoder.encode("PING\r\n");
const PONG = encoder.encode("PONG\r\n");

/** The first server PING comes at most this soon after CONNECT (the reference's 2s). */
const FIRST_PING_MS = 2000;
/** The reference re-measures the round trip with a PING at least this often (1h). */
const RTT_INTERVAL_MS = 60 * 60 * 1000;

/** Per-connection counters (for monitoring). */
export interface ConnectionStats {
  /** Messages received from the peer. */
  inMsgs: number;
  /** Messages sent to the peer. */
  outMsgs: number;
  /** Payload bytes received. */
  inBytes: number;
  /** Payload bytes sent. */
  outBytes: number;
}

/** Parser limits that follow the server's current options (reload swaps them). */
class LiveLimits implements ParserLimits {
  headers = false;
  pedantic = false;
  awaitingConnect = false;
  /** A per-connection payload cap below the server's (a user JWT's limit); -1 = none. */
  payloadCap = -1;
  constructor(
    private readonly ctx: ServerContext,
    private readonly controlLines: boolean,
  ) {}
  get maxControlLine(): number {
    return this.controlLines ? this.ctx.options.maxControlLine : Number.MAX_SAFE_INTEGER;
  }
  get maxPayload(): number {
    const max = this.ctx.options.maxPayload;
    return this.payloadCap >= 0 && this.payloadCap < max ? this.payloadCap : max;
  }
}

/** One connection of any kind: the lifecycle around the kind's ops. */
/**
 * The connection is itself its {@link Flow}'s host and its {@link Outbound}'s sink (prototype
 * methods: no closures or host objects per connection).
 */
export abstract class Connection
  implements OpHandler, Origin, FlowHost, OutboundSink, DeadlineItem {
  /** The reference's connection kind (what loop and hub/spoke rules read). */
  abstract readonly kind: ConnKind;
  /** The connection id. */
  readonly cid: number;
  /** The byte pipe to the peer. */
  readonly transport: Transport;
  /** When the connection was accepted. */
  readonly startedAt = new Date();
  /** Message counters. */
  readonly stats: ConnectionStats = { inMsgs: 0, outMsgs: 0, inBytes: 0, outBytes: 0 };
  /** The account the connection is bound to. */
  account: Account;
  /** Why the connection closed (the reference's closed-state text), once it did. */
  closeReason?: string;
  /**
   * Round-trip estimate in ns (the reference's `c.rtt`): accept→CONNECT at first, then each
   * server PING→PONG. Sent to service exporters in the `Nats-Request-Info` header.
   */
  rttNs = 0;
  protected readonly ctx: ServerContext;
  protected readonly parser: Parser<OpHandler>;
  private readonly limits: LiveLimits;
  protected readonly out: Outbound;
  /** -V: trace protocol ops (checked before building any trace text). */
  protected tracing: boolean;
  /** A PONG answered a PING after CONNECT (from then on async INFO may be sent). */
  protected pongSent = false;
  /** CONNECT was received. */
  protected connected = false;
  /** Extra log prefix tag (a client's `vVERSION:LANG:NAME`), empty when none. */
  protected tag = "";
  protected closed = false;
  private authTimer?: ReturnType<typeof setTimeout>;
  /** The ping timer's due time and heap slot (one shared timer, {@link pingDeadlines}). */
  deadlineAt = 0;
  deadlineSlot = -1;
  private pingsOut = 0;
  private pingSentAt = 0;
  /** When the last server PING (an RTT measurement) was sent; 0 = never. */
  private rttStartedAt = 0;
  private readonly acceptedAt = performance.now();
  protected lastActivity = performance.now();
  /** Set when a message or subscription op arrived since the last read (cheaper than a clock). */
  protected msgActivity = false;
  private lastPingIn = 0;
  /** Caps the payload size below the server's `max_payload` (-1 = no cap). */
  protected capPayload(max: number): void {
    this.limits.payloadCap = max;
  }

  /** Input held back while the parser is paused (auth in progress, or flow control). */
  private held: Uint8Array[] | null = null;
  /** Bytes that arrived while paused (bounded by max_pending). */
  private heldLen = 0;
  /** Set while held input is processed regardless of flow control (see heldOverflow). */
  private overrun = false;
  /**
   * Flow control: this connection as a producer that a filling consumer pauses, and as a
   * consumer that pauses its producers (delivery finds it through the message's origin).
   */
  readonly flow: Flow;

  protected constructor(
    ctx: ServerContext,
    transport: Transport,
    cid: number,
    table: OpTable<never>,
  ) {
    this.ctx = ctx;
    this.cid = cid;
    this.transport = transport;
    this.account = ctx.account("$G");
    this.tracing = ctx.log.traceEnabled;
    this.limits = new LiveLimits(ctx, table.limitsControlLine !== false);
    this.parser = new Parser<OpHandler>(this, this.limits, table as unknown as OpTable<OpHandler>);
    this.flow = new Flow(this);
    this.out = new Outbound(this);
  }

  /** {@link FlowHost}: stop parsing after the current op (not while an overrun is processed). */
  pauseInput(): void {
    if (!this.overrun) this.parser.paused = true;
  }

  /** {@link FlowHost}: a debug line about this connection. */
  debug(text: string): void {
    this.ctx.log.debug(`${this} - ${text}`);
  }

  /** {@link FlowHost}: whether debug logging is on. */
  get debugEnabled(): boolean {
    return this.ctx.log.debugEnabled;
  }

  /** {@link OutboundSink}: the outbound queue's bytes go to the transport. */
  write(data: Uint8Array): Promise<void> {
    return this.transport.write(data);
  }

  /** {@link OutboundSink}: a write failed. */
  onWriteError(): void {
    this.close(Closed.writeError, false);
  }

  /** {@link OutboundSink}: a write finished; a stalling consumer tells its flow. */
  onProgress(pending: number, flushed: boolean): void {
    if (this.flow.stalling) this.flow.progressed(pending, this.ctx.options.maxPending, flushed);
  }

  /** "Client", "Leafnode", ...: how log lines name this kind. */
  protected abstract get label(): string;

  /** The kind's INFO fields for this connection. */
  protected abstract info(): Record<string, unknown>;

  /** Whether the peer must authenticate (CONNECT first, within the auth timeout). */
  protected abstract authEnforced(): boolean;

  /** The auth timeout in ms. */
  protected abstract authTimeoutMs(): number;

  /** Releases the kind's state at close (subscriptions, interest). */
  protected abstract released(): void;

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

  /** When the in-flight write started (performance.now()), 0 when idle. */
  get writeStartedAt(): number {
    return this.out.writeStartedAt;
  }

  /** Sends INFO and starts the auth and ping timers. */
  start(): void {
    if (this.ctx.log.debugEnabled) this.ctx.log.debug(`${this} - ${this.label} connection created`);
    this.out.push(encoder.encode(infoLine(this.info())));
    if (this.authEnforced()) {
      this.parser.limits.awaitingConnect = true;
      this.authTimer = setTimeout(() => {
        this.authTimer = undefined;
        this.sendErr(Err.authTimeout);
        this.close(Closed.authTimeout);
      }, this.authTimeoutMs());
    }
    this.schedulePing(this.firstPingDelay());
  }

  /**
   * Feeds bytes read from the transport. The bytes may be reused by the caller afterwards.
   * Returns a promise while flow control pauses this connection: read nothing more until it
   * settles (what arrives anyway is held).
   */
  receive(bytes: Uint8Array): void | Promise<void> {
    if (this.closed) return;
    if (this.held !== null) {
      this.held.push(bytes.slice());
      this.heldLen += bytes.length;
      if (this.heldLen > this.ctx.options.maxPending) this.heldOverflow();
      return this.flow.readGate() ?? undefined;
    }
    this.msgActivity = false;
    const used = this.parser.parse(bytes);
    if (this.msgActivity) this.lastActivity = performance.now();
    if (used < bytes.length && !this.closed) {
      this.held = [bytes.slice(used)];
      this.heldLen = 0;
      return this.flow.readGate() ?? undefined;
    }
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
      this.ctx.log.debug(`${this.logPrefix()} - ${this.label} connection closed: ${reason}`);
    }
    // Ops pipelined behind the one that closed us (e.g. PING after a failed CONNECT) are not
    // processed, as in the reference.
    this.parser.paused = true;
    this.stopAuthTimer();
    pingDeadlines.cancel(this);
    // Before the subscriptions go: monitoring keeps them with the closed connection.
    this.ctx.removeClient(this.cid);
    this.released();
    this.held = null;
    this.flow.dispose();
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

  /** Called by the server's write-deadline sweep: the in-flight write made no progress. */
  writeDeadlineExceeded(): void {
    // Awaiting an auth CONNECT, the reference closes without counting or logging.
    if (!this.parser.limits.awaitingConnect) {
      this.ctx.stats.slowConsumers++;
      const wd = goDurationMs(this.ctx.options.writeDeadlineMs);
      const bytes = this.out.pending;
      const chunks = Math.max(1, Math.ceil(bytes / CHUNK_SIZE));
      this.ctx.log.info(
        `${this} - Slow Consumer Detected: WriteDeadline of ${wd} exceeded with ${chunks} chunks of ${bytes} total bytes.`,
      );
    }
    this.close(Closed.slowConsumerDeadline, false);
  }

  // ---- ops every kind has ---------------------------------------------------------------------

  /** A non-CONNECT op arrived first while auth is pending; by default that is a violation. */
  onOpBeforeConnect(): boolean {
    return false;
  }

  /** PING from the peer. */
  onPing(): void {
    if (this.tracing) this.traceIn("[PING]");
    this.out.push(PONG);
    if (this.tracing) this.traceOut("[PONG]");
    this.lastPingIn = performance.now();
    if (this.connected) this.pongSent = true;
  }

  /** PONG from the peer: an answer to our PING (round trip measured). */
  onPong(): void {
    if (this.tracing) this.traceIn("[PONG]");
    this.pingsOut = 0;
    if (this.pingSentAt > 0) {
      this.rttNs = elapsedNs(this.pingSentAt);
      this.pingSentAt = 0;
    }
  }

  /** The peer sent `-ERR`: the reference closes the connection without a reply. */
  onPeerError(_text: Uint8Array): void {
    this.close(Closed.parseError);
  }

  /** A fatal protocol error: send `err` (when not null) and close with `reason`. */
  onFatal(err: string | null, reason: string): void {
    if (err) this.sendErr(err);
    this.close(reason);
  }

  // ---- server operations on open connections (config reload, lame duck) ---------------------

  /** Queues an async INFO: the kind's INFO in force (no nonce) and `extra` (e.g. `ldm`). */
  sendAsyncInfo(extra: Record<string, unknown>): void {
    this.out.push(encoder.encode(infoLine({ ...this.info(), nonce: undefined, ...extra })));
  }

  /** How log lines name it: `host:port - cid:N`, with the client's tag once CONNECT told it. */
  get logName(): string {
    return this.logPrefix();
  }

  /** Re-reads what it caches from the logger (the trace level) after a reload. */
  refreshSettings(): void {
    this.tracing = this.ctx.log.traceEnabled;
  }

  // ---- for the kinds --------------------------------------------------------------------------

  /** CONNECT arrived: the auth timer stops, the round trip so far is measured, pings re-armed. */
  protected connectReceived(): void {
    this.connected = true;
    this.stopAuthTimer();
    this.lastActivity = performance.now();
    this.rttNs = elapsedNs(this.acceptedAt);
    this.parser.limits.awaitingConnect = false;
  }

  /** Stops the auth timer (authenticated, or no auth needed after all). */
  protected stopAuthTimer(): void {
    if (this.authTimer !== undefined) {
      clearTimeout(this.authTimer);
      this.authTimer = undefined;
    }
  }

  /** Re-arms the first (round-trip) PING after CONNECT. */
  protected restartPings(): void {
    this.schedulePing(this.firstPingDelay());
  }

  /** Stops reading until {@link resume} (e.g. while auth runs); input is held meanwhile. */
  protected pause(): void {
    this.parser.paused = true;
  }

  /** Continues with the input held while paused (see {@link resumeInput}). */
  protected resume(): void {
    this.resumeInput();
  }

  /** The log prefix, with the kind's tag (a client's `"vVERSION:LANG:NAME"`) once known. */
  protected logPrefix(): string {
    return this.tag ? `${this} - ${JSON.stringify(this.tag)}` : `${this}`;
  }

  /** A `<<-` trace line. */
  protected traceIn(text: string): void {
    this.ctx.log.trace(`${this.logPrefix()} - <<- ${text}`);
  }

  /** A `->>` trace line. */
  protected traceOut(text: string): void {
    this.ctx.log.trace(`${this.logPrefix()} - ->> ${text}`);
  }

  /** Outbound passed max_pending: cut as a slow consumer. */
  protected slowConsumer(): void {
    this.ctx.stats.slowConsumers++;
    this.ctx.log.info(
      `${this} - Slow Consumer Detected: MaxPending of ${this.ctx.options.maxPending} Exceeded`,
    );
    this.close(Closed.slowConsumerPending, false);
  }

  /**
   * {@link FlowHost}: parses held input after a pause; returns true when flow control paused it
   * again.
   */
  resumeInput(): boolean {
    if (this.closed) return false;
    this.parser.paused = false;
    const held = this.held;
    if (held === null) return false;
    this.held = null;
    this.heldLen = 0;
    for (let i = 0; i < held.length; i++) {
      this.receive(held[i]);
      const again = this.held as Uint8Array[] | null;
      if (again === null) continue;
      // Paused again: what was not parsed yet stays held, in order.
      for (let j = i + 1; j < held.length; j++) again.push(held[j]);
      break;
    }
    return this.flow.paused && this.held !== null;
  }

  /**
   * More input arrived while paused than max_pending allows. During auth that is a read error;
   * under flow control (a transport that cannot stop reading, such as Deno's WebSocket) the
   * held input is processed without pausing, so the consumer is cut if it really lags.
   */
  private heldOverflow(): void {
    if (!this.flow.paused) return this.close(Closed.readError, false);
    this.overrun = true;
    try {
      this.resumeInput();
    } finally {
      this.overrun = false;
    }
  }

  private firstPingDelay(): number {
    const d = Math.min(this.ctx.options.pingIntervalMs, FIRST_PING_MS);
    return d + Math.floor(Math.random() * (d / 5));
  }

  private schedulePing(ms: number): void {
    if (this.closed) return pingDeadlines.cancel(this);
    pingDeadlines.schedule(this, ms);
  }

  /** The ping timer is due (called by {@link pingDeadlines}). */
  deadlineFired(): void {
    if (this.closed) return;
    const interval = this.ctx.options.pingIntervalMs;
    const now = performance.now();
    // Like the reference, a PING also measures the round trip: the first one always goes, and
    // one goes at least hourly; otherwise recent activity makes it unnecessary.
    const needRtt = this.rttStartedAt === 0 || now - this.rttStartedAt > RTT_INTERVAL_MS;
    const active = now - this.lastActivity < interval || now - this.lastPingIn < interval;
    if (needRtt || !active) {
      if (this.pingsOut + 1 > this.ctx.options.pingMax) {
        this.ctx.log.debug(`${this} - Stale ${this.label} Connection - Closing`);
        this.sendErr(Err.staleConnection);
        return this.close(Closed.staleConnection);
      }
      this.pingsOut++;
      this.pingSentAt = this.rttStartedAt = now;
      this.out.push(PING);
    }
    this.schedulePing(interval);
  }
}

/** The reference's outbound buffer size (`maxBufSize`), for its chunk count in log lines. */
const CHUNK_SIZE = 64 * 1024;

/** Nanoseconds since `since` (performance.now() ms), at least 1 (the reference's computeRTT). */
function elapsedNs(since: number): number {
  return Math.max(1, Math.round((performance.now() - since) * 1e6));
}
