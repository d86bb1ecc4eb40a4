/**
 * HTTP monitoring, ours next to nats-server 2.9.10 with the same config and the same client
 * exchange: keys (and their order), value types, deterministic counters, connz sorting/paging/
 * filters/closed connections, subsz, the small endpoints, JSONP, 400 texts, the base path,
 * ports, the `-m` flag and the port-in-use refusal. Without nats-server the comparisons are
 * skipped (with a printed reason) and only our own expectations are checked.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { RawWs } from "../helpers/ws_raw.ts";
import { ClosedConnections } from "../../lib/monitor/closed.ts";
import type { ConnRecord } from "../../lib/monitor/conn_info.ts";
import {
  BadRequest,
  decodeBool,
  decodeInt,
  decodeUint64,
  marshalIndent,
  rfc3339,
  rttString,
  uptime,
} from "../../lib/monitor/gofmt.ts";
import { cleanPath, normalizeBasePath } from "../../lib/monitor/http.ts";
import { Sublist } from "../../lib/routing/sublist.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
/** Both servers: monitoring on a random port, no system account (deterministic sub counts). */
const BASE = `http: "127.0.0.1:-1"\nno_system_account: true\n`;

// ---- plumbing --------------------------------------------------------------------------------

interface Got {
  status: number;
  type: string;
  text: string;
  // deno-lint-ignore no-explicit-any
  json: any;
}

async function get(port: number, path: string): Promise<Got> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: "manual" });
  const text = await res.text();
  let json: unknown = undefined;
  if ((res.headers.get("content-type") ?? "").startsWith("application/json")) {
    json = JSON.parse(text);
  }
  return { status: res.status, type: res.headers.get("content-type") ?? "", text, json };
}

/** A server under test: ours or the reference. */
interface Target {
  name: string;
  port: number;
  mon: number;
  stop(): Promise<void>;
}

async function ours(config: string): Promise<Target> {
  const s = await startOurs(config);
  assert(s.monitorPort, "ports.monitor is set");
  return { name: "ours", port: s.port, mon: s.monitorPort!, stop: s.stop };
}

async function reference(config: string): Promise<Target> {
  const r = await startReference(config);
  assert(r.monitorPort, r.stderr());
  return { name: "nats-server", port: r.port, mon: r.monitorPort!, stop: r.stop };
}

/** Runs `fn` on ours, then on nats-server when it is installed; returns both results. */
async function both<T>(
  config: string,
  fn: (t: Target) => Promise<T>,
): Promise<{ mine: T; theirs?: T }> {
  const o = await ours(config);
  let mine: T;
  try {
    mine = await fn(o);
  } finally {
    await o.stop();
  }
  if (!haveNatsServer()) return { mine };
  const r = await reference(config);
  try {
    return { mine, theirs: await fn(r) };
  } finally {
    await r.stop();
  }
}

function kind(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
}

/** Key → JSON type, in key order (recursing into plain objects). */
function shape(v: unknown): unknown {
  if (kind(v) !== "object") return kind(v);
  return Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shape(x)]);
}

/** A copy without the given keys. */
function omit(v: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!keys.includes(k)) out[k] = x;
  return out;
}

/** Bounded poll for state with no event to await (the reference records closes in the background). */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function send(c: RawClient, text: string): Promise<void> {
  c.text = "";
  await c.send(text + "PING\r\n");
  await c.readUntil((t) => t.includes("PONG\r\n"));
}

/**
 * The connz scenario. c1..c3 connect in order and subscribe; then they publish in reverse order
 * (c3, c2, c1), each delivering only to itself or to clients that publish later, so the last
 * activity order is c3 < c2 < c1 both as we count it (own messages and subscriptions) and as
 * the reference does (which also counts deliveries). Sorts: subs 1,3,2; in/out msgs and bytes
 * 3,1,2; last and idle 1,2,3; uptime 3,2,1. c4 is closed by a protocol error, c5 by the client.
 */
async function scenario(t: Target): Promise<RawClient[]> {
  const cs: RawClient[] = [];
  for (let i = 0; i < 3; i++) {
    const c = await RawClient.connect(t.port);
    await c.info();
    cs.push(c);
  }
  const [c1, c2, c3] = cs;
  await send(c3, `CONNECT {"name":"c3","lang":"raw","version":"3.0"}\r\nSUB b 1\r\nSUB x1 2\r\n`);
  await send(c2, `CONNECT {"name":"c2","user":"bob"}\r\nSUB b 1\r\n`);
  await send(c1, `CONNECT {"name":"c1"}\r\nSUB c 1\r\nSUB d 2\r\nSUB e q 3\r\n`);
  // c3: in 4 msgs/10 B; delivered to c3 (4) and c2 (2).
  await send(c3, "PUB b 3\r\naaa\r\n".repeat(2) + "PUB x1 2\r\nzz\r\n".repeat(2));
  // c2: in 1/2 B; delivered to c1.
  await send(c2, "PUB c 2\r\nbb\r\n");
  // c1: in 2/6 B; delivered to c1.
  await send(c1, "PUB d 3\r\nccc\r\n".repeat(2));
  const c4 = await RawClient.connect(t.port);
  await c4.info();
  await send(c4, `CONNECT {"name":"c4"}\r\nSUB gone 1\r\n`);
  await c4.send("FOO\r\n");
  await c4.readUntil(() => false);
  c4.close();
  const c5 = await RawClient.connect(t.port);
  await c5.info();
  await send(c5, `CONNECT {"name":"c5"}\r\n`);
  c5.close();
  await waitFor("2 closed connections", async () => {
    const r = await get(t.mon, "/connz?state=closed");
    return r.json.total === 2 ? true : undefined;
  });
  return cs;
}

function closeAll(cs: RawClient[]): void {
  for (const c of cs) c.close();
}

// ---- unit: Go formatting and parameter decoding ----------------------------------------------

Deno.test("monitor unit: uptime, rtt, time and JSON formatting as Go writes them", () => {
  const cases: [number, string][] = [
    [0, "0s"],
    [999, "0s"],
    [61_000, "1m1s"],
    [3_600_000, "1h0m0s"],
    [90_061_000, "1d1h1m1s"],
    [366 * 86_400_000, "1y1d0h0m0s"],
    [-5, "0s"],
  ];
  for (const [ms, want] of cases) assertEquals(uptime(ms), want, `uptime(${ms})`);
  const rtts: [number, string][] = [
    [0, "0s"],
    [999, "999ns"],
    [860_123, "860µs"],
    [1_234_567, "1.234567ms"],
    [2_500_000_000, "2.5s"],
  ];
  for (const [ns, want] of rtts) assertEquals(rttString(ns), want, `rtt(${ns})`);
  assertEquals(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5, 6) + 0.5), "2026-01-02T03:04:05.0065Z");
  assertEquals(rfc3339(Date.UTC(2026, 0, 2, 3, 4, 5)), "2026-01-02T03:04:05Z");
  assertEquals(
    marshalIndent({ a: "<&>", b: undefined, c: [], d: {} }),
    `{
  "a": "\\u003c\\u0026\\u003e",
  "c": [],
  "d": {}
}`,
  );
  assertEquals(normalizeBasePath(""), "/");
  assertEquals(normalizeBasePath("mon/"), "/mon");
  assertEquals(normalizeBasePath("/a//b/../c"), "/a/c");
  assertEquals(cleanPath("/mon/./varz"), "/mon/varz");
});

Deno.test("monitor unit: query decoding errors carry strconv's texts", () => {
  const bad = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert(e instanceof BadRequest);
      return e.message;
    }
    throw new Error("no error");
  };
  const q = (s: string) => new URLSearchParams(s);
  assertEquals(decodeBool(q("subs=T"), "subs"), true);
  assertEquals(decodeBool(q("subs=0"), "subs"), false);
  assertEquals(decodeInt(q("offset=-3"), "offset"), -3);
  assertEquals(decodeUint64(q(""), "cid"), 0);
  assertEquals(
    bad(() => decodeBool(q("subs=yes"), "subs")),
    `Error decoding boolean for 'subs': strconv.ParseBool: parsing "yes": invalid syntax`,
  );
  assertEquals(
    bad(() => decodeInt(q("limit=99999999999999999999"), "limit")),
    `Error decoding int for 'limit': strconv.Atoi: parsing "99999999999999999999": value out of range`,
  );
  assertEquals(
    bad(() => decodeUint64(q("cid=%2B1"), "cid")),
    `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "+1": invalid syntax`,
  );
});

Deno.test("monitor unit: the closed ring keeps the newest N, oldest first", () => {
  const ring = new ClosedConnections(3);
  for (let cid = 1; cid <= 5; cid++) ring.push({ cid } as ConnRecord);
  assertEquals(ring.size, 3);
  assertEquals(ring.list().map((r) => r.cid), [3, 4, 5]);
});

Deno.test("monitor unit: sublist counters (inserts, removes, matches, cache hits, fanout)", () => {
  const sl = new Sublist<{ subject: string; queue?: string }>();
  const a = { subject: "foo" }, b = { subject: "*" }, q = { subject: "foo", queue: "g" };
  sl.insert(a);
  sl.insert(b);
  sl.insert(q);
  sl.match("foo");
  sl.match("foo");
  sl.match("bar");
  sl.remove(b);
  const c = sl.counters();
  assertEquals(c, {
    count: 2,
    cacheSize: 0, // removing the wildcard dropped both cached entries
    inserts: 3,
    removes: 1,
    matches: 3,
    cacheHits: 1,
    totalFanout: 0,
    maxFanout: 0,
  });
  sl.match("foo");
  assertEquals([sl.counters().totalFanout, sl.counters().maxFanout], [2, 2]);
});

// ---- /varz -----------------------------------------------------------------------------------

/** Values that differ between two servers by nature (ids, runtime, clocks, ports). */
const VARZ_VOLATILE = [
  "server_id",
  "server_name",
  "go",
  "port",
  "http_port",
  "start",
  "now",
  "uptime",
  "mem",
  "cores",
  "gomaxprocs",
  "cpu",
  "config_load_time",
];

const VARZ_CASES: { name: string; config: string }[] = [
  { name: "defaults", config: "" },
  {
    name: "auth, limits and timeouts",
    config: `authorization { user: a, password: b, timeout: 1.5 }
max_subscriptions: 10
max_payload: 2KB
ping_interval: "30s"
write_deadline: "3s"
`,
  },
  {
    name: "websocket block (advertise shown)",
    config: `websocket {
  listen: "127.0.0.1:-1", no_tls: true, advertise: "ws.example.com:443", compression: true,
  handshake_timeout: "3s", same_origin: true, allowed_origins: ["http://x.example.com"],
  authorization { timeout: 3 }
}
`,
  },
  { name: "base path", config: `http_base_path: "/mon"\n` },
];

for (const c of VARZ_CASES) {
  Deno.test(`varz: ${c.name}: keys, order, types and values as nats-server`, async () => {
    const prefix = c.config.includes("http_base_path") ? "/mon" : "";
    const { mine, theirs } = await both(BASE + c.config, async (t) => {
      const v = (await get(t.mon, `${prefix}/varz`)).json;
      if (v.websocket.port !== undefined) v.websocket.port = "<ws port>";
      return v;
    });
    assertEquals(mine.version, "2.9.10");
    assertEquals(mine.go, `deno${Deno.version.deno}`);
    assertEquals(mine.http_req_stats, { "/varz": 1 });
    assertMatch(mine.uptime, /^\d+s$/);
    assert(mine.mem > 0 && mine.cores > 0);
    if (c.name.startsWith("websocket")) {
      assertEquals(mine.websocket.advertise, "ws.example.com:443");
    }
    if (!theirs) return;
    assertEquals(shape(omit(mine, ["system_account"])), shape(theirs));
    assertEquals(omit(mine, VARZ_VOLATILE), omit(theirs, VARZ_VOLATILE));
  });
}

Deno.test("varz: counters after a known exchange equal nats-server's", async () => {
  const { mine, theirs } = await both(BASE, async (t) => {
    const cs = await scenario(t);
    try {
      const v = (await get(t.mon, "/varz")).json;
      return {
        connections: v.connections,
        total_connections: v.total_connections,
        subscriptions: v.subscriptions,
        in_msgs: v.in_msgs,
        out_msgs: v.out_msgs,
        in_bytes: v.in_bytes,
        out_bytes: v.out_bytes,
        slow_consumers: v.slow_consumers,
      };
    } finally {
      closeAll(cs);
    }
  });
  assertEquals(mine, {
    connections: 3,
    total_connections: 5,
    subscriptions: 6,
    in_msgs: 7,
    out_msgs: 9,
    in_bytes: 18,
    out_bytes: 24,
    slow_consumers: 0,
  });
  if (theirs) assertEquals(mine, theirs);
});

// ---- /connz ----------------------------------------------------------------------------------

/** Per-connection values that depend on ports and clocks. */
const CONN_VOLATILE = ["port", "start", "last_activity", "stop", "rtt", "uptime", "idle"];

function normConn(c: Record<string, unknown>): Record<string, unknown> {
  const out = omit(c, CONN_VOLATILE);
  if (c.stop !== undefined) delete out.pending_bytes; // what was queued when it closed
  if (Array.isArray(out.subscriptions_list_detail)) {
    out.subscriptions_list_detail = [...out.subscriptions_list_detail].sort((a, b) =>
      String(a.sid).localeCompare(String(b.sid))
    );
  }
  if (Array.isArray(out.subscriptions_list)) {
    out.subscriptions_list = [...out.subscriptions_list].sort();
  }
  return out;
}

Deno.test("connz: connections, keys and values (auth, subs, closed) as nats-server", async () => {
  const queries = [
    "/connz?auth=1&subs=1",
    "/connz?subs=detail",
    "/connz?state=closed&subs=1&auth=1",
  ];
  const { mine, theirs } = await both(BASE, async (t) => {
    const cs = await scenario(t);
    try {
      const out: Record<string, unknown> = {};
      for (const q of queries) {
        const r = await get(t.mon, q);
        assertEquals(r.type, "application/json", `${t.name} ${q}`);
        const conns = r.json.connections as Record<string, unknown>[];
        for (const c of conns) {
          assertMatch(String(c.rtt), /^\d+(\.\d+)?(ns|µs|ms|s)$/, `${t.name} rtt`);
          assertMatch(String(c.start), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
        }
        out[q] = {
          top: Object.keys(r.json),
          keys: conns.map((c) => Object.keys(c)),
          conns: conns.map(normConn),
          head: omit(r.json, ["server_id", "now", "connections"]),
        };
      }
      return out;
    } finally {
      closeAll(cs);
    }
  });
  // deno-lint-ignore no-explicit-any
  const open = (mine as any)["/connz?auth=1&subs=1"];
  assertEquals(open.top, [
    "server_id",
    "now",
    "num_connections",
    "total",
    "offset",
    "limit",
    "connections",
  ]);
  assertEquals(open.conns[1], {
    cid: 2,
    kind: "Client",
    type: "nats",
    ip: "127.0.0.1",
    pending_bytes: 0,
    in_msgs: 1,
    out_msgs: 2,
    in_bytes: 2,
    out_bytes: 6,
    subscriptions: 1,
    name: "c2",
    authorized_user: "bob",
    subscriptions_list: ["b"],
  });
  // deno-lint-ignore no-explicit-any
  const closed = (mine as any)["/connz?state=closed&subs=1&auth=1"];
  assertEquals(closed.conns.map((c: Record<string, unknown>) => [c.cid, c.reason]), [
    [4, "Protocol Violation"],
    [5, "Client Closed"],
  ]);
  assertEquals(closed.conns[0].subscriptions_list, ["gone"]);
  if (theirs) assertEquals(mine, theirs);
});

/** `/connz` queries after the scenario: expected cids (ours), or a 400 text. */
const CONNZ_CASES: { q: string; cids?: number[]; head?: Record<string, unknown>; err?: string }[] =
  [
    { q: "", cids: [1, 2, 3], head: { num_connections: 3, total: 3, offset: 0, limit: 1024 } },
    { q: "sort=cid", cids: [1, 2, 3] },
    { q: "sort=start", cids: [1, 2, 3] },
    { q: "sort=subs", cids: [1, 3, 2] },
    { q: "sort=msgs_from", cids: [3, 1, 2] },
    { q: "sort=bytes_from", cids: [3, 1, 2] },
    { q: "sort=msgs_to", cids: [3, 1, 2] },
    { q: "sort=bytes_to", cids: [3, 1, 2] },
    { q: "sort=last", cids: [1, 2, 3] },
    { q: "sort=idle", cids: [1, 2, 3] },
    { q: "sort=uptime", cids: [3, 2, 1] },
    { q: "limit=2", cids: [1, 2], head: { num_connections: 2, total: 3, offset: 0, limit: 2 } },
    {
      q: "offset=1&limit=1",
      cids: [2],
      head: { num_connections: 1, total: 3, offset: 1, limit: 1 },
    },
    { q: "offset=5", cids: [], head: { num_connections: 0, total: 3, offset: 5, limit: 1024 } },
    { q: "limit=0&offset=-3", cids: [1, 2, 3], head: { offset: 0, limit: 1024 } },
    { q: "cid=2", cids: [2], head: { num_connections: 1, total: 3, offset: 0, limit: 1 } },
    { q: "cid=9", cids: [], head: { num_connections: 0, total: 3, limit: 1 } },
    { q: "state=closed", cids: [4, 5], head: { total: 2 } },
    { q: "state=closed&sort=reason", cids: [5, 4] },
    { q: "state=closed&sort=stop", cids: [5, 4] },
    { q: "state=CLOSED&cid=4", cids: [4] },
    { q: "state=all", cids: [1, 2, 3, 4, 5], head: { total: 5 } },
    { q: "state=any&cid=5", cids: [5] },
    { q: "state=all&cid=2", cids: [], head: { total: 5 } }, // the reference looks among closed only
    { q: "user=bob", cids: [2], head: { num_connections: 1, total: 3 } },
    { q: "acc=$G", cids: [1, 2, 3] },
    { q: "acc=$G&state=closed", cids: [], head: { total: 0 } },
    { q: "acc=NOPE", head: { server_id: "", num_connections: 0, total: 0, connections: null } },
    { q: "sort=foo", err: "invalid sorting option: foo" },
    { q: "sort=stop", err: "sort by stop only valid on closed connections" },
    { q: "sort=reason&state=all", err: "sort by reason only valid on closed connections" },
    {
      q: "auth=yes",
      err: `Error decoding boolean for 'auth': strconv.ParseBool: parsing "yes": invalid syntax`,
    },
    {
      q: "subs=x",
      err: `Error decoding boolean for 'subs': strconv.ParseBool: parsing "x": invalid syntax`,
    },
    {
      q: "offset=a",
      err: `Error decoding int for 'offset': strconv.Atoi: parsing "a": invalid syntax`,
    },
    {
      q: "limit=1.5",
      err: `Error decoding int for 'limit': strconv.Atoi: parsing "1.5": invalid syntax`,
    },
    {
      q: "cid=-1",
      err: `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "-1": invalid syntax`,
    },
    {
      q: "cid=18446744073709551616",
      err:
        `Error decoding uint64 for 'cid': strconv.ParseUint: parsing "18446744073709551616": value out of range`,
    },
    { q: "state=foo", err: "Error decoding state for foo" },
  ];

Deno.test("connz: sort, paging, cid, state, filters and 400 texts (table) as nats-server", async () => {
  const { mine, theirs } = await both(BASE, async (t) => {
    const cs = await scenario(t);
    try {
      const out: unknown[] = [];
      const before = (await get(t.mon, "/varz")).json.http_req_stats;
      for (const c of CONNZ_CASES) {
        const r = await get(t.mon, `/connz?${c.q}`);
        if (r.status !== 200) {
          out.push({ q: c.q, status: r.status, type: r.type, text: r.text });
          continue;
        }
        const cids = r.json.connections?.map((x: { cid: number }) => x.cid) ?? null;
        const head: Record<string, unknown> = {
          ...omit(r.json, ["now", "connections"]),
          connections: r.json.connections,
        };
        if (head.server_id !== "") head.server_id = "<id>";
        if (Array.isArray(head.connections)) delete head.connections;
        out.push({ q: c.q, status: 200, cids, head });
      }
      // /connz counts every request that got past parameter decoding.
      const after = (await get(t.mon, "/varz")).json.http_req_stats;
      out.push({
        connz: after["/connz"] - before["/connz"],
        varz: after["/varz"] - before["/varz"],
      });
      return out;
    } finally {
      closeAll(cs);
    }
  });
  CONNZ_CASES.forEach((c, i) => {
    // deno-lint-ignore no-explicit-any
    const got = mine[i] as any;
    if (c.err !== undefined) {
      assertEquals(
        [got.status, got.type, got.text],
        [400, "text/plain; charset=utf-8", c.err],
        c.q,
      );
      return;
    }
    assertEquals(got.status, 200, c.q);
    if (c.cids) assertEquals(got.cids, c.cids, c.q);
    for (const [k, v] of Object.entries(c.head ?? {})) assertEquals(got.head[k], v, `${c.q}: ${k}`);
  });
  const decodeErrors = CONNZ_CASES.filter((c) => c.err?.startsWith("Error decoding")).length;
  assertEquals(mine[CONNZ_CASES.length], { connz: CONNZ_CASES.length - decodeErrors, varz: 1 });
  if (theirs) assertEquals(mine, theirs);
});

Deno.test("connz: websocket clients are type websocket; a trusted X-Forwarded-For shows as ip", async () => {
  const ws =
    `websocket { listen: "127.0.0.1:-1", no_tls: true, trusted_proxies: ["127.0.0.0/8"] }\n`;
  const s = await startOurs(BASE + ws);
  try {
    const c = await RawWs.open({ port: s.wsPort! }, {
      headers: { "X-Forwarded-For": "203.0.113.9" },
    });
    try {
      await c.info();
      await c.send(`CONNECT {"name":"wsc"}\r\nPING\r\n`);
      await c.waitText("PONG\r\n");
      const conn = (await get(s.monitorPort!, "/connz")).json.connections[0];
      assertEquals([conn.type, conn.kind, conn.ip, conn.name], [
        "websocket",
        "Client",
        "203.0.113.9",
        "wsc",
      ]);
      assert(conn.port > 0);
    } finally {
      c.close();
    }
  } finally {
    await s.stop();
  }
  if (!haveNatsServer()) return;
  // The reference (which has no trusted_proxies) shows the socket peer for the same client.
  const r = await startReference(BASE + `websocket { listen: "127.0.0.1:-1", no_tls: true }\n`);
  try {
    const c = await RawWs.open({ port: r.wsPort! }, {
      headers: { "X-Forwarded-For": "203.0.113.9" },
    });
    try {
      await c.info();
      await c.send(`CONNECT {"name":"wsc"}\r\nPING\r\n`);
      await c.waitText("PONG\r\n");
      const conn = (await get(r.monitorPort!, "/connz")).json.connections[0];
      assertEquals([conn.type, conn.kind, conn.ip, conn.name], [
        "websocket",
        "Client",
        "127.0.0.1",
        "wsc",
      ]);
    } finally {
      c.close();
    }
  } finally {
    await r.stop();
  }
});

Deno.test("connz: accounts, authorized users and max_connections refusals as nats-server", async () => {
  const config = BASE + `max_connections: 3
accounts {
  A { users: [ { user: a, password: pa } ] }
  B { users: [ { user: b, password: pb } ] }
}
`;
  const queries = [
    "/connz?auth=1&subs=detail",
    "/connz?acc=A&auth=true",
    "/connz?acc=B&state=all&auth=1",
    "/connz?state=closed&auth=1&subs=detail",
    "/accountz",
    "/accountz?acc=A",
  ];
  const { mine, theirs } = await both(config, async (t) => {
    const cs: RawClient[] = [];
    try {
      for (const [u, p] of [["a", "pa"], ["b", "pb"], ["b", "pb"]]) {
        const c = await RawClient.connect(t.port);
        cs.push(c);
        await c.info();
        await send(c, `CONNECT {"user":"${u}","pass":"${p}"}\r\nSUB s.${u} 1\r\n`);
      }
      // The 4th connection is refused (and recorded as closed); then a B user leaves.
      const extra = await RawClient.connect(t.port);
      await extra.readUntil(() => false);
      extra.close();
      cs.pop()!.close();
      await waitFor("2 closed connections", async () => {
        const r = await get(t.mon, "/connz?state=closed");
        return r.json.total === 2 ? true : undefined;
      });
      const out: Record<string, unknown> = {};
      for (const q of queries) {
        const r = await get(t.mon, q);
        if (q === "/accountz") {
          // The reference lists them in its map's (random) order.
          out[q] = { keys: Object.keys(r.json), accounts: r.json.accounts.sort() };
          continue;
        }
        if (q.startsWith("/accountz")) {
          out[q] = scrub(r.text);
          continue;
        }
        out[q] = {
          head: omit(r.json, ["server_id", "now", "connections"]),
          conns: r.json.connections.map(normConn),
        };
      }
      return out;
    } finally {
      closeAll(cs);
    }
  });
  // deno-lint-ignore no-explicit-any
  const m = mine as any;
  assertEquals(
    m["/connz?auth=1&subs=detail"].conns.map((c: Record<string, unknown>) => [
      c.cid,
      c.authorized_user,
      c.account,
    ]),
    [[1, "a", "A"], [2, "b", "B"]],
  );
  assertEquals(
    m["/connz?state=closed&auth=1&subs=detail"].conns.map((c: Record<string, unknown>) => [
      c.cid,
      c.reason,
    ]),
    [[3, "Client Closed"], [4, "Maximum Connections Exceeded"]],
  );
  if (theirs) assertEquals(mine, theirs);
});

// ---- /subsz ----------------------------------------------------------------------------------

/**
 * Figures of the match cache: ours drops exactly the entries a change affects and matches on
 * every publish; the reference matches through a per-connection cache first and empties the
 * whole account cache when a connection with subscriptions leaves. Compared by type only.
 */
const CACHE_FIGURES = ["num_cache", "num_matches", "cache_hit_rate", "max_fanout", "avg_fanout"];

Deno.test("subsz: statistics, listing, test filter, paging and the alias as nats-server", async () => {
  const queries = [
    "/subsz",
    "/subscriptionsz",
    "/subsz?subs=1",
    "/subsz?subs=1&test=b",
    "/subsz?subs=1&test=nothing",
    "/subsz?subs=1&offset=1&limit=2",
    "/subsz?subs=1&offset=100",
    "/subsz?acc=NOPE",
    "/subsz?test=x.*",
    "/subsz?subs=1&limit=x",
  ];
  let cacheFigures: Record<string, unknown> = {};
  const { mine, theirs } = await both(BASE, async (t) => {
    const cs = await scenario(t);
    try {
      const out: Record<string, unknown> = {};
      if (t.name === "ours") cacheFigures = (await get(t.mon, "/subsz")).json;
      for (const q of queries) {
        const r = await get(t.mon, q);
        if (r.status !== 200) {
          out[q] = [r.status, r.text];
          continue;
        }
        const v = omit(r.json, ["server_id", "now"]);
        for (const k of CACHE_FIGURES) v[k] = kind(v[k]);
        if (Array.isArray(v.subscriptions_list) && q.includes("offset")) {
          // Which ones a page holds depends on the listing order (trie walk vs connections).
          v.subscriptions_list = v.subscriptions_list.length;
        } else if (Array.isArray(v.subscriptions_list)) {
          v.subscriptions_list = (v.subscriptions_list as Record<string, unknown>[])
            .map((s) => JSON.stringify(s)).sort();
        }
        out[q] = { keys: Object.keys(r.json), v };
      }
      return out;
    } finally {
      closeAll(cs);
    }
  });
  // deno-lint-ignore no-explicit-any
  const m = mine as any;
  // Four cached subjects (b: 2 subs, x1, c, d: 1 each), seven publishes, three repeats.
  assertEquals(cacheFigures, {
    num_subscriptions: 6,
    num_cache: 4,
    num_inserts: 7,
    num_removes: 1,
    num_matches: 7,
    cache_hit_rate: 3 / 7,
    max_fanout: 2,
    avg_fanout: 5 / 4,
  });
  assertEquals(m["/subscriptionsz"], m["/subsz"]);
  assertEquals(m["/subsz?subs=1"].v.total, 6);
  assertEquals(m["/subsz?subs=1&test=b"].v.subscriptions_list.length, 2);
  assertEquals(m["/subsz?subs=1&test=nothing"].keys, Object.keys(cacheFigures));
  assertEquals(m["/subsz?subs=1&offset=1&limit=2"].v.total, 2);
  assertEquals(m["/subsz?test=x.*"], [
    400,
    "invalid test subject, must be valid publish subject: x.*",
  ]);
  if (theirs) assertEquals(mine, theirs);
});

// ---- the other endpoints ---------------------------------------------------------------------

/** The raw text with server id and clock values replaced: proves the indentation too. */
function scrub(text: string): string {
  return text
    .replace(/"server_id": "[A-Z0-9]+"/g, '"server_id": "<id>"')
    .replace(/"(now|update_time)": "[^"]+"/g, '"$1": "<time>"');
}

Deno.test("healthz, routez, gatewayz, leafz, jsz, accountz: same text as nats-server", async () => {
  const paths = [
    "/healthz",
    "/healthz?js-enabled-only=true",
    "/healthz?js-server-only=x",
    "/routez",
    "/routez?subs=detail",
    "/routez?subs=2",
    "/gatewayz",
    "/gatewayz?accs=no",
    "/leafz",
    "/leafz?subs=1",
    "/jsz",
    "/jsz?accounts=true&limit=3",
    "/jsz?leader-only=true",
    "/jsz?consumers=maybe",
    "/accountz",
    "/accountz?acc=$G",
    "/accountz?acc=NOPE",
    "/healthz?callback=cb",
    "/routez?callback=my.fn",
  ];
  const { mine, theirs } = await both(BASE, async (t) => {
    const c = await RawClient.connect(t.port);
    try {
      await c.info();
      await send(c, "CONNECT {}\r\nSUB a 1\r\n");
      const out: unknown[] = [];
      for (const p of paths) {
        const r = await get(t.mon, p);
        out.push([p, r.status, r.type, scrub(r.text)]);
      }
      return out;
    } finally {
      c.close();
    }
  });
  const byPath = new Map((mine as [string, number, string, string][]).map((x) => [x[0], x]));
  assertEquals(byPath.get("/healthz"), ["/healthz", 200, "application/json", `{"status":"ok"}`]);
  assertEquals(byPath.get("/healthz?callback=cb")!.slice(1), [
    200,
    "application/javascript",
    `cb({"status":"ok"})`,
  ]);
  assertEquals(byPath.get("/jsz?leader-only=true")!.slice(1), [
    400,
    "text/plain; charset=utf-8",
    "filtered response: not leader",
  ]);
  assertEquals(byPath.get("/accountz?acc=NOPE")![3], "Account NOPE does not exist");
  assertEquals(JSON.parse(byPath.get("/accountz?acc=$G")![3]).account_detail.client_connections, 1);
  if (theirs) assertEquals(mine, theirs);
});

Deno.test("root page, 404s, redirects and JSONP under http_base_path as nats-server", async () => {
  const paths = [
    "/",
    "/mon",
    "/mon/",
    "/mon/varz",
    "/mon/varz/",
    "/varz",
    "/mon/nope",
    "/mon//varz",
  ];
  const { mine, theirs } = await both(BASE + `http_base_path: "mon/"\n`, async (t) => {
    const out: unknown[] = [];
    for (const p of paths) {
      const r = await get(t.mon, p);
      out.push([p, r.status, r.type, r.status === 404 ? r.text : undefined]);
    }
    const root = await get(t.mon, "/mon");
    const links = [...root.text.matchAll(/<a href=\.([^ >]+)/g)].map((m) => m[1]);
    const jsonp = await get(t.mon, "/mon/varz?callback=cb");
    const stats = (await get(t.mon, "/mon/varz")).json.http_req_stats;
    return { out, links, jsonp: [jsonp.type, jsonp.text.slice(0, 4), jsonp.text.slice(-2)], stats };
  });
  assertEquals(mine.out, [
    ["/", 404, "text/plain; charset=utf-8", "404 page not found\n"],
    ["/mon", 200, "text/html; charset=utf-8", undefined],
    ["/mon/", 404, "text/plain; charset=utf-8", "404 page not found\n"],
    ["/mon/varz", 200, "application/json", undefined],
    ["/mon/varz/", 404, "text/plain; charset=utf-8", "404 page not found\n"],
    ["/varz", 404, "text/plain; charset=utf-8", "404 page not found\n"],
    ["/mon/nope", 404, "text/plain; charset=utf-8", "404 page not found\n"],
    ["/mon//varz", 301, "text/html; charset=utf-8", undefined],
  ]);
  assertEquals(mine.jsonp, ["application/javascript", "cb({", "})"]);
  assertEquals(mine.stats, { "/": 2, "/varz": 3 });
  if (!theirs) return;
  assertEquals(mine.out, theirs.out);
  assertEquals(mine.jsonp, theirs.jsonp);
  assertEquals(mine.stats, theirs.stats);
  // Our page links every endpoint we serve, as the reference links them (minus /accstatz).
  assertEquals(mine.links, theirs.links.filter((l) => !l.endsWith("/accstatz")));
});

// ---- startup: log line, ports, -m, refusals --------------------------------------------------

interface Proc {
  code: number;
  stderr: string;
}

async function runMain(args: string[], whileUp?: (log: string) => Promise<void>): Promise<Proc> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-write", "--allow-env", MAIN, ...args],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  return await drive(child, whileUp);
}

async function runRef(args: string[], whileUp?: (log: string) => Promise<void>): Promise<Proc> {
  const child = new Deno.Command("nats-server", { args, stdout: "null", stderr: "piped" }).spawn();
  return await drive(child, whileUp);
}

/** Reads stderr until ready (then runs `whileUp` and sends SIGINT) or exit. Bounded. */
async function drive(
  child: Deno.ChildProcess,
  whileUp?: (log: string) => Promise<void>,
): Promise<Proc> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      log += value;
      if (log.includes("Server is ready")) {
        try {
          await whileUp?.(log);
        } finally {
          child.kill("SIGINT");
        }
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
          log += r.value;
        }
        break;
      }
    }
    const status = await child.status;
    return { code: status.code, stderr: log };
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("-m -1: log line, ports file monitoring entry, varz http_port, as nats-server", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsmon" });
  try {
    const runners: [string, typeof runMain][] = [["ours", runMain]];
    if (haveNatsServer()) runners.push(["nats-server", runRef]);
    for (const [name, run] of runners) {
      const pdir = `${dir}/${name}`;
      await Deno.mkdir(pdir);
      let seen: unknown;
      const args = ["-a", "127.0.0.1", "-p", "-1", "-m", "-1", "--ports_file_dir", pdir];
      const r = await run(args, async (log) => {
        const m = /\[INF\] Starting http monitor on 127\.0\.0\.1:(\d+)\n/.exec(log);
        assert(m, `${name}: ${log}`);
        const port = Number(m[1]);
        // Ours writes the ports file before "Server is ready", the reference right after.
        const ports = await waitFor("the ports file", async () => {
          for await (const e of Deno.readDir(pdir)) {
            try {
              return JSON.parse(await Deno.readTextFile(`${pdir}/${e.name}`));
            } catch { /* being written */ }
          }
        });
        const v = (await get(port, "/varz")).json;
        seen = { monitoring: ports?.monitoring, httpPort: v.http_port, host: v.http_host, port };
      });
      assertEquals(r.code, 0, `${name}: ${r.stderr}`);
      // deno-lint-ignore no-explicit-any
      const s = seen as any;
      assertEquals(s.monitoring, [`http://127.0.0.1:${s.port}`], name);
      assertEquals([s.httpPort, s.host], [-1, "127.0.0.1"], name);
      // The monitor starts before the client listener, as in the reference.
      assert(r.stderr.indexOf("Starting http monitor") < r.stderr.indexOf("Listening for client"));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("monitor port in use or invalid: refuses to start with the reference's text", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = blocker.addr.port;
    const cases: [string[], string][] = [
      [
        ["-a", "127.0.0.1", "-p", "-1", "-m", String(port)],
        `Can't start monitoring: can't listen to the monitor port: listen tcp 127.0.0.1:${port}: bind: address already in use`,
      ],
      [
        ["-a", "127.0.0.1", "-p", "-1", "-m", "70000"],
        "Can't start monitoring: can't listen to the monitor port: listen tcp: address 70000: invalid port",
      ],
    ];
    for (const [args, why] of cases) {
      const o = await runMain(args);
      assertEquals(o.code, 1, o.stderr);
      assert(o.stderr.endsWith(`nats-server: ${why}\n`), o.stderr);
      if (haveNatsServer()) {
        const r = await runRef(args);
        assertEquals(r.code, 1, r.stderr);
        assert(r.stderr.includes(`[FTL] ${why}\n`), r.stderr);
      }
    }
  } finally {
    blocker.close();
  }
});

Deno.test("embedding: ports.monitor is the bound port; no monitoring when not configured", async () => {
  const on = await startOurs(`http: "127.0.0.1:-1"`);
  try {
    assert(on.handle.ports.monitor! > 0);
    const r = await get(on.handle.ports.monitor!, "/healthz");
    assertEquals(r.text, `{"status":"ok"}`);
  } finally {
    await on.stop();
  }
  const off = await startOurs("");
  try {
    assertEquals(off.handle.ports.monitor, undefined);
  } finally {
    await off.stop();
  }
});
