/**
 * Delivery of one message to the subscribers of an account: every plain subscription gets a
 * copy, each queue group one member (picked at random, skipping members that cannot take it).
 * Local publishes and cross-account deliveries (stream and service imports, service responses)
 * all go through {@link deliverLocal}; {@link deliverInAccount} adds the account's links.
 *
 * @module
 */
import type { Message } from "./message.ts";
import type { Sublist } from "./sublist.ts";
import type { ClientSub, Subscriber } from "./subscription.ts";

/**
 * Cross-account routes out of an account (stream exports, service imports, service
 * responses), implemented by the accounts layer.
 */
export interface CrossAccountRoutes {
  /**
   * Delivers `msg`, published (or imported) into the account, across account boundaries after
   * its local subscribers got it. `skip` is the publisher when it asked for no echo. Returns
   * the number of deliveries, counting a matched service import as one (the reference's
   * internal subscription), which suppresses the no-responders status.
   */
  forward(msg: Message, skip: Subscriber | null): number;
  /** A subscription on `subject` left the account: drop response routes nobody waits for. */
  interestLost(subject: string): void;
}

/** What delivery needs of an account. */
export interface DeliveryScope {
  /** The account's subscriptions. */
  readonly sublist: Sublist<ClientSub>;
  /** Its cross-account routes; null when it has none, which is all the hot path looks at. */
  readonly links: CrossAccountRoutes | null;
}

/**
 * Delivers `msg` to the subscriptions of `scope` matching its subject (a literal). `skip` is
 * the publisher when it disabled echo. `queueFilter`, when set, limits queue delivery to those
 * groups (a leafnode's `LMSG ... | q`). Remote subscribers (leafnodes) get a message once:
 * a plain copy already reaches every queue group behind them; in a queue group, members on this
 * server are preferred over remote ones, as in the reference. Returns the number of
 * subscriptions that took it.
 */
export function deliverLocal(
  scope: DeliveryScope,
  msg: Message,
  skip: Subscriber | null,
  queueFilter: readonly string[] | null = null,
): number {
  const result = scope.sublist.match(msg.subject);
  let delivered = 0;
  /** Remote subscribers that got a plain copy (lazily allocated: rare). */
  let remotes: Subscriber[] | null = null;
  const plain = result.plain;
  for (let i = 0; i < plain.length; i++) {
    const sub = plain[i];
    const client = sub.client;
    if (client === skip) continue;
    if (client.remote === true) {
      if (remotes !== null && remotes.includes(client)) continue;
      (remotes ??= []).push(client);
    }
    if (client.deliver(sub, msg)) delivered++;
  }
  const queues = result.queues;
  for (let q = 0; q < queues.length; q++) {
    const members = queues[q];
    const n = members.length;
    if (queueFilter !== null && !queueFilter.includes(members[0].queue!)) continue;
    const start = n === 1 ? 0 : Math.floor(Math.random() * n);
    let fallback: ClientSub | null = null;
    let done = false;
    for (let k = 0; k < n; k++) {
      const sub = members[(start + k) % n];
      const client = sub.client;
      if (client === skip) continue;
      if (client.remote === true) {
        fallback ??= sub;
        continue;
      }
      if (client.deliver(sub, msg)) {
        delivered++;
        done = true;
        break;
      }
    }
    if (done || fallback === null) continue;
    // Only remote members: one that already got the plain copy has the group covered.
    if (remotes !== null && remotes.includes(fallback.client)) continue;
    if (fallback.client.deliver(fallback, msg)) delivered++;
  }
  return delivered;
}

/**
 * {@link deliverLocal}, then the account's cross-account links (when it has any).
 * `queueFilter` as for {@link deliverLocal}.
 */
export function deliverInAccount(
  scope: DeliveryScope,
  msg: Message,
  skip: Subscriber | null,
  queueFilter: readonly string[] | null = null,
): number {
  const delivered = deliverLocal(scope, msg, skip, queueFilter);
  const links = scope.links;
  return links === null ? delivered : delivered + links.forward(msg, skip);
}
