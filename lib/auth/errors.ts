/**
 * Permission-violation texts, byte-for-byte as nats-server 2.9.10 sends them inside
 * `-ERR '<text>'` (`server/client.go`: pubPermissionViolation, replySubjectViolation,
 * subPermissionViolation). Subjects and queues are quoted like Go's `%q`.
 *
 * @module
 */

import { goQuote } from "../core/gofmt.ts";

/** `Permissions Violation for Publish to "<subject>"` */
export function publishViolation(subject: string): string {
  return `Permissions Violation for Publish to ${goQuote(subject)}`;
}

/** `Permissions Violation for Publish with Reply of "<reply>"` */
export function replyViolation(reply: string): string {
  return `Permissions Violation for Publish with Reply of ${goQuote(reply)}`;
}

/**
 * `Permissions Violation for Subscription to "<subject>"`, or with a queue group
 * `Permissions Violation for Subscription to "<subject>" using queue "<queue>"`.
 */
export function subscribeViolation(subject: string, queue?: string): string {
  const base = `Permissions Violation for Subscription to ${goQuote(subject)}`;
  return queue ? `${base} using queue ${goQuote(queue)}` : base;
}

/** `Authorization Violation` (sent when authentication fails; the connection is closed). */
export const AUTHORIZATION_VIOLATION = "Authorization Violation";

/** `Authentication Timeout` (no successful CONNECT within the auth timeout). */
export const AUTHENTICATION_TIMEOUT = "Authentication Timeout";
