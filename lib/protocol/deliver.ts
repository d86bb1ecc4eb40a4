/**
 * Delivery of one message to the subscribers of an account: every plain subscription gets a
 * copy, each queue group one member (picked at random, skipping members that cannot take it).
 * Local publishes and cross-account deliveries (stream and service imports, service responses)
 * all go through {@link deliverLocal}; {@link deliverInAccount} adds the account's links.
 *
 * @module
 */
import { encoder } from "./bytes.ts";
import type { Account, ImportTrail, Origin } from "./context.ts";
import type { Subscriber } from "./subscription.ts";

/**
 * Delivers to the subscriptions of `account` matching `subject` (a literal). `subjectB` is the
 * subject as bytes (written into MSG lines). `skip` is the publisher when it disabled echo.
 * Returns the number of subscriptions that took the message.
 */
export function deliverLocal(
  account: Account,
  skip: Subscriber | null,
  subject: string,
  subjectB: Uint8Array,
  reply: Uint8Array | null,
  hdrLen: number,
  sizeTok: Uint8Array,
  msg: Uint8Array,
): number {
  const result = account.sublist.match(subject);
  let delivered = 0;
  const plain = result.plain;
  for (let i = 0; i < plain.length; i++) {
    const sub = plain[i];
    const client = sub.client;
    if (client === skip) continue;
    if (client.deliver(sub, subjectB, reply, hdrLen, sizeTok, msg, subject)) delivered++;
  }
  const queues = result.queues;
  for (let q = 0; q < queues.length; q++) {
    const members = queues[q];
    const n = members.length;
    const start = n === 1 ? 0 : Math.floor(Math.random() * n);
    for (let k = 0; k < n; k++) {
      const sub = members[(start + k) % n];
      const client = sub.client;
      if (client === skip) continue;
      if (client.deliver(sub, subjectB, reply, hdrLen, sizeTok, msg, subject)) {
        delivered++;
        break;
      }
    }
  }
  return delivered;
}

/**
 * {@link deliverLocal}, then the account's cross-account links (when it has any). `origin` is
 * the connection that published the message; `trail` is null for a plain publish.
 */
export function deliverInAccount(
  account: Account,
  skip: Subscriber | null,
  subject: string,
  subjectB: Uint8Array | null,
  reply: Uint8Array | null,
  hdrLen: number,
  sizeTok: Uint8Array,
  msg: Uint8Array,
  origin: Origin,
  trail: ImportTrail | null,
): number {
  const bytes = subjectB ?? encoder.encode(subject);
  let delivered = deliverLocal(account, skip, subject, bytes, reply, hdrLen, sizeTok, msg);
  const links = account.links;
  if (links !== null) {
    delivered += links.forward(
      account,
      skip,
      subject,
      bytes,
      reply,
      hdrLen,
      sizeTok,
      msg,
      origin,
      trail,
    );
  }
  return delivered;
}
