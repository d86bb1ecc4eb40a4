/**
 * The narrow interface a transport (TCP, WebSocket, TLS) hands to the protocol state machine.
 * The protocol never imports a transport; transports never parse NATS.
 *
 * @module
 */

import type { ConnectionKind } from "../core/kinds.ts";
import type { CloseDescriptor } from "../core/close_reasons.ts";

/** What a TLS transport learned about the peer certificate (absent on plain connections). */
export interface TlsPeer {
  /** Negotiated protocol version, e.g. "TLSv1.3". */
  version?: string;
  /** Cipher suite name. */
  cipher?: string;
  /** DER of the verified peer certificate chain, leaf first (empty when no client cert). */
  chainDer: Uint8Array[];
  /** Whether the chain verified against the configured CA. */
  verified: boolean;
}

/** What a WebSocket transport learned from the HTTP upgrade request. */
export interface WebSocketPeer {
  /** Value of the configured `jwt_cookie`, when present in the request. */
  cookieJwt?: string;
  /** Values of the configured user/pass/token cookies, when present in the request. */
  cookies?: { user?: string; pass?: string; token?: string };
  /** Client IP from X-Forwarded-For, only when the proxy is trusted. */
  forwardedFor?: string;
  /** True when the request came from a browser (User-Agent starts with "Mozilla/"). */
  browser: boolean;
}

/** Facts about the peer that the protocol and auth may consult. */
export interface PeerInfo {
  kind: ConnectionKind;
  /** Socket peer address (never X-Forwarded-For). */
  hostname: string;
  port: number;
  tls?: TlsPeer;
  ws?: WebSocketPeer;
}

/**
 * A bidirectional byte pipe owned by a transport.
 * `write` is called at most once at a time by the protocol's flusher and must write all bytes
 * (looping on partial writes). `close` must be idempotent; `how` says which close frame a
 * WebSocket sends (see `closeDescriptor` in lib/core/close_reasons.ts); the transport writes
 * exactly that and knows nothing of NATS close reasons.
 */
export interface Transport {
  readonly peer: PeerInfo;
  write(data: Uint8Array): Promise<void>;
  close(how: CloseDescriptor): void;
}

/** What a transport feeds: the protocol side of a connection. */
export interface ByteSink {
  /**
   * Bytes read from the peer; only valid during the call. A returned promise asks the transport
   * to read nothing more until it settles (flow control: the socket stays open and TCP pushes
   * back on the peer); a transport that cannot stop reading keeps delivering.
   */
  receive(bytes: Uint8Array): void | Promise<void>;
  /** EOF (no error) or a read failure. */
  transportClosed(err?: unknown): void;
}
