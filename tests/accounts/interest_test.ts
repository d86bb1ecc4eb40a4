/**
 * Interest events: subscribe/unsubscribe keep the sublist and report (subject, queue, weight ±)
 * with the first-interest / last-interest transitions leafnodes need for LS+ / LS-.
 */
import { Account, type InterestChange } from "../../lib/accounts/mod.ts";
import type { ClientSub, Subscriber } from "../../lib/routing/subscription.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const nobody: Subscriber = { cid: 0, deliver: () => true };

function sub(subject: string, queue?: string, weight?: number): ClientSub {
  return {
    subject,
    queue,
    weight,
    sid: "1",
    sidBytes: new Uint8Array(),
    client: nobody,
    max: 0,
    delivered: 0,
  };
}

function record(acc: Account): { changes: InterestChange[]; stop: () => void } {
  const changes: InterestChange[] = [];
  const stop = acc.onInterest((c, a) => {
    assert(a === acc, "the account is passed along");
    changes.push(c);
  });
  return { changes, stop };
}

const brief = (c: InterestChange) =>
  `${c.subject}${c.queue ? ` ${c.queue}` : ""} ${c.delta > 0 ? "+" : ""}${c.delta}=${c.weight}` +
  `${c.first ? " first" : ""}${c.last ? " last" : ""}`;

Deno.test("interest: first and last transitions per subject, queue groups apart", () => {
  const acc = new Account("A");
  const { changes } = record(acc);
  const a1 = sub("foo");
  const a2 = sub("foo");
  const q1 = sub("foo", "q");
  const q2 = sub("foo", "q", 3);
  acc.subscribe(a1);
  acc.subscribe(a2);
  acc.subscribe(q1);
  acc.subscribe(q2);
  assertEquals(acc.sublist.match("foo").plain.length, 2);
  assertEquals(acc.sublist.match("foo").queues[0].length, 2);
  assert(acc.unsubscribe(a1));
  assert(!acc.unsubscribe(a1), "a second unsubscribe removes nothing");
  acc.unsubscribe(q2);
  acc.unsubscribe(a2);
  acc.unsubscribe(q1);
  assertEquals(changes.map(brief), [
    "foo +1=1 first",
    "foo +1=2",
    "foo q +1=1 first",
    "foo q +3=4",
    "foo -1=1",
    "foo q -3=1",
    "foo -1=0 last",
    "foo q -1=0 last",
  ]);
  assertEquals(acc.sublist.count, 0);
  assertEquals([...acc.interest()], []);
});

Deno.test("interest: the current interest is listed; a removed listener hears nothing", () => {
  const acc = new Account("A");
  acc.subscribe(sub("a.>"));
  acc.subscribe(sub("b", "g", 2));
  acc.subscribe(sub("b", "g"));
  assertEquals([...acc.interest()], [
    { subject: "a.>", queue: undefined, weight: 1 },
    { subject: "b", queue: "g", weight: 3 },
  ]);
  const { changes, stop } = record(acc);
  stop();
  acc.subscribe(sub("c"));
  assertEquals(changes, []);
});
