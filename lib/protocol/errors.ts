/**
 * The reference's exact protocol error texts (sent as `-ERR '<text>'\r\n`). Closed-state
 * reasons are `Closed` in lib/core/close_reasons.ts.
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

/** Encodes `-ERR '<text>'\r\n`. */
export function errLine(text: string): Uint8Array {
  return new TextEncoder().encode(`-ERR '${text}'\r\n`);
}
