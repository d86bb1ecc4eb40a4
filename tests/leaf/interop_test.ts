/**
 * Leafnode interop with nats-server 2.9.10, each link kind each way: this server as a leaf of
 * nats-server over TCP, TLS and ws://, and nats-server as a leaf of this server on its leafnode
 * port (TCP, TLS) and on its websocket port `/leafnode`. In each: pub/sub both directions,
 * wildcards, queue groups with members on both sides (each message to exactly one member),
 * request/reply both ways, headers both ways, and the hub restarting on the same ports with the
 * leaf's subscriptions working again once reconnected.
 */
import { headers, type NatsConnection } from "nats";
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveOpenssl } from "../helpers/certs.ts";
import { haveNatsServer } from "../helpers/reference.ts";
import {
  client,
  collect,
  hubConfig,
  hubPorts,
  type Impl,
  leafConfig,
  type Link,
  type Node,
  remoteFor,
  startNode,
  waitForRoute,
} from "./harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Mode {
  name: string;
  hub: Impl;
  leaf: Impl;
  link: Link;
}

const MODES: Mode[] = [
  { name: "ours as leaf of nats-server over TCP", hub: "ref", leaf: "ours", link: "tcp" },
  { name: "ours as leaf of nats-server over TLS", hub: "ref", leaf: "ours", link: "tls" },
  { name: "ours as leaf of nats-server over ws://", hub: "ref", leaf: "ours", link: "ws" },
  {
    name: "nats-server as leaf of ours on the leafnode port",
    hub: "ours",
    leaf: "ref",
    link: "tcp",
  },
  { name: "nats-server as leaf of ours over TLS", hub: "ours", leaf: "ref", link: "tls" },
  { name: "nats-server as leaf of ours on ws /leafnode", hub: "ours", leaf: "ref", link: "ws" },
];

const opts = { sanitizeOps: false, sanitizeResources: false };

for (const mode of MODES) {
  Deno.test({
    name: `leaf interop: ${mode.name}`,
    ...opts,
    ignore: !haveNatsServer() || (mode.link === "tls" && !haveOpenssl()),
    fn: async (t) => {
      const ports = hubPorts();
      const hubConf = await hubConfig(ports, mode.link);
      let hub: Node = await startNode(mode.hub, hubConf, ports.client);
      const leaf = await startNode(mode.leaf, leafConfig([await remoteFor(ports, mode.link)]), 0);
      const h = await client(hub.clientPort);
      const l = await client(leaf.clientPort);
      try {
        await t.step("pub/sub both directions", async () => {
          await waitForRoute(h, "ps.down", l);
          await waitForRoute(l, "ps.up", h);
          const down = l.subscribe("ps.down", { max: 1 });
          const up = h.subscribe("ps.up", { max: 1 });
          await l.flush();
          await h.flush();
          await waitForRoute(h, "ps.down2", l);
          const d = collect(down, 1);
          const u = collect(up, 1);
          h.publish("ps.down", enc.encode("from hub"));
          l.publish("ps.up", enc.encode("from leaf"));
          assertEquals(await d, ["from hub"]);
          assertEquals(await u, ["from leaf"]);
        });

        await t.step("wildcard interest", async () => {
          const star = l.subscribe("wc.*");
          const full = l.subscribe("wc.>");
          await waitForRoute(h, "wc.probe", l);
          const s = collect(star, 1, 3000);
          const f = collect(full, 3, 3000);
          for (const subj of ["wc.a", "wc.a.b", "nope.a", "wc.c.d"]) {
            h.publish(subj, enc.encode(subj));
          }
          assertEquals(await s, ["wc.a"]);
          assertEquals((await f).sort(), ["wc.a", "wc.a.b", "wc.c.d"]);
        });

        await t.step("queue group with members on both sides: each message once", async () => {
          const got: string[] = [];
          const perSide = { hub: 0, leaf: 0 };
          const members = [
            h.subscribe("work", {
              queue: "g",
              callback: (_e, m) => (got.push(dec.decode(m.data)), perSide.hub++),
            }),
            l.subscribe("work", {
              queue: "g",
              callback: (_e, m) => (got.push(dec.decode(m.data)), perSide.leaf++),
            }),
            l.subscribe("work", {
              queue: "g",
              callback: (_e, m) => (got.push(dec.decode(m.data)), perSide.leaf++),
            }),
          ];
          // Only leaf members for this one: every message published on the hub crosses the link.
          const onlyLeaf: string[] = [];
          const leafOnly = [1, 2].map(() =>
            l.subscribe("work2", {
              queue: "g2",
              callback: (_e, m) => onlyLeaf.push(dec.decode(m.data)),
            })
          );
          await l.flush();
          await h.flush();
          await waitForRoute(h, "q.sync", l);
          // Wait until the hub knows the leaf's queue interest (a probe reaches a leaf member).
          const probeUntil = Date.now() + 10_000;
          while (onlyLeaf.length === 0 && Date.now() < probeUntil) {
            h.publish("work2", enc.encode("probe"));
            await h.flush();
            await new Promise((r) => setTimeout(r, 50));
          }
          const baseline = onlyLeaf.length;
          assert(baseline > 0, "leaf queue interest reached the hub");
          const N = 40;
          for (let i = 0; i < N; i++) h.publish("work", enc.encode(`h${i}`));
          for (let i = 0; i < N; i++) l.publish("work", enc.encode(`l${i}`));
          for (let i = 0; i < N; i++) h.publish("work2", enc.encode(`x${i}`));
          await h.flush();
          await l.flush();
          const until = Date.now() + 5000;
          while ((got.length < 2 * N || onlyLeaf.length < baseline + N) && Date.now() < until) {
            await new Promise((r) => setTimeout(r, 25));
          }
          // A little longer: duplicates would arrive now.
          await h.flush();
          await l.flush();
          await new Promise((r) => setTimeout(r, 100));
          assertEquals(got.length, 2 * N, `each of ${2 * N} messages once, got ${got.length}`);
          assertEquals(new Set(got).size, 2 * N);
          const x = onlyLeaf.filter((v) => v.startsWith("x"));
          assertEquals(x.length, N);
          assertEquals(new Set(x).size, N);
          for (const m of [...members, ...leafOnly]) m.unsubscribe();
        });

        await t.step("request/reply both ways", async () => {
          l.subscribe("svc.leaf", {
            callback: (_e, m) => m.respond(enc.encode(`leaf:${dec.decode(m.data)}`)),
          });
          h.subscribe("svc.hub", {
            callback: (_e, m) => m.respond(enc.encode(`hub:${dec.decode(m.data)}`)),
          });
          await waitForRoute(h, "svc.sync", l);
          await waitForRoute(l, "svc.sync2", h);
          const r1 = await retryRequest(h, "svc.leaf", "ping1");
          const r2 = await retryRequest(l, "svc.hub", "ping2");
          assertEquals(r1, "leaf:ping1");
          assertEquals(r2, "hub:ping2");
        });

        await t.step("headers both ways", async () => {
          const down = l.subscribe("hdr.down", { max: 1 });
          const up = h.subscribe("hdr.up", { max: 1 });
          await waitForRoute(h, "hdr.sync", l);
          await waitForRoute(l, "hdr.sync2", h);
          const hd = headers();
          hd.set("X-A", "1");
          hd.append("X-B", "two");
          h.publish("hdr.down", enc.encode("hd"), { headers: hd });
          const hu = headers();
          hu.set("X-C", "3");
          l.publish("hdr.up", enc.encode("hu"), { headers: hu });
          for await (const m of down) {
            assertEquals(m.headers?.get("X-A"), "1");
            assertEquals(m.headers?.get("X-B"), "two");
            assertEquals(dec.decode(m.data), "hd");
          }
          for await (const m of up) {
            assertEquals(m.headers?.get("X-C"), "3");
            assertEquals(dec.decode(m.data), "hu");
          }
        });

        await t.step("hub restarts on the same ports: no subscription lost", async () => {
          const keep = l.subscribe("keep.down");
          const keepUp = h.subscribe("keep.up");
          await waitForRoute(h, "keep.sync", l);
          await hub.stop();
          hub = await startNode(mode.hub, hubConf, ports.client);
          // The leaf's subscription was made before the restart and is not renewed by its client.
          const h2 = await client(hub.clientPort);
          try {
            const got = collect(keep, 1, 15_000);
            const until = Date.now() + 15_000;
            let received = false;
            got.then(() => received = true);
            while (!received && Date.now() < until) {
              h2.publish("keep.down", enc.encode("after restart"));
              await h2.flush();
              await new Promise((r) => setTimeout(r, 100));
            }
            assertEquals(await got, ["after restart"]);
            // The hub-side client reconnected and resubscribed; the leaf reaches it again.
            const up = collect(keepUp, 1, 15_000);
            let upDone = false;
            up.then(() => upDone = true);
            const until2 = Date.now() + 15_000;
            while (!upDone && Date.now() < until2) {
              l.publish("keep.up", enc.encode("up again"));
              await l.flush();
              await new Promise((r) => setTimeout(r, 100));
            }
            assertEquals(await up, ["up again"]);
          } finally {
            await h2.close();
          }
        });
      } finally {
        await h.close().catch(() => {});
        await l.close().catch(() => {});
        await leaf.stop();
        await hub.stop();
      }
    },
  });
}

async function retryRequest(nc: NatsConnection, subject: string, data: string): Promise<string> {
  let last: unknown;
  for (let i = 0; i < 20; i++) {
    try {
      const m = await nc.request(subject, enc.encode(data), { timeout: 500 });
      return dec.decode(m.data);
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw last;
}
