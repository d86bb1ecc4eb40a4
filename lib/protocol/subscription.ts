/** A client's subscription as stored in an account's sublist. */
import type { Subscription } from "../routing/sublist.ts";

/** What delivery needs to know about the subscriber. */
export interface Subscriber {
  readonly cid: number;
  /** Queues a message for this subscription; returns false when it was not delivered. */
  deliver(
    sub: ClientSub,
    subject: Uint8Array,
    reply: Uint8Array | null,
    hdrLen: number,
    size: Uint8Array,
    msg: Uint8Array,
    subjectText: string,
  ): boolean;
}

/** One SUB of one client. */
export interface ClientSub extends Subscription {
  readonly subject: string;
  readonly queue?: string;
  readonly sid: string;
  /** `sid` as bytes, written into every MSG line. */
  readonly sidBytes: Uint8Array;
  readonly client: Subscriber;
  /** Auto-unsubscribe limit (0 = none). */
  max: number;
  delivered: number;
}
