/**
 * WebSocket remotes (our own RFC 6455 client side) against nats-server 2.9.10's websocket port:
 * permessage-deflate (`ws_compression`), unmasked frames (`ws_no_masking`), a URL path, and the
 * `proxy { url, username, password }` HTTP CONNECT tunnel (beyond the reference), with a small
 * CONNECT proxy written for the test that counts tunnels and checks `Proxy-Authorization`.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveNatsServer } from "../helpers/reference.ts";
import {
  client,
  collect,
  freePort,
  leafConfig,
  startNode,
  until,
  waitForRoute,
} from "./harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A tiny HTTP CONNECT proxy: one tunnel per CONNECT, Basic auth when `auth` is set. */
function connectProxy(auth?: string) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const state = { tunnels: 0, refused: 0, targets: [] as string[] };
  const conns = new Set<Deno.Conn>();
  (async () => {
    for await (const c of listener) {
      conns.add(c);
      (async () => {
        let head = "";
        const buf = new Uint8Array(4096);
        while (!head.includes("\r\n\r\n")) {
          const n = await c.read(buf);
          if (n === null) return c.close();
          head += dec.decode(buf.subarray(0, n));
        }
        const m = /^CONNECT (\S+) HTTP\/1\.1\r\n/.exec(head);
        const given = /^Proxy-Authorization: Basic (\S+)\r$/im.exec(head)?.[1];
        if (!m || (auth && given !== btoa(auth))) {
          state.refused++;
          await c.write(enc.encode("HTTP/1.1 407 Proxy Authentication Required\r\n\r\n"));
          return c.close();
        }
        state.targets.push(m[1]);
        const [host, port] = [
          m[1].slice(0, m[1].lastIndexOf(":")),
          m[1].slice(m[1].lastIndexOf(":") + 1),
        ];
        const up = await Deno.connect({ hostname: host, port: Number(port) });
        conns.add(up);
        state.tunnels++;
        await c.write(enc.encode("HTTP/1.1 200 Connection established\r\n\r\n"));
        await Promise.allSettled([c.readable.pipeTo(up.writable), up.readable.pipeTo(c.writable)]);
      })().catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    state,
    close() {
      listener.close();
      for (const c of conns) {
        try {
          c.close();
        } catch { /* closed */ }
      }
    },
  };
}

interface Case {
  name: string;
  remote: (wsPort: number, proxyPort: number) => string;
  proxyAuth?: string;
  /** Expect the link to come up. */
  up: boolean;
  /** Hub log lines expected (the hub runs with -D). */
  hubLog?: RegExp;
  tunnels?: number;
}

const CASES: Case[] = [
  {
    name: "ws_compression negotiates permessage-deflate",
    remote: (p) => `{ url: "ws://127.0.0.1:${p}", ws_compression: true }`,
    up: true,
    hubLog: /Leafnode compression=true/,
  },
  {
    name: "without ws_compression the frames are not compressed",
    remote: (p) => `{ url: "ws://127.0.0.1:${p}" }`,
    up: true,
    hubLog: /Leafnode compression=false/,
  },
  {
    name: "ws_no_masking",
    remote: (p) => `{ url: "ws://127.0.0.1:${p}", ws_no_masking: true, ws_compression: true }`,
    up: true,
  },
  {
    name:
      "a URL path: <path>/leafnode, then /leafnode<path> when a 2.9.10 hub takes it for a client",
    remote: (p) => `{ url: "ws://127.0.0.1:${p}/some/prefix" }`,
    up: true,
  },
  {
    name: "through an HTTP CONNECT proxy with credentials",
    remote: (p, pp) =>
      `{ url: "ws://127.0.0.1:${p}", proxy { url: "http://127.0.0.1:${pp}", username: u, password: pw } }`,
    proxyAuth: "u:pw",
    up: true,
    tunnels: 1,
  },
  {
    name: "a proxy refusing the credentials keeps the link down",
    remote: (p, pp) =>
      `{ url: "ws://127.0.0.1:${p}", proxy { url: "http://127.0.0.1:${pp}", username: u, password: bad } }`,
    proxyAuth: "u:pw",
    up: false,
    tunnels: 0,
  },
];

for (const c of CASES) {
  Deno.test({
    name: `leaf ws remote: ${c.name}`,
    ignore: !haveNatsServer(),
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const wsPort = freePort();
      const hub = await startNode(
        "ref",
        `server_name: HUB\nleafnodes { listen: "127.0.0.1:-1" }\n` +
          `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true, compression: true }\ndebug: true`,
        freePort(),
      );
      const proxy = connectProxy(c.proxyAuth);
      const leaf = await startNode("ours", leafConfig([c.remote(wsPort, proxy.port)]), freePort());
      const h = await client(hub.clientPort);
      const l = await client(leaf.clientPort);
      try {
        if (c.up) {
          const sub = l.subscribe("ws.down");
          await waitForRoute(h, "ws.down", l, 15_000);
          const big = "x".repeat(5000);
          const got = collect(sub, 1);
          h.publish("ws.down", enc.encode(big));
          assertEquals(await got, [big]);
          await waitForRoute(l, "ws.up", h);
          if (c.hubLog) {
            await until(() => c.hubLog!.test(hub.stderr()), 5000, `hub log ${c.hubLog}`);
          }
        } else {
          await until(() => proxy.state.refused >= 1, 5000, "the proxy refusing");
          await until(() => /407/.test(leaf.stderr()), 5000, "the leaf logging the refusal");
          assert(!/Leafnode connection created/.test(hub.stderr()), "no leafnode on the hub");
        }
        if (c.tunnels !== undefined) {
          assertEquals(proxy.state.tunnels, c.tunnels);
          if (c.tunnels) assertEquals(proxy.state.targets, [`127.0.0.1:${wsPort}`]);
        }
      } finally {
        await h.close();
        await l.close();
        await leaf.stop();
        proxy.close();
        await hub.stop();
      }
    },
  });
}
