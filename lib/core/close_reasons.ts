/**
 * Why a connection closed: the reference's `ClosedState.String()` texts (shown in monitoring),
 * and the transport-neutral {@link CloseDescriptor} the protocol layer hands to
 * `Transport.close` (a WebSocket writes the close frame it describes; TCP ignores it).
 *
 * @module
 */

/** `ClosedState.String()` values of nats-server 2.9.10. */
export const Closed = {
  clientClosed: "Client Closed",
  authTimeout: "Authentication Timeout",
  authViolation: "Authentication Failure",
  slowConsumerPending: "Slow Consumer (Pending Bytes)",
  slowConsumerDeadline: "Slow Consumer (Write Deadline)",
  writeError: "Write Error",
  readError: "Read Error",
  parseError: "Parse Error",
  staleConnection: "Stale Connection",
  protocolViolation: "Protocol Violation",
  badClientProtocol: "Bad Client Protocol Version",
  maxConnections: "Maximum Connections Exceeded",
  maxControlLine: "Maximum Control Line Exceeded",
  maxPayload: "Maximum Message Payload Exceeded",
  serverShutdown: "Server Shutdown",
  noRespondersNeedsHeaders: "No Responders Requires Headers",
  tlsHandshakeError: "TLS Handshake Failure",
  authExpired: "Authentication Expired",
  revoked: "Credentials Revoked",
  maxAccountConnections: "Maximum Account Connections Exceeded",
  maxSubscriptions: "Maximum Subscriptions Exceeded",
} as const;

/** How a transport ends a connection, chosen by the protocol layer. */
export interface CloseDescriptor {
  /** WebSocket close status to send, or null to send no close frame. */
  readonly wsCode: number | null;
  /** Close frame body (the transport truncates it to fit a control frame). */
  readonly text: string;
}

// The reference's wsEnqueueCloseMessage: ClosedState → close status; anything else → 1011.
const WS_CODE_BY_REASON: ReadonlyMap<string, number> = new Map<string, number>([
  ["Client Closed", 1000],
  ["Authentication Timeout", 1008],
  ["Authentication Failure", 1008],
  ["Slow Consumer (Pending Bytes)", 1008],
  ["Slow Consumer (Write Deadline)", 1008],
  ["Maximum Account Connections Exceeded", 1008],
  ["Maximum Connections Exceeded", 1008],
  ["Maximum Control Line Exceeded", 1008],
  ["Maximum Subscriptions Exceeded", 1008],
  ["Missing Account", 1008],
  ["Authentication Expired", 1008],
  ["Credentials Revoked", 1008],
  ["TLS Handshake Failure", 1015],
  ["TLS Handshake Error", 1015],
  ["Parse Error", 1002],
  ["Protocol Violation", 1002],
  ["Bad Client Protocol Version", 1002],
  ["Maximum Message Payload Exceeded", 1009],
  ["Server Shutdown", 1001],
  ["Write Error", 1006],
  ["Read Error", 1006],
  ["Stale Connection", 1006],
]);

/** `CLOSE_STATUS.INTERNAL_ERROR`: the status of a reason the reference does not list. */
const WS_INTERNAL_ERROR = 1011;

/** Reasons for which the reference queues no close frame (skip-flush on close). */
const NO_CLOSE_FRAME: ReadonlySet<string> = new Set([
  "Read Error",
  "Write Error",
  "Slow Consumer (Pending Bytes)",
  "Slow Consumer (Write Deadline)",
  "TLS Handshake Failure",
  "TLS Handshake Error",
]);

/**
 * WebSocket close status for a ClosedState text (`wsEnqueueCloseMessage`); anything unknown
 * → 1011. The TLS state's text is "TLS Handshake Failure"; "TLS Handshake Error" is accepted too.
 */
export function wsCloseCodeForReason(reason: string): number {
  return WS_CODE_BY_REASON.get(reason) ?? WS_INTERNAL_ERROR;
}

/** False for Read Error, Write Error, Slow Consumer (…) and TLS Handshake Failure. */
export function sendsCloseFrame(reason: string): boolean {
  return !NO_CLOSE_FRAME.has(reason);
}

/** The close a transport performs when the connection closes for `reason`. */
export function closeDescriptor(reason: string): CloseDescriptor {
  return sendsCloseFrame(reason)
    ? { wsCode: wsCloseCodeForReason(reason), text: reason }
    : { wsCode: null, text: reason };
}

/** The close every connection gets when the server shuts down (1001 "Server Shutdown"). */
export const SERVER_SHUTDOWN_CLOSE: CloseDescriptor = closeDescriptor(Closed.serverShutdown);
