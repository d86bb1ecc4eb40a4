/**
 * The contract both WebSocket engines implement: the native one (`Deno.serve` +
 * `Deno.upgradeWebSocket`) and the own RFC 6455 codec over raw sockets. The server picks one
 * and never sees the difference.
 */
import type { AuthCookieNames, WsPathKind } from "./handshake.ts";
import type { CloseDescriptor } from "../../core/close_reasons.ts";
import type { ByteSink, Transport } from "../../protocol/transport.ts";
import type { AllowedOrigins } from "./origin.ts";
import type { Cidr } from "./cidr.ts";

/** PEM material and verification settings for `wss://`. */
export interface WsTlsConfig {
  certPem: string;
  keyPem: string;
  /** CA bundle used to verify client certificates. */
  caPem?: string;
  /** Require and verify a client certificate (own codec engine only). */
  verify: boolean;
}

/** Everything an engine needs, already parsed and validated. */
export interface WsListenerOptions {
  host: string;
  /** 0 = pick a free port. */
  port: number;
  tls?: WsTlsConfig;
  sameOrigin: boolean;
  allowedOrigins: AllowedOrigins;
  compression: boolean;
  /** 0 = none (as the reference when unset). */
  handshakeTimeoutMs: number;
  jwtCookie?: string;
  /** `user_cookie` / `pass_cookie` / `token_cookie`. */
  authCookies?: AuthCookieNames;
  trustedProxies: readonly Cidr[];
  /**
   * Own codec engine: bound on one inflated (permessage-deflate) message, the guard against
   * decompression bombs; larger closes that connection with 1009. Default
   * `DEFAULT_MAX_DECOMPRESSED` (64 MiB, the default max_pending). The reference has no bound.
   */
  maxDecompressedBytes?: number;
}

/** How an engine hands connections to the server. */
export interface WsEngineHooks {
  /** A client upgraded: the server wires it to a protocol connection and returns its sink. */
  onClient(transport: Transport): ByteSink;
  /**
   * A `/leafnode` upgrade; absent when leafnodes are not configured (then the engine sends the
   * 101 and closes silently, as the reference).
   */
  onLeafnode?(transport: Transport): ByteSink;
  /** Log lines (e.g. `<addr> - websocket handshake error: <reason>`), at error level. */
  logError(msg: string): void;
  logDebug(msg: string): void;
}

/**
 * The hook that takes an upgraded connection of path `kind`, or the line the reference logs when
 * this server does not accept that kind (it has answered 101 and then closes silently).
 */
export function upgradedHook(
  hooks: WsEngineHooks,
  kind: WsPathKind,
): { take: (transport: Transport) => ByteSink } | { refused: string } {
  if (kind === "client") return { take: (t) => hooks.onClient(t) };
  if (kind === "leafnode" && hooks.onLeafnode) return { take: (t) => hooks.onLeafnode!(t) };
  return {
    refused: kind === "leafnode"
      ? "Not configured to accept leaf node connections"
      : "Not configured to accept MQTT connections",
  };
}

/** A listening engine. */
export interface WsListener {
  /** Which engine serves ("native" | "codec"). */
  readonly engine: "native" | "codec";
  /** The bound port. */
  readonly port: number;
  /**
   * Stops accepting new connections; upgraded connections keep working (lame duck). The codec
   * engine closes its listening socket; the native engine cannot close `Deno.serve`'s without
   * dropping upgraded sockets, so it answers new requests with 503 until `close()`.
   */
  stopAccepting(): void;
  /**
  /**
   * Present when the engine can swap its certificates for new handshakes (the codec engine;
   * `Deno.serve` cannot): connections already up keep theirs.
   */
  replaceTls?(tls: WsTlsConfig): void;
  /**
   * Stops accepting and closes every upgraded connection the way `how` says (the server passes
   * the "Server Shutdown" close, 1001).
   */
  close(how: CloseDescriptor): Promise<void>;
}

/** Starts an engine. */
export type StartWsListener = (
  opts: WsListenerOptions,
  hooks: WsEngineHooks,
) => Promise<WsListener>;
