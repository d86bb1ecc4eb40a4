/**
 * The distributed topology: a 3-node nats-server 2.9.10 cluster (real routes), two of this
 * server's edges leafnoded to different members (each with all three URLs, in order), a
 * WebSocket client on one edge and a TCP client on the other. They exchange pub/sub and
 * request/reply; then the member the first edge is attached to is killed: the edge fails over
 * to the next URL and traffic resumes. A third edge configured with one URL only fails over to
 * the members the hub announced (`leafnode_urls`). The fail-over times are printed.
 */
import { wsconnect } from "@nats-io/nats-core";
import { assertEquals } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { client, freePort, until } from "./harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test({
  name: "leaf topology: 3-node nats-server cluster, two edges, ws and tcp clients, fail-over",
  ignore: !haveNatsServer(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const routes = [freePort(), freePort(), freePort()];
    const leafs = [freePort(), freePort(), freePort()];
    const members = await Promise.all([0, 1, 2].map((i) =>
      startReference(
        [
          `server_name: M${i}`,
          `cluster { name: C, listen: "127.0.0.1:${routes[i]}",`,
          `  routes: [${routes.filter((_, j) => j !== i).map((p) => `"nats://127.0.0.1:${p}"`)}] }`,
          `leafnodes { listen: "127.0.0.1:${leafs[i]}" }`,
        ].join("\n"),
        ["-p", String(freePort())],
      )
    ));
    const alive = [true, true, true];
    const urls = (order: number[]) => order.map((i) => `"nats://127.0.0.1:${leafs[i]}"`).join(", ");
    const edge1 = await startOurs(
      `server_name: E1\nwebsocket { listen: "127.0.0.1:-1", no_tls: true }\n` +
        `leafnodes { reconnect: 1, remotes: [ { urls: [${
          urls([0, 1, 2])
        }], no_randomize: true } ] }`,
    );
    const edge2 = await startOurs(
      `server_name: E2\nleafnodes { remotes: [ { urls: [${
        urls([1, 2, 0])
      }], no_randomize: true } ] }`,
    );
    // Only one URL: the others are learned from the hub's INFO.
    const edge3 = await startOurs(
      `server_name: E3\nleafnodes { remotes: [ { url: "nats://127.0.0.1:${leafs[2]}" } ] }`,
    );
    const ws = await wsconnect({
      servers: `ws://127.0.0.1:${edge1.wsPort}`,
      maxReconnectAttempts: -1,
    });
    const tcp = await client(edge2.port);
    const tcp3 = await client(edge3.port);
    try {
      // Cluster formed and both edges attached: routes carry the edges' interest.
      await until(
        () => members.every((m) => /Route connection created/.test(m.stderr())),
        10_000,
        "routes",
      );
      const toWs: string[] = [];
      ws.subscribe("edge1.in", {
        callback: (_e, m) => {
          toWs.push(m.string());
        },
      });
      const toTcp: string[] = [];
      tcp.subscribe("edge2.in", { callback: (_e, m) => toTcp.push(dec.decode(m.data)) });
      ws.subscribe("svc.e1", {
        callback: (_e, m) => {
          m.respond(`e1:${m.string()}`);
        },
      });
      tcp.subscribe("svc.e2", {
        callback: (_e, m) => m.respond(enc.encode(`e2:${dec.decode(m.data)}`)),
      });
      await ws.flush();
      await tcp.flush();
      const pump = async (
        send: () => void,
        got: () => boolean,
        what: string,
        timeoutMs = 15_000,
      ) => {
        const deadline = Date.now() + timeoutMs;
        while (!got()) {
          if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
          send();
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      await pump(
        () => tcp.publish("edge1.in", enc.encode("hi ws")),
        () => toWs.length > 0,
        "tcp→ws",
      );
      await pump(() => ws.publish("edge2.in", "hi tcp"), () => toTcp.length > 0, "ws→tcp");
      assertEquals(toWs[0], "hi ws");
      assertEquals(toTcp[0], "hi tcp");
      const r1 = await tcp.request("svc.e1", enc.encode("q1"), { timeout: 2000 });
      assertEquals(dec.decode(r1.data), "e1:q1");
      const r2 = await ws.request("svc.e2", "q2", { timeout: 2000 });
      assertEquals(r2.string(), "e2:q2");

      // Kill the member edge1 is attached to (the first of its URLs).
      const before = toWs.length;
      const t0 = performance.now();
      await members[0].stop();
      alive[0] = false;
      await pump(
        () => tcp.publish("edge1.in", enc.encode("after failover")),
        () => toWs.slice(before).includes("after failover"),
        "tcp→ws after fail-over",
        20_000,
      );
      const failoverMs = Math.round(performance.now() - t0);
      console.log(`leaf fail-over: traffic resumed ${failoverMs} ms after the member was killed`);
      const r3 = await tcp.request("svc.e1", enc.encode("q3"), { timeout: 3000 });
      assertEquals(dec.decode(r3.data), "e1:q3");
      const r4 = await ws.request("svc.e2", "q4", { timeout: 3000 });
      assertEquals(r4.string(), "e2:q4");

      // The single-URL edge: attached to member 2, which is killed next.
      const toE3: string[] = [];
      tcp3.subscribe("edge3.in", { callback: (_e, m) => toE3.push(dec.decode(m.data)) });
      await tcp3.flush();
      await pump(() => tcp.publish("edge3.in", enc.encode("hi e3")), () => toE3.length > 0, "→e3");
      const t1 = performance.now();
      await members[2].stop();
      alive[2] = false;
      await pump(
        () => tcp.publish("edge3.in", enc.encode("e3 after failover")),
        () => toE3.includes("e3 after failover"),
        "→e3 after fail-over to a learned URL",
        20_000,
      );
      const learnedMs = Math.round(performance.now() - t1);
      console.log(`leaf fail-over to a learned URL: traffic resumed after ${learnedMs} ms`);
    } finally {
      await ws.close().catch(() => {});
      await tcp.close().catch(() => {});
      await tcp3.close().catch(() => {});
      await edge3.stop();
      await edge1.stop();
      await edge2.stop();
      for (let i = 0; i < 3; i++) if (alive[i]) await members[i].stop();
    }
  },
});
