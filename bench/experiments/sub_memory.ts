/**
 * Where the heap bytes of one subscription go. Builds, for N distinct subjects
 * (`mem.subs.<i>.x <sid>`, as the `mem-subs-100k` bench row sends them), the objects the server
 * builds for a client `SUB`, one part at a time, and prints the live heap each part adds (after
 * full collections) per subscription. Then what the representations replaced cost, and the
 * runtime's floor: the smallest objects that can hold a subscription findable by sid and subject.
 *
 * Run: `deno run -A bench/experiments/sub_memory.ts [N]` (fresh process; RSS lines are for the
 * whole process).
 *
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";
import { isAscii, smallCopy, tokenString } from "../../lib/protocol/bytes.ts";
import { Sublist } from "../../lib/routing/sublist.ts";
import { Account } from "../../lib/accounts/account.ts";
import type { ClientSub, Subscriber } from "../../lib/routing/subscription.ts";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const floorMode = Deno.args[0] === "--floor";
const N = Number(Deno.args[floorMode ? 1 : 0] ?? 100_000);
const enc = new TextEncoder();
/** Everything built so far stays reachable from here. */
const keep: unknown[] = [];
(globalThis as Record<string, unknown>).__keep = keep;

function heap(): number {
  gc();
  gc();
  return Deno.memoryUsage().heapUsed;
}

let last = 0;
/** Builds a part, keeps it, and returns the heap it added per subscription. */
function part(build: () => unknown): number {
  last = heap();
  keep.push(build());
  const now = heap();
  const per = (now - last) / N;
  last = now;
  return per;
}
function row(bytes: number, what: string): number {
  console.log(`${bytes.toFixed(1).padStart(7)} B/sub  ${what}`);
  return bytes;
}

if (floorMode) {
  await runFloor();
  Deno.exit(0);
}

/**
 * The smallest representation: N objects `{ subject, queue, sid }` with flat strings in a Map by
 * sid, then also in a Map by subject (what any index by subject needs at least). Heap and RSS
 * per entry, RSS read 3 s after building as the bench row does.
 */
async function runFloor(): Promise<void> {
  const rssBefore = Deno.memoryUsage().rss;
  const h0 = heap();
  const bySid = new Map<string, { subject: string; queue: string | undefined; sid: string }>();
  for (let i = 0; i < N; i++) {
    const sid = String(i + 1);
    const subject = tokenString(enc.encode(`mem.subs.${i}.x`)); // flat, as the server has it
    bySid.set(sid, { subject, queue: undefined, sid });
  }
  keep.push(bySid);
  const h1 = heap();
  const bySubject = new Map<string, unknown>();
  for (const o of bySid.values()) bySubject.set(o.subject, o);
  keep.push(bySubject);
  const h2 = heap();
  await new Promise((r) => setTimeout(r, 3000));
  const rssAfter = Deno.memoryUsage().rss;
  row((h1 - h0) / N, "heap: object + 2 flat strings + Map entry by sid");
  row((h2 - h0) / N, "heap: the same + Map entry by subject");
  row((rssAfter - rssBefore) / N, "RSS after − before (both Maps)");
}

// The SUB arguments as the parser hands them over: views into read buffers.
const lines = Array.from({ length: N }, (_, i) => enc.encode(`mem.subs.${i}.x ${i + 1}`));
const subjectB = lines.map((l) => l.subarray(0, l.indexOf(32)));
const sidB = lines.map((l) => l.subarray(l.indexOf(32) + 1));
const client: Subscriber = { cid: 1, deliver: () => true };

const subjects: string[] = new Array(N).fill("");
const sids: string[] = new Array(N).fill("");
const subs: ClientSub[] = new Array(N).fill(null);
keep.push(subjects, sids, subs);

console.log(`${N} subscriptions, as the server builds them (client SUB):`);
let total = 0;
total += row(
  part(() => {
    for (let i = 0; i < N; i++) subjects[i] = tokenString(subjectB[i]);
  }),
  "subject string (tokenString, flat)",
);
total += row(
  part(() => {
    for (let i = 0; i < N; i++) sids[i] = tokenString(sidB[i]);
  }),
  "sid string (tokenString)",
);
total += row(
  part(() => {
    for (let i = 0; i < N; i++) {
      subs[i] = {
        subject: subjects[i],
        queue: undefined,
        sid: sids[i],
        sidBytes: isAscii(sidB[i]) ? undefined : smallCopy(sidB[i]),
        client,
        max: 0,
        delivered: 0,
      };
    }
  }),
  "ClientSub object (7 fields; sidBytes only for non-ASCII sids)",
);
total += row(
  part(() => {
    const m = new Map<string, ClientSub>();
    for (let i = 0; i < N; i++) m.set(sids[i], subs[i]);
    return m;
  }),
  "connection's sid → sub Map entry",
);
const trie = row(
  part(() => {
    const s = new Sublist<ClientSub>();
    for (let i = 0; i < N; i++) s.insert(subs[i]);
    return s;
  }),
  "sublist.insert (wide level's Map entry, 2 nodes, 1 level, token string)",
);
total += trie;
const account = part(() => {
  const a = new Account("A");
  for (let i = 0; i < N; i++) a.subscribe(subs[i]);
  return a;
});
total += row(account - trie, "account interest weight (Account.subscribe − sublist.insert)");
row(total, "total");

console.log(`\nwhat the representations replaced cost (same N, same strings):`);
row(
  part(() =>
    subjectB.map((b) => {
      let s = "";
      for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
      return s;
    })
  ) - 8,
  "subject appended char by char (cons-string chain), was 'subject string'",
);
row(part(() => sidB.map((b) => smallCopy(b))) - 8, "sidBytes as a smallCopy view (was per sub)");
row(part(() => sidB.map((b) => b.slice())) - 8, "sidBytes as an own copy (slice)");
row(
  part(() => subs.map((s) => ({ subject: s.subject, queue: s.queue, weight: 1 }))) - 8,
  "an Interest object per weight key (was per sub)",
);
row(part(() => subs.map((s) => [s])) - 8, "an array of one per trie node (was per node)");
row(part(() => subs.map((s, i) => [i, "x", s])) - 8, "a 3-slot level array per level (was)");

console.log(`\nthe runtime's floor (fresh process): one object per sub, 3 string fields`);
const floor = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", import.meta.filename!, "--floor", String(N)],
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!floor.success) Deno.exit(1);
