/**
 * One message on its way through the server: what the publisher sent and where it came from.
 * Delivery, cross-account links and (later) leafnode loop and hub/spoke rules all read this one
 * value instead of a list of positional arguments.
 *
 * @module
 */

import type { ConnKind } from "../core/kinds.ts";

/** The connection a message was first published by, as delivery and links see it. */
export interface Origin {
  /** The connection's kind (loop and hub/spoke rules). */
  readonly kind: ConnKind;
  /** The publisher's account (`acc` of the `Nats-Request-Info` header). */
  readonly account: { readonly name: string };
  /** Round-trip time estimate in nanoseconds (`rtt` of that header); 0 when unknown. */
  readonly rttNs: number;
}

/**
 * Opaque to delivery: the accounts layer's record of the service imports a message already
 * went through (cycle detection, `svc` of the request header).
 */
export interface ImportTrail {
  /** True once the message entered the account through a service import. */
  readonly fromService: boolean;
}

const EMPTY = new Uint8Array(0);

/**
 * A message: `payload` holds the header block (its first `hdrLen` bytes; -1 = no headers) and
 * the body, without the trailing CRLF. `sizeTok` is the size token as sent (reused in MSG lines
 * when there are no headers). Byte views may point into a read buffer: they are valid only
 * while the message is being delivered (delivery is synchronous). A connection may reuse one
 * instance for every message it publishes.
 */
export class Message {
  /** The subject (a literal). */
  subject = "";
  /** `subject` as bytes (written into MSG lines). */
  subjectBytes: Uint8Array = EMPTY;
  /** Reply subject bytes, or null. */
  reply: Uint8Array | null = null;
  /** Header block length within `payload`; -1 when the message has none. */
  hdrLen = -1;
  /** The total-size token as the publisher sent it. */
  sizeTok: Uint8Array = EMPTY;
  /** Headers and body. */
  payload: Uint8Array = EMPTY;
  /** The connection that published it. */
  origin: Origin;
  /** Service imports passed so far; null for a plain publish. */
  trail: ImportTrail | null = null;

  constructor(origin: Origin) {
    this.origin = origin;
  }

  /** A copy with the given fields replaced (the copy owns nothing more than the original). */
  with(fields: Partial<Omit<Message, "with">>): Message {
    const m = new Message(this.origin);
    m.subject = fields.subject ?? this.subject;
    m.subjectBytes = fields.subjectBytes ?? this.subjectBytes;
    m.reply = fields.reply !== undefined ? fields.reply : this.reply;
    m.hdrLen = fields.hdrLen ?? this.hdrLen;
    m.sizeTok = fields.sizeTok ?? this.sizeTok;
    m.payload = fields.payload ?? this.payload;
    m.origin = fields.origin ?? this.origin;
    m.trail = fields.trail !== undefined ? fields.trail : this.trail;
    return m;
  }
}
