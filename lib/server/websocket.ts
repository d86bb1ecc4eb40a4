/**
 * The server side of `websocket { ... }`: turns the options into what an engine needs (PEM
 * files read, origins and proxies parsed), picks the engine, checks `advertise`, starts the
 * listener with its connections wired to the server, and logs like the reference.
 *
 * @example
 * ```ts ignore
 * const ws = await startWebsocket(server.options, server.log, {
 *   onClient: (t) => server.addClient(t),
 * });
 * console.log(ws?.listener.port, ws?.url);
 * ```
 *
 * @module
 */
import type { WebSocketOptions } from "../config/options.ts";
import type { Logger } from "../protocol/context.ts";
import type { ByteSink, Transport } from "../protocol/transport.ts";
import { parseTrustedProxies } from "../transport/ws/cidr.ts";
import type {
  StartWsListener,
  WsListener,
  WsListenerOptions,
  WsTlsConfig,
} from "../transport/ws/engine.ts";
import { startCodecWsListener } from "../transport/ws/codec_engine.ts";
import { startNativeWsListener } from "../transport/ws/native_engine.ts";
import { parseAllowedOrigins } from "../transport/ws/origin.ts";
import { goListenError } from "../core/listen_error.ts";
import { atoiError, joinHostPort, parseGoInt, splitHostPort } from "../core/gofmt.ts";
import { loadTlsMaterial } from "../config/tls_material.ts";
import { readFile } from "../config/parser.ts";
import { SERVER_SHUTDOWN_CLOSE } from "../core/close_reasons.ts";

/** The two engines behind the one `StartWsListener` contract. */
export type WsEngineName = "native" | "codec";

/**
 * Engine registry. "codec" (own RFC 6455 codec over raw sockets: compression,
 * handshake_timeout, client certificates) is plugged in by lib/transport/ws/codec_engine.ts.
 */
export const ENGINES: Record<WsEngineName, StartWsListener> = {
  native: startNativeWsListener,
  codec: startCodecWsListener,
};

/** Which engine serves and why (logged at startup). */
export interface WsEngineChoice {
  engine: WsEngineName;
  reason: string;
  /** Configured features the chosen engine will not honour (forced `engine: native`). */
  ignored: string[];
}

/** Features only the own-codec engine can honour, as named in the config. */
function codecOnlyFeatures(ws: WebSocketOptions): string[] {
  const f: string[] = [];
  if (ws.compression) f.push("compression");
  if (ws.handshakeTimeoutMs > 0) f.push("handshake_timeout");
  if (ws.tls?.verify) f.push("tls verify");
  if (ws.tls?.verifyAndMap) f.push("tls verify_and_map");
  return f;
}

/**
 * Native by default; the own codec when compression, a handshake_timeout > 0 or client
 * certificate verification (tls verify / verify_and_map) is configured. `engine: native|codec`
 * overrides the choice.
 */
export function chooseWsEngine(ws: WebSocketOptions): WsEngineChoice {
  const needs = codecOnlyFeatures(ws);
  if (ws.engine === "codec") return { engine: "codec", reason: "engine: codec", ignored: [] };
  if (ws.engine === "native") {
    return { engine: "native", reason: "engine: native", ignored: needs };
  }
  if (needs.length > 0) {
    return { engine: "codec", reason: `needed for ${needs.join(", ")}`, ignored: [] };
  }
  return { engine: "native", reason: "default", ignored: [] };
}

/**
 * The PEM material of `websocket.tls` (undefined without it), read now. Throws an Error with the
 * reference's text when a file is missing or unreadable.
 */
export function readWsTls(ws: WebSocketOptions): Promise<WsTlsConfig | undefined> {
  try {
    return Promise.resolve(readWsTlsNow(ws));
  } catch (err) {
    return Promise.reject(err);
  }
}

function readWsTlsNow(ws: WebSocketOptions): WsTlsConfig | undefined {
  const t = ws.tls;
  if (!t) return undefined;
  if (!t.certFile || !t.keyFile) {
    throw new Error(
      t.certFile
        ? "missing 'key_file' in TLS configuration"
        : "missing 'cert_file' in TLS configuration",
    );
  }
  const loaded = loadTlsMaterial(t, readFile);
  if (!loaded.ok) throw new Error(`websocket: ${loaded.error}`);
  const { certPem, keyPem, caPem } = loaded.material;
  const tls: WsTlsConfig = {
    certPem: certPem!,
    keyPem: keyPem!,
    verify: t.verify || t.verifyAndMap,
  };
  if (caPem !== undefined) tls.caPem = caPem;
  return tls;
}

/** What {@link buildWsListenerOptions} produced. */
export interface BuiltWsOptions {
  options: WsListenerOptions;
  /** Non-fatal problems the reference logs as errors (e.g. unusable allowed origins). */
  warnings: string[];
}

/**
 * Builds the engine options: port -1 → 0, TLS PEM files read, allowed origins and trusted
 * proxies parsed. Throws an Error with the reference's text when something is unusable.
 */
export async function buildWsListenerOptions(
  ws: WebSocketOptions,
  maxDecompressedBytes?: number,
): Promise<BuiltWsOptions> {
  const warnings: string[] = [];
  const origins = parseAllowedOrigins(ws.allowedOrigins);
  if (!origins.ok) throw new Error(origins.error);
  warnings.push(...origins.warnings);
  const proxies = parseTrustedProxies(ws.trustedProxies);
  if (!proxies.ok) throw new Error(`error parsing trusted_proxies: ${proxies.error}`);
  const tls = await readWsTls(ws);
  const options: WsListenerOptions = {
    host: ws.host,
    port: ws.port === -1 ? 0 : ws.port,
    sameOrigin: ws.sameOrigin,
    allowedOrigins: origins.origins,
    compression: ws.compression,
    handshakeTimeoutMs: ws.handshakeTimeoutMs,
    trustedProxies: proxies.cidrs,
  };
  if (tls) options.tls = tls;
  if (ws.jwtCookie) options.jwtCookie = ws.jwtCookie;
  if (ws.userCookie || ws.passCookie || ws.tokenCookie) {
    options.authCookies = { user: ws.userCookie, pass: ws.passCookie, token: ws.tokenCookie };
  }
  if (maxDecompressedBytes !== undefined) options.maxDecompressedBytes = maxDecompressedBytes;
  return { options, warnings };
}

/**
 * The reference's `getConnectURLs` for websocket: with `advertise` (`host[:port]`, a missing
 * or 0/-1 port means the ws port) one `host:port`; otherwise the listen host:port (0.0.0.0/::
 * expanded by the caller). Throws `Unable to get websocket connect URLs: <err>` on a bad
 * advertise value, as the reference refuses to start.
 */
export function websocketConnectUrls(
  advertise: string | undefined,
  host: string,
  port: number,
): string[] {
  if (advertise === undefined || advertise === "") return [joinHostPort(host, port)];
  const fail = (why: string): never => {
    throw new Error(`Unable to get websocket connect URLs: ${why}`);
  };
  let sp = splitHostPort(advertise);
  if (!sp.ok && sp.why === "missing port in address") sp = splitHostPort(`${advertise}:${port}`);
  if (!sp.ok) return fail(sp.error);
  const portText = sp.port.trim();
  const p = parseGoInt(portText);
  if (typeof p === "string") return fail(atoiError(portText, p));
  return [joinHostPort(sp.host.trim(), p === 0 || p === -1 ? port : p)];
}

/** The server's side of the engine hooks. */
export interface WsServerHooks {
  onClient(transport: Transport): ByteSink;
  onLeafnode?(transport: Transport): ByteSink;
  /** Bound on one inflated (permessage-deflate) message; the server passes max_pending. */
  maxDecompressedBytes?: number;
}

/** A started websocket listener and what the server reports about it. */
export interface RunningWebsocket {
  listener: WsListener;
  choice: WsEngineChoice;
  /** "ws" or "wss". */
  scheme: "ws" | "wss";
  /** `advertise`/listen based connect URLs (for a cluster's INFO; unused by a single server). */
  connectUrls: string[];
}

/**
 * Starts the websocket listener when `ws.port != 0` (undefined otherwise). Logs the engine
 * choice, `Listening for websocket clients on ws://host:port` and, without TLS, the reference's
 * warning. Throws (the caller exits with `nats-server: <message>`) when the listener cannot
 * start or `advertise` is bad.
 */
export async function startWebsocket(
  ws: WebSocketOptions,
  log: Logger,
  hooks: WsServerHooks,
  engines: Record<WsEngineName, StartWsListener> = ENGINES,
): Promise<RunningWebsocket | undefined> {
  if (ws.port === 0) return undefined;
  const choice = chooseWsEngine(ws);
  if (choice.engine === "native" && (ws.tls?.verify || ws.tls?.verifyAndMap)) {
    throw new Error(
      `websocket engine "native" cannot verify client certificates (tls verify/verify_and_map); ` +
        `use engine "codec" or "auto"`,
    );
  }
  const built = await buildWsListenerOptions(ws, hooks.maxDecompressedBytes);
  for (const w of built.warnings) log.error(w);
  log.info(`Websocket engine: ${choice.engine} (${choice.reason})`);
  for (const f of choice.ignored) {
    log.warn(`Websocket ${f} is not supported by the native engine and is ignored`);
  }
  let listener: WsListener;
  try {
    listener = await engines[choice.engine](built.options, {
      onClient: hooks.onClient,
      onLeafnode: hooks.onLeafnode,
      logError: (m) => log.error(m),
      logDebug: (m) => log.debug(m),
    });
  } catch (err) {
    throw new Error(
      `Unable to listen for websocket connections: ${
        goListenError(err, ws.host, ws.port === -1 ? 0 : ws.port)
      }`,
    );
  }
  const scheme = built.options.tls ? "wss" : "ws";
  log.info(`Listening for websocket clients on ${scheme}://${ws.host}:${listener.port}`);
  if (scheme === "ws") log.warn("Websocket not configured with TLS. DO NOT USE IN PRODUCTION!");
  let connectUrls: string[];
  try {
    connectUrls = websocketConnectUrls(ws.advertise, ws.host, listener.port);
  } catch (err) {
    await listener.close(SERVER_SHUTDOWN_CLOSE);
    throw err;
  }
  return { listener, choice, scheme, connectUrls };
}
