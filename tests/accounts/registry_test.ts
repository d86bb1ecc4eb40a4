/**
 * The registry at run time: accounts, exports and imports added, replaced and removed while
 * subscriptions stay, and unknown accounts resolved through sources.
 */
import type { AccountConfig } from "../../lib/auth/types.ts";
import {
  type Account,
  type AccountDefinition,
  AccountRegistry,
  type AccountSource,
} from "../../lib/accounts/mod.ts";
import { deliverInAccount } from "../../lib/routing/deliver.ts";
import { Message } from "../../lib/routing/message.ts";
import type { ClientSub, Subscriber } from "../../lib/routing/subscription.ts";
import { assert, assertEquals } from "../helpers/assert.ts";

const enc = new TextEncoder();

/** Subscribes a recorder on `subject` in `acc`; returns the subjects it received. */
function listen(acc: Account, subject: string): string[] {
  const got: string[] = [];
  const client: Subscriber = {
    cid: 1,
    deliver: (_s, m) => (got.push(m.subject), true),
  };
  const sub: ClientSub = {
    subject,
    sid: "1",
    sidBytes: enc.encode("1"),
    client,
    max: 0,
    delivered: 0,
  };
  acc.subscribe(sub);
  return got;
}

function publish(acc: Account, subject: string): number {
  const m = new Message({ kind: "CLIENT", account: acc, rttNs: 0 });
  m.subject = subject;
  m.subjectBytes = enc.encode(subject);
  m.sizeTok = enc.encode("0");
  return deliverInAccount(acc, m, null);
}

const exporter = (exports: AccountConfig["exports"]): AccountConfig => ({
  name: "A",
  exports,
  imports: [],
});
const importer: AccountConfig = {
  name: "B",
  exports: [],
  imports: [{ stream: { account: "A", subject: "ev.>" }, prefix: "a" }],
};

Deno.test("registry: an import waits for its exporter, and goes when the export goes", () => {
  const reg = new AccountRegistry();
  assertEquals(reg.define(importer), ['"A" account not defined for stream import']);
  const got = listen(reg.get("B"), "a.ev.>");
  const a = reg.get("A");
  assertEquals(reg.define(exporter([{ stream: "ev.>", accounts: ["B"] }])), []);
  assert(reg.get("A") === a, "defining a known account keeps its object");
  publish(a, "ev.1");
  assertEquals(got, ["a.ev.1"]);
  // Replaced without the export: the import is refused again, subscriptions stay.
  assertEquals(reg.define(exporter([])), [
    'Error adding stream import "ev.>": stream import not authorized',
  ]);
  publish(a, "ev.2");
  assertEquals(got, ["a.ev.1"]);
  assertEquals(reg.addExport("A", { stream: "ev.>" }), []);
  publish(a, "ev.3");
  assertEquals(got, ["a.ev.1", "a.ev.3"]);
  assertEquals(reg.get("B").sublist.count, 1);
  reg.close();
});

Deno.test("registry: remove an account, an export, an import", () => {
  const reg = new AccountRegistry([exporter([{ stream: "ev.>" }, { stream: "x" }]), importer]);
  assertEquals(reg.errors, []);
  const got = listen(reg.get("B"), ">");
  publish(reg.get("A"), "ev.1");
  assertEquals(reg.addImport("B", { stream: { account: "A", subject: "x" } }), null);
  publish(reg.get("A"), "x");
  assertEquals(got, ["a.ev.1", "x"]);
  assert(reg.removeImport("B", "A", "x"));
  assert(!reg.removeImport("B", "A", "x"));
  publish(reg.get("A"), "x");
  assertEquals(reg.removeExport("A", "ev.>"), [
    'Error adding stream import "ev.>": stream import not authorized',
  ]);
  publish(reg.get("A"), "ev.2");
  assertEquals(got, ["a.ev.1", "x"]);
  const a = reg.get("A");
  assert(reg.remove("A"));
  assert(reg.find("A") === undefined);
  assert(!reg.remove("A"));
  publish(a, "ev.3");
  assertEquals(got, ["a.ev.1", "x"]);
  reg.close();
});

Deno.test("registry: unknown names are resolved through the sources, once", async () => {
  let lookups = 0;
  const source: AccountSource = {
    lookup(name: string): Promise<AccountDefinition | undefined> {
      lookups++;
      return Promise.resolve(
        name === "J" ? { name: "J", exports: [{ service: "svc" }], imports: [] } : undefined,
      );
    },
  };
  const reg = new AccountRegistry([exporter([])], { sources: [source] });
  const [j1, j2] = await Promise.all([reg.resolve("J"), reg.resolve("J")]);
  assert(j1 !== undefined && j1 === j2 && j1 === reg.find("J"));
  assertEquals(lookups, 1);
  assert((await reg.resolve("A")) === reg.find("A"), "configured accounts resolve at once");
  assertEquals(lookups, 1);
  assertEquals(await reg.resolve("nobody"), undefined);
  assertEquals(reg.find("nobody"), undefined);
  // An import from the resolved account now works.
  assertEquals(reg.addImport("A", { service: { account: "J", subject: "svc" } }), null);
  // get() still creates any name, as before.
  assert(reg.get("adhoc").name === "adhoc");
  reg.close();
});
