/**
 * An account: its own subject space, its cross-account routes, and interest events. Every
 * connection changes subscriptions through {@link Account.subscribe} and
 * {@link Account.unsubscribe}, so listeners (leafnodes sending `LS+`/`LS-`, later routes) learn
 * when interest in a subject (and queue) appears or goes.
 *
 * @module
 */
import type { CrossAccountRoutes, DeliveryScope } from "../routing/deliver.ts";
import { Sublist } from "../routing/sublist.ts";
import type { ClientSub } from "../routing/subscription.ts";

/** One change of interest in an account. */
export interface InterestChange {
  /** The subscription's subject pattern. */
  readonly subject: string;
  /** Its queue group, absent for plain interest. */
  readonly queue?: string;
  /** Weight added (> 0) or removed (< 0). */
  readonly delta: number;
  /** Total weight on (subject, queue) after the change. */
  readonly weight: number;
  /** This change created interest where there was none. */
  readonly first: boolean;
  /** This change removed the last interest. */
  readonly last: boolean;
  /** The subscription that changed (its `client` is who holds the interest). */
  readonly sub: ClientSub;
}

/** Told of every interest change of an account, synchronously, after the sublist changed. */
export type InterestListener = (change: InterestChange, account: Account) => void;

/** Current interest on one (subject, queue). */
export interface Interest {
  /** Subject pattern. */
  readonly subject: string;
  /** Queue group, absent for plain interest. */
  readonly queue?: string;
  /** Total weight. */
  readonly weight: number;
}

/** An account of the server. */
export class Account implements DeliveryScope {
  /** The account name. */
  readonly name: string;
  /** Its subscriptions; change them only through subscribe/unsubscribe. */
  readonly sublist: Sublist<ClientSub> = new Sublist<ClientSub>();
  /** Cross-account routes out of this account; null when it has none. */
  links: CrossAccountRoutes | null = null;
  /** Creation time (epoch ms), monitoring's `update_time`. */
  readonly createdAt = Date.now();
  /**
   * Weight per (subject, queue), keyed `subject` or `subject queue` (neither has spaces); a
   * number, not an {@link Interest} object, per key: ~50 bytes less per subscription.
   */
  private readonly weights = new Map<string, number>();
  private listeners: InterestListener[] = [];

  constructor(name: string) {
    this.name = name;
  }

  /** Adds a subscription and reports the interest it adds. */
  subscribe(sub: ClientSub): void {
    this.sublist.insert(sub);
    this.change(sub, sub.weight ?? 1);
  }

  /**
   * Removes a subscription; returns false when it was not there. Reports the interest it takes
   * away and lets the links drop response routes that lost their requester.
   */
  unsubscribe(sub: ClientSub): boolean {
    if (!this.sublist.remove(sub)) return false;
    this.change(sub, -(sub.weight ?? 1));
    this.links?.interestLost(sub.subject);
    return true;
  }

  /**
   * A present subscription now stands for `delta` more (or fewer) members: a leafnode's queue
   * weight changed (the subscription's `weight` already holds the new value).
   */
  reweigh(sub: ClientSub, delta: number): void {
    if (delta !== 0) this.change(sub, delta);
  }

  /** Registers an interest listener; returns the function that removes it. */
  onInterest(listener: InterestListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** The interest held now (what a newly connected leafnode is told first). */
  *interest(): IterableIterator<Interest> {
    for (const [key, weight] of this.weights) {
      const sp = key.indexOf(" ");
      yield sp < 0
        ? { subject: key, queue: undefined, weight }
        : { subject: key.slice(0, sp), queue: key.slice(sp + 1), weight };
    }
  }

  private change(sub: ClientSub, delta: number): void {
    const queue = sub.queue || undefined;
    const key = queue === undefined ? sub.subject : `${sub.subject} ${queue}`;
    const before = this.weights.get(key) ?? 0;
    const weight = before + delta;
    if (weight > 0) this.weights.set(key, weight);
    else this.weights.delete(key);
    const listeners = this.listeners;
    if (listeners.length === 0) return;
    const change: InterestChange = {
      subject: sub.subject,
      queue,
      delta,
      weight: Math.max(0, weight),
      first: before <= 0 && weight > 0,
      last: before > 0 && weight <= 0,
      sub,
    };
    for (const l of listeners) l(change, this);
  }
}
