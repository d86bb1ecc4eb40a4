/**
 * The own-codec WebSocket engine: it owns the socket, so it can do what `Deno.upgradeWebSocket`
 * cannot — permessage-deflate (RFC 7692), a `handshake_timeout` that runs from TCP accept through
 * TLS and the HTTP upgrade, and client-certificate verification on `wss://`.
 *
 * * Plain `ws://`: `Deno.listen` (the TCP transport's listener and byte pipe).
 * * `wss://`: a `node:net` listener; the first bytes are peeked (plain HTTP on the TLS port gets
 *   Go's `400 … Client sent an HTTP request to an HTTPS server`), then `node:tls` runs the
 *   handshake with `requestCert`/`rejectUnauthorized` when `tls.verify` is set
 *   ({@link TlsAcceptor}).
 * * The request head is parsed by {@link HttpHeadReader} (Go's acceptance rules and error bytes),
 *   checked by the shared {@link checkUpgradeRequest}, and answered with the shared
 *   {@link build101Response} / {@link buildErrorResponse}. Keep-alive after an error response,
 *   as Go's server does.
 * * Frames: the shared {@link WsFrameDecoder} and {@link encodeBinaryFrames}. One write of the
 *   protocol = one frame batch = one socket write; control replies are serialized with data.
 *
 * @example
 * ```ts ignore
 * import { startCodecWsListener } from "./codec_engine.ts";
 *
 * const listener = await startCodecWsListener({
 *   host: "127.0.0.1", port: 0, sameOrigin: false, allowedOrigins: new Map(),
 *   compression: true, handshakeTimeoutMs: 2000, trustedProxies: [],
 * }, {
 *   onClient: (transport) => server.addClient(transport),
 *   logError: console.error,
 *   logDebug: () => {},
 * });
 * console.log(listener.port);
 * await listener.close(SERVER_SHUTDOWN_CLOSE);
 * ```
 *
 * @module
 */

import { joinHostPort } from "../../core/gofmt.ts";
import type net from "node:net";
import type { ConnectionKind } from "../../core/kinds.ts";
import type { CloseDescriptor } from "../../core/close_reasons.ts";
import type { ByteSink, PeerInfo, Transport } from "../../protocol/transport.ts";
import { TcpListener, TcpTransport } from "../tcp.ts";
import {
  listenNet,
  type NetListener,
  NodeSocketTransport,
  peekFirstBytes,
  TLS_RECORD_HEADER_LEN,
  TlsAcceptor,
  tlsPeerInfo,
} from "../tls_server.ts";
import {
  type StartWsListener,
  upgradedHook,
  type WsEngineHooks,
  type WsListener,
  type WsListenerOptions,
  type WsTlsConfig,
} from "./engine.ts";
import {
  BROWSER_MAX_FRAME,
  concatBytes,
  DEFAULT_MAX_DECOMPRESSED,
  encodeBinaryFrames,
  type EncodeBinaryOptions,
  encodeCloseFrame,
  WsFrameDecoder,
} from "./frames.ts";
import {
  build101Response,
  buildErrorResponse,
  checkUpgradeRequest,
  HANDSHAKE_REASON,
  handshakeErrorLog,
  toWebSocketPeer,
  type UpgradeAccepted,
  type UpgradeRequest,
} from "./handshake.ts";
import {
  HttpHeadReader,
  type HttpRequestHead,
  looksLikeHttp,
  RESPONSE_HTTP_ON_TLS,
} from "./http_head.ts";

/** How long a closing connection may take to write its last frames (close frame, echo). */
export const CLOSE_FLUSH_MS = 2000;
/** How long `WsListener.close()` waits for connections to finish closing. */
const SHUTDOWN_WAIT_MS = 3000;

/** A raw byte pipe: the TCP transport or a node socket transport, before any framing. */
interface Pipe extends Transport {
  readInto(sink: ByteSink): Promise<void>;
}

/** Closing after a close frame already went out (or when none may be sent). */
const NO_CLOSE_FRAME: CloseDescriptor = { wsCode: null, text: "" };

function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p.then(() => {}, () => {}),
    new Promise<void>((r) => timer = setTimeout(r, ms)),
  ]).finally(() => clearTimeout(timer));
}

const noop = () => {};
/** The settled start of a write chain (shared: an idle connection allocates none). */
const SETTLED: Promise<void> = Promise.resolve();

// ---------------------------------------------------------------------------------------------
// The upgraded connection

/** Settings of one upgraded connection. */
export interface CodecWsTransportOptions {
  /** Outbound framing: compression (negotiated), browser frame limit, Safari rule. */
  encode: EncodeBinaryOptions;
  /** `Nats-No-Masking: true` was negotiated. */
  noMasking: boolean;
  /** Bound on one inflated message. */
  maxDecompressed: number;
  logDebug(msg: string): void;
}

/**
 * An upgraded WebSocket over a raw pipe, as a protocol {@link Transport}: `write` frames the
 * protocol's bytes (one batch, one socket write) and resolves when the socket took them; inbound
 * frames are decoded and their payloads fed to the sink; pings are answered, closes echoed,
 * protocol errors answered with close 1002, as the reference does.
 */
export class CodecWsTransport implements Transport {
  readonly peer: PeerInfo;
  readonly #pipe: Pipe;
  readonly #decoder: WsFrameDecoder;
  readonly #encode: EncodeBinaryOptions;
  readonly #logDebug: (msg: string) => void;
  #sink: ByteSink | null = null;
  #sinkDone = false;
  /** Writes queued or in flight, and the promise that settles after the last one. */
  #inflight = 0;
  #tail: Promise<void> = SETTLED;
  #closing = false;
  /** A close frame went out (ours, an echo, or a protocol-error reply). */
  #closeSent = false;
  #gone = false;
  #goneWaiters: (() => void)[] | null = null;

  constructor(pipe: Pipe, peer: PeerInfo, opts: CodecWsTransportOptions) {
    this.#pipe = pipe;
    this.peer = peer;
    this.#encode = opts.encode;
    this.#logDebug = opts.logDebug;
    this.#decoder = new WsFrameDecoder({
      noMasking: opts.noMasking,
      maxDecompressed: opts.maxDecompressed,
    });
  }

  /** Whether `close()` was called (or the peer closed). */
  get closed(): boolean {
    return this.#closing;
  }

  /** Resolves once the socket is closed. */
  whenGone(): Promise<void> {
    return this.#gone ? SETTLED : new Promise((r) => (this.#goneWaiters ??= []).push(r));
  }

  /** Where decoded payload bytes go. Call once, before {@link feed}ing. */
  attach(sink: ByteSink): void {
    this.#sink = sink;
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closing) return Promise.reject(new Error("websocket is closed"));
    const chunks = encodeBinaryFrames(data, this.#encode);
    if (chunks.length === 0) return Promise.resolve();
    return this.#send(concatBytes(chunks));
  }

  /** Queues bytes behind every earlier write; the pipe sees one write at a time. */
  #send(bytes: Uint8Array): Promise<void> {
    const run = () => this.#pipe.write(bytes);
    const p = this.#inflight === 0 ? run() : this.#tail.then(run);
    this.#inflight++;
    const settle = () => {
      this.#inflight--;
    };
    this.#tail = p.then(settle, settle);
    return p;
  }

  /**
   * Bytes read from the socket after the upgrade. Returns the sink's request to stop reading
   * (flow control), if it made one.
   */
  feed(bytes: Uint8Array): void | Promise<void> {
    if (this.#decoder.done) return;
    let wait: void | Promise<void> = undefined;
    for (const ev of this.#decoder.feed(bytes)) {
      switch (ev.type) {
        case "data":
          if (!this.#sinkDone && this.#sink) wait = this.#sink.receive(ev.data) ?? wait;
          break;
        case "ping":
          if (!this.#closing) this.#send(ev.reply).catch(noop);
          break;
        case "pong":
          break;
        case "close":
          // After the protocol's flush of what earlier frames produced (queued as a microtask).
          queueMicrotask(() => {
            this.#sendCloseFrame(ev.reply);
            this.#endSink();
            this.close(NO_CLOSE_FRAME);
          });
          break;
        case "error": {
          const who = joinHostPort(this.peer.hostname, this.peer.port);
          this.#logDebug(`${who} - websocket ${ev.kind} error: ${ev.message}`);
          // Read Error skips the flush (as the reference): what earlier frames produced is
          // dropped, the close frame goes out best effort.
          if (ev.reply) this.#sendCloseFrame(ev.reply);
          this.#endSink(new Error(ev.message));
          this.close(NO_CLOSE_FRAME);
          break;
        }
      }
    }
    return wait;
  }

  #sendCloseFrame(frame: Uint8Array): void {
    if (this.#closeSent || this.#closing) return;
    this.#closeSent = true;
    this.#send(frame).catch(noop);
  }

  #endSink(err?: unknown): void {
    if (this.#sinkDone) return;
    this.#sinkDone = true;
    this.#sink?.transportClosed(err);
  }

  /** The socket ended (EOF, error, or our own close). */
  ended(err?: unknown): void {
    this.#endSink(this.#closing ? undefined : err);
    this.#closing = true;
    if (this.#gone) return;
    this.#gone = true;
    const waiters = this.#goneWaiters;
    this.#goneWaiters = null;
    if (waiters) { for (const w of waiters) w(); }
  }

  /**
   * Closes for a reference closed-state `reason`: sends its close frame (none for read/write
   * errors and slow consumers, none when one already went out), waits for queued frames (bounded
   * by {@link CLOSE_FLUSH_MS}) and closes the socket. Idempotent.
   */
  close(how: CloseDescriptor): void {
    if (this.#closing) return;
    const frame = this.#closeSent || how.wsCode === null
      ? null
      : encodeCloseFrame(how.wsCode, how.text);
    if (frame) this.#sendCloseFrame(frame);
    this.#closing = true;
    if (!this.#closeSent || this.#inflight === 0) {
      this.#pipe.close(how);
      return;
    }
    bounded(this.#tail, CLOSE_FLUSH_MS).then(() => this.#pipe.close(how));
  }
}

// ---------------------------------------------------------------------------------------------
// One accepted socket, from accept to upgrade

type Phase = "tls" | "http" | "upgrading" | "ws" | "done";

/** Handles a connection until it is upgraded (then forwards bytes to its transport). */
class Session implements ByteSink {
  phase: Phase;
  pipe: Pipe | null = null;
  ws: CodecWsTransport | null = null;
  readonly addr: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The request head so far (dropped once upgraded). */
  #reader: HttpHeadReader | null = null;
  /** Bytes that arrived while the 101 was being written. */
  #held: Uint8Array[] | null = null;
  /** The last HTTP write (responses are written one after the other). */
  #lastWrite: Promise<void> = SETTLED;
  /** Kills the raw socket (used before a pipe exists, e.g. during TLS). */
  #kill: () => void;

  constructor(
    readonly engine: CodecEngine,
    readonly hostname: string,
    readonly port: number,
    readonly isTls: boolean,
    kill: () => void,
  ) {
    this.phase = isTls ? "tls" : "http";
    this.addr = joinHostPort(hostname, port);
    this.#kill = kill;
    this.#startTimer();
  }

  #startTimer(): void {
    const ms = this.engine.opts.handshakeTimeoutMs;
    if (ms <= 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#timeout(), ms);
  }

  #timeout(): void {
    this.#timer = undefined;
    if (this.phase === "tls") {
      // Go's http.Server logs TLS handshake failures through the "websocket: " error log.
      this.engine.hooks.logError(
        `websocket: http: TLS handshake error from ${this.addr}: i/o timeout`,
      );
    } else {
      this.engine.hooks.logDebug(`${this.addr} - websocket handshake timeout`);
    }
    this.abort();
  }

  clearTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Drops the connection without a word. */
  abort(): void {
    if (this.phase === "done") return;
    this.phase = "done";
    this.clearTimer();
    this.engine.sessions.delete(this);
    if (this.pipe) this.pipe.close(NO_CLOSE_FRAME);
    this.#kill();
  }

  /** The pipe is ready (after TLS for wss): read the request. */
  start(pipe: Pipe): void {
    this.pipe = pipe;
    if (this.phase === "done") {
      pipe.close(NO_CLOSE_FRAME);
      return;
    }
    this.phase = "http";
    pipe.readInto(this).finally(() => this.#kill());
  }

  receive(bytes: Uint8Array): void | Promise<void> {
    switch (this.phase) {
      case "ws":
        return this.ws!.feed(bytes);
      case "upgrading":
        (this.#held ??= []).push(bytes.slice());
        return;
      case "http":
        this.#onHttpBytes(bytes);
        return;
    }
  }

  transportClosed(err?: unknown): void {
    if (this.ws) {
      this.ws.ended(err);
      this.engine.sessions.delete(this);
      this.phase = "done";
      return;
    }
    this.abort();
  }

  #onHttpBytes(bytes: Uint8Array): void {
    const res = (this.#reader ??= new HttpHeadReader()).push(bytes);
    if (res.kind === "incomplete") return;
    if (res.kind === "error") {
      this.engine.hooks.logDebug(`${this.addr} - websocket: bad HTTP request: ${res.reason}`);
      if (res.response) this.#respondAndClose(res.response);
      else this.abort();
      return;
    }
    this.#onHead(res.head, res.rest);
  }

  /** Writes an HTTP response after any earlier one. */
  #write(bytes: Uint8Array): Promise<void> {
    const pipe = this.pipe!;
    const p = this.#lastWrite.then(() => pipe.write(bytes));
    this.#lastWrite = p.catch(noop);
    return p;
  }

  #respondAndClose(bytes: Uint8Array): void {
    const pipe = this.pipe!;
    this.phase = "done";
    this.clearTimer();
    this.engine.sessions.delete(this);
    bounded(this.#write(bytes), CLOSE_FLUSH_MS).then(() => pipe.close(NO_CLOSE_FRAME));
  }

  #onHead(head: HttpRequestHead, rest: Uint8Array): void {
    const engine = this.engine;
    const req: UpgradeRequest = {
      method: head.method,
      headers: head.headers,
      url: head.target,
      rawHeaders: head.rawHeaders,
      host: head.host,
    };
    const res = checkUpgradeRequest(req, {
      ...engine.checkOpts,
      isTls: this.isTls,
      remoteIp: this.hostname,
    });
    if (!res.ok) {
      engine.hooks.logError(handshakeErrorLog(this.addr, res.reason));
      const http11 = head.minor >= 1;
      const response = buildErrorResponse(res.status, {
        httpVersion: http11 ? "HTTP/1.1" : "HTTP/1.0",
        connectionClose: http11 && head.close,
      });
      if (!http11 || head.close || head.contentLength !== 0) {
        this.#respondAndClose(response);
        return;
      }
      // Keep-alive, as Go: answer, then read the next request (with a fresh deadline).
      this.#write(response).catch(() => this.abort());
      this.#startTimer();
      if (rest.length > 0) this.#onHttpBytes(rest);
      return;
    }
    if (rest.length > 0) {
      // Go hijacks, sees buffered bytes, closes; its error response cannot be written.
      engine.hooks.logError(handshakeErrorLog(this.addr, HANDSHAKE_REASON.DATA_BEFORE_HANDSHAKE));
      this.abort();
      return;
    }
    this.#upgrade(res);
  }

  #upgrade(res: UpgradeAccepted): void {
    const engine = this.engine;
    const pipe = this.pipe!;
    this.phase = "upgrading";
    this.#write(build101Response(res)).then(() => {
      if (this.phase !== "upgrading") return;
      this.clearTimer(); // the reference clears the handshake deadline after the 101
      const kind: ConnectionKind = res.kind === "leafnode"
        ? "LEAFNODE_WS"
        : res.kind === "mqtt"
        ? "MQTT_WS"
        : "WEBSOCKET";
      const peer: PeerInfo = {
        kind,
        hostname: this.hostname,
        port: this.port,
        ws: toWebSocketPeer(res),
      };
      if (pipe.peer.tls) peer.tls = pipe.peer.tls;
      const ws = new CodecWsTransport(pipe, peer, {
        encode: {
          compress: res.compress,
          maxFrame: res.browser ? BROWSER_MAX_FRAME : 0,
          noCompressFragmentation: res.noCompressFragmentation,
        },
        noMasking: res.noMasking,
        maxDecompressed: engine.maxDecompressed,
        logDebug: engine.hooks.logDebug,
      });
      const hook = upgradedHook(engine.hooks, res.kind);
      if ("refused" in hook || engine.closing) {
        if (!engine.closing && "refused" in hook) engine.hooks.logError(hook.refused);
        this.abort();
        return;
      }
      this.ws = ws;
      this.phase = "ws";
      this.#reader = null;
      this.#lastWrite = SETTLED;
      ws.attach(hook.take(ws));
      const held = this.#held;
      this.#held = null;
      if (held) { for (const b of held) ws.feed(b); }
    }, () => this.abort());
  }
}

// ---------------------------------------------------------------------------------------------
// The listener

class CodecEngine implements WsListener {
  readonly engine = "codec" as const;
  port = 0;
  closing = false;
  accepting = true;
  readonly sessions = new Set<Session>();
  readonly maxDecompressed: number;
  readonly checkOpts: {
    sameOrigin: boolean;
    allowedOrigins: WsListenerOptions["allowedOrigins"];
    compression: boolean;
    jwtCookie?: string;
    authCookies?: WsListenerOptions["authCookies"];
    trustedProxies: WsListenerOptions["trustedProxies"];
  };
  #tcp?: TcpListener;
  #net?: NetListener;
  #acceptor?: TlsAcceptor;
  /** Acceptors replaced by {@link replaceTls}, closed with the listener. */
  readonly #retired: TlsAcceptor[] = [];
  #closed?: Promise<void>;

  constructor(readonly opts: WsListenerOptions, readonly hooks: WsEngineHooks) {
    this.maxDecompressed = opts.maxDecompressedBytes ?? DEFAULT_MAX_DECOMPRESSED;
    this.checkOpts = {
      sameOrigin: opts.sameOrigin,
      allowedOrigins: opts.allowedOrigins,
      compression: opts.compression,
      jwtCookie: opts.jwtCookie,
      authCookies: opts.authCookies,
      trustedProxies: opts.trustedProxies,
    };
  }

  async listen(): Promise<void> {
    const { host, port, tls } = this.opts;
    if (!tls) {
      this.#tcp = new TcpListener(host, port);
      this.port = this.#tcp.addr.port;
      this.#tcp.serve((conn) => this.#acceptPlain(conn)).catch((err) => {
        if (!this.closing) this.hooks.logError(`websocket listener error: ${err}`);
      });
      return;
    }
    this.#acceptor = new TlsAcceptor(tls);
    this.#net = await listenNet(host, port, (raw) => this.#acceptTls(raw));
    this.port = this.#net.port;
  }

  /** New handshakes use `tls`; handshakes already started finish on the old acceptor. */
  replaceTls(tls: WsTlsConfig): void {
    if (!this.#acceptor) throw new Error("websocket listener has no TLS");
    this.#retired.push(this.#acceptor);
    this.#acceptor = new TlsAcceptor(tls);
  }

  /** Closes the listening socket; sessions already accepted carry on. */
  stopAccepting(): void {
    this.accepting = false;
    this.#tcp?.close();
    this.#net?.stopAccepting();
  }

  #acceptPlain(conn: Deno.TcpConn): void {
    if (this.closing || !this.accepting) {
      conn.close();
      return;
    }
    const pipe = new TcpTransport(conn, "WEBSOCKET");
    const s = new Session(
      this,
      pipe.peer.hostname,
      pipe.peer.port,
      false,
      () => pipe.close(NO_CLOSE_FRAME),
    );
    this.sessions.add(s);
    s.start(pipe);
  }

  #acceptTls(raw: net.Socket): void {
    if (this.closing || !this.accepting) {
      raw.destroy();
      return;
    }
    const hostname = raw.remoteAddress ?? "";
    const port = raw.remotePort ?? 0;
    const s = new Session(this, hostname, port, true, () => raw.destroy());
    this.sessions.add(s);
    raw.on("error", noop);
    let handshaking = false;
    raw.once("close", () => {
      // Once TLS runs, its promise reports the end (with the reason).
      if (s.phase === "tls" && !handshaking) s.abort();
    });
    // Peek at the first record header: plain HTTP gets Go's answer instead of a TLS alert.
    peekFirstBytes(raw, TLS_RECORD_HEADER_LEN, (first) => {
      if (looksLikeHttp(first)) {
        s.phase = "done";
        s.clearTimer();
        this.sessions.delete(s);
        raw.end(RESPONSE_HTTP_ON_TLS, () => raw.destroy());
        return;
      }
      handshaking = true;
      this.#acceptor!.handshake(raw, first).then((ts) => {
        if (s.phase !== "tls") {
          ts.destroy();
          return;
        }
        const pipe = new NodeSocketTransport(ts, {
          kind: "WEBSOCKET",
          hostname,
          port,
          tls: tlsPeerInfo(ts),
        });
        s.start(pipe);
      }, (err: Error) => {
        if (s.phase !== "tls") return;
        this.hooks.logError(
          `websocket: http: TLS handshake error from ${s.addr}: ${err.message}`,
        );
        s.abort();
      });
    });
  }

  close(how: CloseDescriptor): Promise<void> {
    if (this.#closed) return this.#closed;
    this.closing = true;
    this.#closed = (async () => {
      this.#tcp?.close();
      const netClosed = this.#net?.close();
      this.#acceptor?.close();
      for (const a of this.#retired) a.close();
      const waits: Promise<void>[] = [];
      for (const s of [...this.sessions]) {
        if (s.ws) {
          s.ws.close(how);
          waits.push(s.ws.whenGone());
        } else {
          s.abort();
        }
      }
      await bounded(Promise.all(waits), SHUTDOWN_WAIT_MS);
      if (netClosed) await bounded(netClosed, SHUTDOWN_WAIT_MS);
      this.sessions.clear();
    })();
    return this.#closed;
  }
}

/**
 * Starts the own-codec engine (see the module notes). Rejects when the port cannot be bound.
 */
export const startCodecWsListener: StartWsListener = async (
  opts: WsListenerOptions,
  hooks: WsEngineHooks,
): Promise<WsListener> => {
  const engine = new CodecEngine(opts, hooks);
  await engine.listen();
  hooks.logDebug(`websocket: codec engine listening on ${opts.host}:${engine.port}`);
  return engine;
};
