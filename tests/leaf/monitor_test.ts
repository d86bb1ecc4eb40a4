/**
 * `/leafz` and the leafnode parts of `/varz` and `/accountz`, ours next to nats-server 2.9.10 as
 * the hub of the same nats-server leaf (with the same subscriptions): keys in order, values, the
 * leaf's remote interest (`subs=1`), the `acc` filter, and the leafnode count.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { client, freePort, leafConfig, leafPortOf } from "./harness.ts";

// deno-lint-ignore no-explicit-any
type Json = any;

async function get(port: number, path: string): Promise<Json> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return await res.json();
}

/** Keys of an object, recursively (arrays by their first element). */
function shape(v: Json): Json {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  }
  return typeof v;
}

interface Hub {
  mon: number;
  leafPort: number;
  clientPort: number;
  stop(): Promise<void>;
}

async function hub(impl: "ours" | "ref", conf: string): Promise<Hub> {
  if (impl === "ours") {
    const s = await startOurs(conf);
    return {
      mon: s.monitorPort!,
      leafPort: s.handle.ports.leafnode!,
      clientPort: s.port,
      stop: s.stop,
    };
  }
  const r = await startReference(conf);
  return {
    mon: r.monitorPort!,
    leafPort: leafPortOf(r.stderr()),
    clientPort: r.port,
    stop: r.stop,
  };
}

/** The monitoring answers of a hub with one nats-server leaf holding known subscriptions. */
async function observe(impl: "ours" | "ref") {
  const conf = `http: "127.0.0.1:-1"\naccounts { A {}, B {} }\n` +
    `leafnodes { listen: "127.0.0.1:-1"\n authorization { user: l, password: p, account: A } }`;
  const h = await hub(impl, conf);
  const leaf = await startReference(
    leafConfig([`{ url: "nats://l:p@127.0.0.1:${h.leafPort}" }`]),
    ["-p", String(freePort())],
  );
  const hubUser = await client(h.clientPort);
  const nc = await client(leaf.port);
  try {
    nc.subscribe("orders.*");
    nc.subscribe("work", { queue: "q" });
    await nc.flush();
    // The hub-side client is in $G, the leaf in A: wait on the hub's monitoring instead.
    let leafz: Json;
    const deadline = Date.now() + 10_000;
    do {
      leafz = await get(h.mon, "/leafz?subs=1");
      const list: string[] = leafz.leafs?.[0]?.subscriptions_list ?? [];
      if (list.includes("orders.*") && list.includes("work")) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    const plain = await get(h.mon, "/leafz");
    const accB = await get(h.mon, "/leafz?acc=B");
    const varz = await get(h.mon, "/varz");
    const accz = await get(h.mon, "/accountz?acc=A");
    return { leafz, plain, accB, varz, accz };
  } finally {
    await nc.close();
    await hubUser.close();
    await leaf.stop();
    await h.stop();
  }
}

Deno.test({
  name: "leafz: fields, subscriptions and account filter as nats-server; varz counts leafnodes",
  ignore: !haveNatsServer(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const mine = await observe("ours");
    if (Deno.env.get("LEAF_DEBUG")) console.log(JSON.stringify(mine, null, 1));
    const theirs = await observe("ref");
    for (const o of [mine, theirs]) {
      assertEquals(o.leafz.leafnodes, 1);
      const l = o.leafz.leafs[0];
      assertEquals(l.account, "A");
      assertEquals(l.ip, "127.0.0.1");
      const subs = (l.subscriptions_list as string[]).filter((s) => !s.startsWith("$LDS."));
      assert(subs.includes("orders.*") && subs.includes("work"), JSON.stringify(subs));
      assertEquals(o.plain.leafs[0].subscriptions_list, undefined);
      assertEquals(o.accB.leafnodes, 0);
      assertEquals(o.accB.leafs, null);
      assertEquals(o.varz.leafnodes, 1);
      assertEquals(o.accz.account_detail.leafnode_connections, 1);
    }
    assertEquals(shape(mine.leafz), shape(theirs.leafz));
    assertEquals(Object.keys(mine.leafz.leafs[0]), Object.keys(theirs.leafz.leafs[0]));
    const sorted = (o: Json) =>
      (o.leafz.leafs[0].subscriptions_list as string[]).map((s) =>
        s.startsWith("$LDS.") ? "$LDS.*" : s
      ).sort();
    assertEquals(sorted(mine), sorted(theirs));
    assertEquals(mine.leafz.leafs[0].subscriptions, theirs.leafz.leafs[0].subscriptions);
    assertEquals(Object.keys(mine.varz.leaf), Object.keys(theirs.varz.leaf));
    assertEquals(
      { ...mine.varz.leaf, port: 0 },
      { ...theirs.varz.leaf, port: 0 },
    );
  },
});
