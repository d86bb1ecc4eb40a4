/**
 * Permission-violation texts, byte-for-byte as nats-server 2.9.10 sends them inside
 * `-ERR '<text>'` (`server/client.go`: pubPermissionViolation, replySubjectViolation,
 * subPermissionViolation). Subjects and queues are quoted like Go's `%q`.
 *
 * @module
 */

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Quote a string the way Go's `fmt.Sprintf("%q", s)` does (strconv.Quote). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") {
      out += "\\" + ch;
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      // A lone surrogate cannot come from valid UTF-8; Go would print the replacement rune.
      out += "\ufffd";
    } else if (cp < 0x80 ? cp >= 0x20 && cp < 0x7f : PRINTABLE.test(ch)) {
      out += ch;
    } else {
      switch (cp) {
        case 0x07:
          out += "\\a";
          break;
        case 0x08:
          out += "\\b";
          break;
        case 0x0c:
          out += "\\f";
          break;
        case 0x0a:
          out += "\\n";
          break;
        case 0x0d:
          out += "\\r";
          break;
        case 0x09:
          out += "\\t";
          break;
        case 0x0b:
          out += "\\v";
          break;
        default:
          if (cp < 0x20 || cp === 0x7f) out += "\\x" + cp.toString(16).padStart(2, "0");
          else if (cp < 0x10000) out += "\\u" + cp.toString(16).padStart(4, "0");
          else out += "\\U" + cp.toString(16).padStart(8, "0");
      }
    }
  }
  return out + '"';
}

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
