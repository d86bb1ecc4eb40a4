/**
 * The native WebSocket engine: `Deno.serve` answers the HTTP upgrade and
 * `Deno.upgradeWebSocket` owns the frames. The reference's upgrade rules (method, headers,
 * origin, cookie, trusted proxies) run first through the shared {@link checkUpgradeRequest};
 * each accepted socket becomes a {@link NativeWsTransport} that feeds the same protocol state
 * machine as TCP.
 *
 * What this engine cannot do (Deno's WebSocket owns the socket): permessage-deflate, a
 * handshake timeout, client certificates, detecting unmasked client frames (`mask bit
 * missing`), sending 1002 for ws-level protocol errors, answering an empty close with 1005,
 * echoing a close whose status RFC 6455 forbids (Deno answers 1002), delivering a text frame
 * with invalid UTF-8 (Deno fails the connection),
 * dropping a socket without a close frame (and so, once closed, a peer that never reads keeps
 * its TCP socket until it reads or the listener shuts down), messages over 64 MiB, and stopping
 * reads for flow control: Deno's WebSocket reads the next frame as soon as the last one was
 * dispatched, so a paused producer's input is held by the protocol (up to max_pending) instead of
 * TCP pushing back. The server picks the own-codec engine when a configuration needs the first
 * three.
 *
 * Paths: `/leafnode…` goes to `hooks.onLeafnode` (kind LEAFNODE_WS) or, without it, gets the
 * 101 and then an empty close frame (the reference closes the TCP connection silently);
 * `/mqtt…` is treated the same way (no MQTT here); every other path is a client.
 *
 * @example
 * ```ts ignore
 * import { startNativeWsListener } from "./native_engine.ts";
 *
 * const listener = await startNativeWsListener({
 *   host: "127.0.0.1", port: 0, sameOrigin: false, allowedOrigins: new Map(),
 *   compression: false, handshakeTimeoutMs: 0, trustedProxies: [],
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
import type { ConnectionKind } from "../../core/kinds.ts";
import type { CloseDescriptor } from "../../core/close_reasons.ts";
import type { ByteSink, PeerInfo, Transport } from "../../protocol/transport.ts";
import {
  type StartWsListener,
  upgradedHook,
  type WsEngineHooks,
  type WsListener,
  type WsListenerOptions,
} from "./engine.ts";
import {
  checkUpgradeRequest,
  handshakeErrorLog,
  toWebSocketPeer,
  type UpgradeAccepted,
  type UpgradeCheckOptions,
  type WsPathKind,
} from "./handshake.ts";
import { BROWSER_MAX_FRAME, closeBodyText } from "./frames.ts";

/** `write()` resolves once `socket.bufferedAmount` is at or below this many bytes. */
export const WS_HIGH_WATER_MARK = 256 * 1024;
/**
 * Safety net for one `write()` waiting on a socket that does not drain. The protocol's write
 * deadline normally closes such a connection long before (closing ends the wait at once).
 */
export const WS_DRAIN_TIMEOUT_MS = 10 * 60 * 1000;
/** How long `close()` of the listener waits for sockets to finish their close handshake. */
const SHUTDOWN_GRACE_MS = 500;
/** The longest pause between two `bufferedAmount` polls. */
const MAX_POLL_MS = 20;

const encoder = new TextEncoder();

/** Options of {@link NativeWsTransport}. */
export interface NativeWsTransportOptions {
  /** Payload limit per frame (0 = one frame per write). Browsers get 4096. */
  maxFrame?: number;
  /** See {@link WS_HIGH_WATER_MARK}. */
  highWaterMark?: number;
  /** See {@link WS_DRAIN_TIMEOUT_MS}. */
  drainTimeoutMs?: number;
  /** Called once when the socket has fully closed (before {@link NativeWsTransport.whenGone}). */
  onGone?: (t: NativeWsTransport) => void;
}

/**
 * A `WebSocket` from `Deno.upgradeWebSocket` as a protocol transport. Every write becomes one
 * binary message (several of ≤ `maxFrame` bytes for browsers); `close(how)` sends the close
 * status and body it is given.
 *
 * The transport is itself the socket's event listener (`handleEvent`), registered with
 * `addEventListener`: no closure per event type, none of the `on…` attributes' wrappers.
 */
export class NativeWsTransport implements Transport, EventListenerObject {
  readonly peer: PeerInfo;
  readonly #socket: WebSocket;
  readonly #maxFrame: number;
  readonly #highWater: number;
  readonly #drainTimeout: number;
  readonly #onGoneHook: ((t: NativeWsTransport) => void) | undefined;
  #closed = false;
  #sink: ByteSink | null = null;
  #error: unknown = undefined;
  #gone = false;
  #listening = false;
  #goneWaiters: (() => void)[] | null = null;

  constructor(socket: WebSocket, peer: PeerInfo, opts: NativeWsTransportOptions = {}) {
    this.#socket = socket;
    this.peer = peer;
    this.#maxFrame = opts.maxFrame ?? 0;
    this.#highWater = opts.highWaterMark ?? WS_HIGH_WATER_MARK;
    this.#drainTimeout = opts.drainTimeoutMs ?? WS_DRAIN_TIMEOUT_MS;
    this.#onGoneHook = opts.onGone;
    socket.binaryType = "arraybuffer";
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves when the socket has fully closed (its `close` event fired). */
  whenGone(): Promise<void> {
    if (this.#gone) return Promise.resolve();
    return new Promise((resolve) => (this.#goneWaiters ??= []).push(resolve));
  }

  /**
   * Starts delivering messages to `sink` (text frames are re-encoded to bytes) and reports the
   * socket's end to it. Call once, when the socket is open.
   */
  attach(sink: ByteSink): void {
    this.#sink = sink;
    this.#listen();
    this.#socket.addEventListener("message", this);
    if (this.#socket.readyState === WebSocket.CLOSED) this.#onGone();
  }

  /** Marks the socket gone without a sink (e.g. a rejected connection). */
  watch(): void {
    this.#listen();
  }

  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    this.#socket.addEventListener("error", this);
    this.#socket.addEventListener("close", this);
  }

  /** The socket's events (see the class notes). */
  handleEvent(e: Event): void {
    switch (e.type) {
      case "message": {
        const sink = this.#sink;
        if (sink === null) return;
        const d = (e as MessageEvent).data;
        if (d instanceof ArrayBuffer) sink.receive(new Uint8Array(d));
        else if (typeof d === "string") sink.receive(encoder.encode(d));
        return;
      }
      case "error":
        // Recorded for the sink only (a watched socket has none).
        if (this.#sink !== null) {
          this.#error = (e as ErrorEvent).error ??
            new Error((e as ErrorEvent).message ?? "error");
        }
        return;
      case "close":
        this.#onGone();
    }
  }

  #onGone(): void {
    if (this.#gone) return;
    this.#gone = true;
    const sink = this.#sink;
    this.#sink = null;
    sink?.transportClosed(this.#closed ? undefined : this.#error);
    this.#onGoneHook?.(this);
    const waiters = this.#goneWaiters;
    this.#goneWaiters = null;
    if (waiters) { for (const w of waiters) w(); }
  }

  /**
   * Sends `data` as binary frame(s). `socket.send` copies the bytes, so the caller may reuse its
   * buffer once this resolves. Resolves when the socket's send buffer is back under the high
   * water mark (so max_pending and the write deadline keep their meaning); throws when the
   * socket is gone.
   */
  write(data: Uint8Array): Promise<void> {
    const s = this.#socket;
    if (this.#closed || s.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("websocket is closed"));
    }
    const max = this.#maxFrame;
    try {
      if (max > 0 && data.length > max) {
        for (let off = 0; off < data.length; off += max) {
          s.send(data.subarray(off, Math.min(off + max, data.length)));
        }
      } else if (data.length > 0) {
        s.send(data);
      }
    } catch (err) {
      return Promise.reject(err);
    }
    if (s.bufferedAmount <= this.#highWater) return Promise.resolve();
    return this.#drain();
  }

  async #drain(): Promise<void> {
    const s = this.#socket;
    const deadline = performance.now() + this.#drainTimeout;
    let wait = 0;
    while (s.bufferedAmount > this.#highWater) {
      if (this.#closed || s.readyState !== WebSocket.OPEN) return;
      if (performance.now() > deadline) throw new Error("websocket send buffer did not drain");
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(MAX_POLL_MS, wait === 0 ? 1 : wait * 2);
    }
  }

  /**
   * Closes with the reference's close frame for `reason` (e.g. "Protocol Violation" → 1002).
   * For reasons where the reference sends no close frame (read/write errors, slow consumers)
   * Deno offers no way to drop the TCP connection, so an empty close frame is sent instead.
   * Idempotent.
   */
  close(how: CloseDescriptor): void {
    if (this.#closed) return;
    this.#closed = true;
    const s = this.#socket;
    if (s.readyState === WebSocket.CLOSING || s.readyState === WebSocket.CLOSED) return;
    try {
      if (how.wsCode !== null) s.close(how.wsCode, closeBodyText(how.text));
      else s.close();
    } catch {
      try {
        s.close();
      } catch { /* already closing */ }
    }
  }
}

/** Starts the native engine (`Deno.serve` + `Deno.upgradeWebSocket`). */
export const startNativeWsListener: StartWsListener = (
  opts: WsListenerOptions,
  hooks: WsEngineHooks,
): Promise<WsListener> => {
  const isTls = opts.tls !== undefined;
  const checkOpts: Omit<UpgradeCheckOptions, "remoteIp"> = {
    sameOrigin: opts.sameOrigin,
    allowedOrigins: opts.allowedOrigins,
    compression: false,
    isTls,
    jwtCookie: opts.jwtCookie,
    authCookies: opts.authCookies,
    trustedProxies: opts.trustedProxies,
  };
  const live = new Set<NativeWsTransport>();
  const forget = (t: NativeWsTransport) => live.delete(t);
  let closing = false;
  let accepting = true;
  let closeWith: CloseDescriptor = { wsCode: null, text: "" };

  const handler = (req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response => {
    if (!accepting) {
      return new Response("Service Unavailable\n", {
        status: 503,
        headers: { connection: "close" },
      });
    }
    const remote = info.remoteAddr;
    // A copy: the request's own Headers become unreadable once the upgrade completes.
    const upgradeReq = { method: req.method, headers: new Headers(req.headers), url: req.url };
    const res = checkUpgradeRequest(upgradeReq, { ...checkOpts, remoteIp: remote.hostname });
    if (!res.ok) {
      hooks.logError(handshakeErrorLog(joinHostPort(remote.hostname, remote.port), res.reason));
      return new Response(res.body, { status: res.status, headers: res.headers });
    }
    if (closing) return new Response("Service Unavailable\n", { status: 503 });
    let socket: WebSocket;
    let response: Response;
    try {
      ({ socket, response } = Deno.upgradeWebSocket(req, { idleTimeout: 0 }));
    } catch (err) {
      hooks.logError(handshakeErrorLog(joinHostPort(remote.hostname, remote.port), String(err)));
      return new Response("Bad Request\n", { status: 400 });
    }
    for (const [k, v] of res.responseHeaders) {
      if (k.toLowerCase() !== "sec-websocket-protocol") response.headers.set(k, v);
    }
    accept(socket, res, remote);
    return response;
  };

  const accept = (
    socket: WebSocket,
    res: UpgradeAccepted,
    remote: Deno.NetAddr,
  ): void => {
    let kind: ConnectionKind = "WEBSOCKET";
    if (res.kind === "leafnode") kind = "LEAFNODE_WS";
    const peer: PeerInfo = {
      kind,
      hostname: remote.hostname,
      port: remote.port,
      ws: toWebSocketPeer(res),
    };
    const transport = new NativeWsTransport(socket, peer, {
      maxFrame: res.browser ? BROWSER_MAX_FRAME : 0,
      onGone: forget,
    });
    // Only what the open needs stays referenced (not the request or the check's result).
    socket.addEventListener("open", () => opened(socket, transport, res.kind), { once: true });
  };

  const opened = (socket: WebSocket, transport: NativeWsTransport, which: WsPathKind): void => {
    if (closing) {
      transport.watch();
      transport.close(closeWith);
      return;
    }
    const hook = upgradedHook(hooks, which);
    if ("take" in hook) {
      live.add(transport);
      transport.attach(hook.take(transport));
    } else {
      // The reference answers 101 and then closes silently.
      hooks.logError(hook.refused);
      transport.watch();
      try {
        socket.close();
      } catch { /* gone */ }
    }
  };

  const serveOpts: Deno.ServeTcpOptions & Partial<Deno.TlsCertifiedKeyPem> = {
    hostname: opts.host,
    port: opts.port,
    onListen: () => {},
    onError: (err: unknown) => {
      hooks.logError(`websocket: ${err instanceof Error ? err.message : String(err)}`);
      return new Response("Internal Server Error\n", { status: 500 });
    },
  };
  if (opts.tls) {
    serveOpts.cert = opts.tls.certPem;
    serveOpts.key = opts.tls.keyPem;
  }
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(serveOpts, handler);
  } catch (err) {
    return Promise.reject(err);
  }
  const port = server.addr.port;
  hooks.logDebug(`websocket: native engine listening on ${opts.host}:${port}`);

  let closed: Promise<void> | undefined;
  const listener: WsListener = {
    engine: "native",
    port,
    stopAccepting(): void {
      accepting = false;
    },
    close(how: CloseDescriptor): Promise<void> {
      if (closed) return closed;
      closing = true;
      accepting = false;
      closeWith = how;
      closed = (async () => {
        const waits: Promise<void>[] = [];
        for (const t of live) {
          t.close(how);
          waits.push(t.whenGone());
        }
        // Give the close frames a moment to go out before the server drops every socket.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all(waits),
          new Promise((r) => timer = setTimeout(r, SHUTDOWN_GRACE_MS)),
        ]);
        clearTimeout(timer);
        await server.shutdown();
        live.clear();
      })();
      return closed;
    },
  };
  return Promise.resolve(listener);
};
