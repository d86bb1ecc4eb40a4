/**
 * A subscription as stored in an account's sublist, and what delivery needs from the
 * connection behind it.
 *
 * @module
 */
import type { Message } from "./message.ts";
import type { Subscription } from "./sublist.ts";

/** What delivery needs to know about the subscriber. */
export interface Subscriber {
  /** The connection id. */
  readonly cid: number;
  /**
   * True for a connection to another server (a leafnode): queue groups prefer local members,
   * and such a connection gets a message once however many of its subscriptions match.
   */
  readonly remote?: boolean;
  /**
   * Queues `msg` for `sub` (the message's subject is the one to deliver on); returns false when
   * it was not delivered.
   */
  deliver(sub: ClientSub, msg: Message): boolean;
}

/** One SUB of one connection. */
export interface ClientSub extends Subscription {
  /** Subject pattern. */
  readonly subject: string;
  /** Queue group, absent for a plain subscription. */
  readonly queue?: string;
  /** The subscription id the connection chose. */
  readonly sid: string;
  /**
   * `sid` as bytes for the MSG line when it is not plain ASCII; undefined when it is (the line
   * then takes `sid`'s char codes: no typed array per subscription, ~110 bytes of heap each).
   */
  readonly sidBytes: Uint8Array | undefined;
  /** The connection that receives the messages. */
  readonly client: Subscriber;
  /**
   * Interest weight (queue members a remote side stands for, e.g. a leafnode's LS+ weight);
   * absent = 1.
   */
  readonly weight?: number;
  /** Auto-unsubscribe limit (0 = none). */
  max: number;
  /** Messages delivered so far. */
  delivered: number;
}
