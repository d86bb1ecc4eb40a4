/**
 * The reference's exact protocol error texts (sent as `-ERR '<text>'\r\n`) and closed-state
 * reasons (shown in monitoring and mapped to WebSocket close statuses), in one place.
 */

/** `-ERR` texts of nats-server 2.9.10. */
export const Err = {
  unknownOp: "Unknown Protocol Operation",
  authViolation: "Authorization Violation",
  authTimeout: "Authentication Timeout",
  maxPayload: "Maximum Payload Violation",
  maxControlLine: "maximum control line exceeded",
  maxConnections: "maximum connections exceeded",
  maxSubscriptions: "maximum subscriptions exceeded",
  invalidSubject: "Invalid Subject",
  invalidPublishSubject: "Invalid Publish Subject",
  staleConnection: "Stale Connection",
  badProtocol: "invalid client protocol",
  noRespondersNeedsHeaders: "no responders requires headers support",
  tlsRequired: "Secure Connection - TLS Required",
  userAuthExpired: "User Authentication Expired",
  accountAuthExpired: "Account Authentication Expired",
  userRevoked: "User Authentication Revoked",
  maxAccountConnections: "maximum account active connections exceeded",
} as const;

/** `ClosedState.String()` values of the reference. */
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

/** Encodes `-ERR '<text>'\r\n`. */
export function errLine(text: string): Uint8Array {
  return new TextEncoder().encode(`-ERR '${text}'\r\n`);
}
