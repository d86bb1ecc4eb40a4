/**
 * The `websocket {}` block end to end: real ws clients (@nats-io/nats-core `wsconnect`) talking
 * to TCP clients (npm:nats), hand-written HTTP upgrades and frames, startup refusals of
 * `main.ts`, wss with a certificate made by openssl at test time. Where `nats-server` is on PATH
 * the same cases run against it in the same test, so the expectations are the reference's;
 * `OURS_DEVIATES` names the documented native-engine differences that are skipped for ours.
 */
import { SERVER_SHUTDOWN_CLOSE } from "../../lib/core/close_reasons.ts";
import { wsconnect } from "@nats-io/nats-core";
import { connect, headers as natsHeaders, type NatsConnection } from "nats";
import type { Authenticator } from "../../lib/auth/types.ts";
import { ClientConnection } from "../../lib/protocol/client.ts";
import type { Logger } from "../../lib/protocol/context.ts";
import {
  chooseWsEngine,
  ENGINES,
  startWebsocket,
  websocketConnectUrls,
} from "../../lib/server/websocket.ts";
import { startNativeWsListener } from "../../lib/transport/ws/native_engine.ts";
import { defaultOptions, type ServerOptions } from "../../lib/config/options.ts";
import type { StartWsListener, WsListenerOptions } from "../../lib/transport/ws/engine.ts";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { fakeContext } from "../helpers/fake_context.ts";
import { RawClient } from "../helpers/raw.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { rawHttp, RawWs, upgradeRequest } from "../helpers/ws_raw.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const WS_PLAIN = `websocket { listen: "127.0.0.1:-1", no_tls: true }`;

/**
 * Native-engine deviations from the reference (see native_engine.ts / README), by case name.
 * These cases are checked against nats-server only.
 */
const OURS_DEVIATES = new Set([
  // Go's HTTP server answers `400 Bad Request: missing required Host header` itself.
  "HTTP/1.1 without Host: body",
  // Deno echoes an empty close frame (88 00); the reference sends status 1005 on the wire.
  "empty close frame echo",
]);

/** A server under test: ours or the reference. */
interface Target {
  name: "ours" | "nats-server";
  port: number;
  wsPort: number;
  stop(): Promise<void>;
}

async function startTarget(name: Target["name"], config: string): Promise<Target> {
  if (name === "ours") {
    const s = await startOurs(config);
    return { name, port: s.port, wsPort: s.wsPort!, stop: () => s.stop() };
  }
  const r = await startReference(config);
  return { name, port: r.port, wsPort: r.wsPort!, stop: () => r.stop() };
}

/** Runs `fn` against ours and, when installed, nats-server with the same config. */
async function forBoth(config: string, fn: (t: Target) => Promise<void>): Promise<void> {
  const names: Target["name"][] = ["ours"];
  if (haveNatsServer()) names.push("nats-server");
  for (const name of names) {
    const t = await startTarget(name, config);
    try {
      await fn(t);
    } catch (err) {
      throw new Error(`[${name}] ${err instanceof Error ? err.stack : err}`);
    } finally {
      await t.stop();
    }
  }
}

/** Waits (bounded) for a promise, failing with `what`. */
async function within<T>(p: Promise<T>, what: string, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<T>((_, rej) => timer = setTimeout(() => rej(new Error(`timeout: ${what}`)), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------------------------------------
// Real clients

Deno.test("ws ↔ tcp: wsconnect and npm:nats exchange messages, headers and requests both ways", async () => {
  const s = await startOurs(WS_PLAIN);
  const ws = await wsconnect({ servers: `ws://127.0.0.1:${s.wsPort}` });
  const tcp: NatsConnection = await connect({ servers: `127.0.0.1:${s.port}` });
  try {
    // ws → tcp, with headers
    const tcpSub = tcp.subscribe("to.tcp", { max: 2 });
    await tcp.flush();
    const h = (await import("@nats-io/nats-core")).headers();
    h.set("X-From", "ws");
    ws.publish("to.tcp", "one", { headers: h });
    ws.publish("to.tcp", "two");
    const got: string[] = [];
    await within(
      (async () => {
        for await (const m of tcpSub) got.push(`${m.string()}:${m.headers?.get("X-From") ?? "-"}`);
      })(),
      "tcp subscriber",
    );
    assertEquals(got, ["one:ws", "two:-"]);

    // tcp → ws, with headers
    const wsSub = ws.subscribe("to.ws", { max: 2 });
    await ws.flush();
    const th = natsHeaders();
    th.set("X-From", "tcp");
    tcp.publish("to.ws", enc.encode("three"), { headers: th });
    tcp.publish("to.ws", enc.encode("x".repeat(100_000)));
    const got2: string[] = [];
    await within(
      (async () => {
        for await (const m of wsSub) {
          got2.push(`${m.data.length}:${m.headers?.get("X-From") ?? "-"}`);
        }
      })(),
      "ws subscriber",
    );
    assertEquals(got2, ["5:tcp", "100000:-"]);

    // request/reply: ws asks, tcp answers (with a header), and the other way round.
    tcp.subscribe("svc.tcp", {
      callback: (_e, m) => {
        const rh = natsHeaders();
        rh.set("X-Served-By", "tcp");
        m.respond(enc.encode(`tcp:${dec.decode(m.data)}`), { headers: rh });
      },
    });
    ws.subscribe("svc.ws", {
      callback: (_e, m) => {
        m.respond(`ws:${m.string()}`);
      },
    });
    await tcp.flush();
    await ws.flush();
    const r1 = await ws.request("svc.tcp", "ping", { timeout: 5000 });
    assertEquals(r1.string(), "tcp:ping");
    assertEquals(r1.headers?.get("X-Served-By"), "tcp");
    const r2 = await tcp.request("svc.ws", enc.encode("pong"), { timeout: 5000 });
    assertEquals(dec.decode(r2.data), "ws:pong");
  } finally {
    await ws.close();
    await tcp.close();
    await s.stop();
  }
});

Deno.test("ws: server shutdown closes ws clients with 1001 'Server Shutdown'", async () => {
  const s = await startOurs(WS_PLAIN);
  const raw = await RawWs.open({ port: s.wsPort! });
  const nc = await wsconnect({ servers: `ws://127.0.0.1:${s.wsPort}`, reconnect: false });
  try {
    await raw.info();
    const closed = nc.closed();
    await s.stop();
    assertEquals(await raw.waitClose(), { code: 1001, reason: "Server Shutdown" });
    await within(closed, "nats-core sees the close");
  } finally {
    raw.close();
  }
});

// ---------------------------------------------------------------------------------------------
// Handshake

const HANDSHAKES: { name: string; req: string; status: number; body?: string }[] = [
  { name: "POST", req: upgradeRequest("/", {}, "POST"), status: 405, body: "Method Not Allowed\n" },
  { name: "PUT", req: upgradeRequest("/", {}, "PUT"), status: 405, body: "Method Not Allowed\n" },
  { name: "no Upgrade", req: upgradeRequest("/", { Upgrade: null }), status: 400 },
  { name: "Upgrade h2c", req: upgradeRequest("/", { Upgrade: "h2c" }), status: 400 },
  { name: "no Connection", req: upgradeRequest("/", { Connection: null }), status: 400 },
  {
    name: "Connection keep-alive",
    req: upgradeRequest("/", { Connection: "keep-alive" }),
    status: 400,
  },
  { name: "no key", req: upgradeRequest("/", { "Sec-WebSocket-Key": null }), status: 400 },
  { name: "no version", req: upgradeRequest("/", { "Sec-WebSocket-Version": null }), status: 400 },
  { name: "version 8", req: upgradeRequest("/", { "Sec-WebSocket-Version": "8" }), status: 400 },
  {
    name: "Connection keep-alive, Upgrade",
    req: upgradeRequest("/", { Connection: "keep-alive, Upgrade" }),
    status: 101,
  },
  { name: "Upgrade WebSocket", req: upgradeRequest("/", { Upgrade: "WebSocket" }), status: 101 },
  {
    name: "version list",
    req: upgradeRequest("/", { "Sec-WebSocket-Version": "8, 13" }),
    status: 101,
  },
  { name: "other path", req: upgradeRequest("/anything/here"), status: 101 },
  {
    name: "subprotocol ignored",
    req: upgradeRequest("/", { "Sec-WebSocket-Protocol": "nats" }),
    status: 101,
  },
];

Deno.test("ws handshake: statuses, bodies and headers as nats-server (raw HTTP)", () =>
  forBoth(WS_PLAIN, async (t) => {
    for (const c of HANDSHAKES) {
      const res = await rawHttp({ port: t.wsPort }, c.req);
      assertEquals(res.status, c.status, c.name);
      if (c.status === 101) {
        assertEquals(res.headers.get("sec-websocket-protocol"), null, c.name);
        continue;
      }
      assertEquals(res.body, c.body ?? "Bad Request\n", c.name);
      assertEquals(res.headers.get("sec-websocket-version"), "13", c.name);
      assertEquals(res.headers.get("content-type"), "text/plain; charset=utf-8", c.name);
      assertEquals(res.headers.get("x-content-type-options"), "nosniff", c.name);
    }
    // HTTP/1.1 without Host: both refuse with 400; Go's own body differs from the upgrade's.
    const noHost = await rawHttp(
      { port: t.wsPort },
      upgradeRequest("/", { Host: null }),
    );
    assertEquals(noHost.status, 400);
    if (t.name === "nats-server" || !OURS_DEVIATES.has("HTTP/1.1 without Host: body")) {
      assertEquals(noHost.body, "400 Bad Request: missing required Host header");
    }
  }));

/** [case, Host header, Origin headers, expected status] */
type OriginCase = [string, string, Record<string, string>, number];

const SAME_ORIGIN_CASES: OriginCase[] = [
  ["no origin", "example.com", {}, 101],
  ["same host, default port", "example.com", { Origin: "http://example.com" }, 101],
  ["origin :80 vs host default", "example.com", { Origin: "http://example.com:80" }, 101],
  ["host :80 vs origin default", "example.com:80", { Origin: "http://example.com" }, 101],
  ["https origin = 443 ≠ 80", "example.com", { Origin: "https://example.com" }, 403],
  ["https origin, host :443", "example.com:443", { Origin: "https://example.com" }, 101],
  ["other host", "example.com", { Origin: "http://other.com" }, 403],
  ["other port", "example.com:8080", { Origin: "http://example.com:8081" }, 403],
  ["case-insensitive host", "Example.COM", { Origin: "http://EXAMPLE.com" }, 101],
  ["Origin null", "example.com", { Origin: "null" }, 403],
  ["Sec-WebSocket-Origin", "example.com", { "Sec-WebSocket-Origin": "http://other.com" }, 403],
];

const ALLOWED_CASES: OriginCase[] = [
  ["no origin", "x", {}, 101],
  ["listed", "x", { Origin: "http://host1.com" }, 101],
  ["listed with :80", "x", { Origin: "http://host1.com:80" }, 101],
  ["scheme differs", "x", { Origin: "https://host1.com" }, 403],
  ["https with port", "x", { Origin: "https://host2.com:8443" }, 101],
  ["https default 443 ≠ 8443", "x", { Origin: "https://host2.com" }, 403],
  ["http on https entry", "x", { Origin: "http://host2.com:8443" }, 403],
  ["path in config ignored", "x", { Origin: "http://host3.com" }, 101],
  ["upper-case host", "x", { Origin: "http://HOST1.com" }, 101],
  ["https default port entry", "x", { Origin: "https://host4.com:443" }, 101],
  ["not listed", "x", { Origin: "http://host5.com" }, 403],
  ["Sec-WebSocket-Origin listed", "x", { "Sec-WebSocket-Origin": "http://host1.com" }, 101],
  ["garbage", "x", { Origin: "not a url" }, 403],
];

async function originTable(t: Target, cases: OriginCase[]): Promise<void> {
  for (const [name, host, extra, status] of cases) {
    const res = await rawHttp({ port: t.wsPort }, upgradeRequest("/", { Host: host, ...extra }));
    assertEquals(res.status, status, name);
    if (status === 403) assertEquals(res.body, "Forbidden\n", name);
  }
}

Deno.test("ws origin: same_origin table incl. default ports 80/443, as nats-server", () =>
  forBoth(
    `websocket { listen: "127.0.0.1:-1", no_tls: true, same_origin: true }`,
    (t) => originTable(t, SAME_ORIGIN_CASES),
  ));

Deno.test("ws origin: allowed_origins table (scheme, port, path ignored), as nats-server", () =>
  forBoth(
    `websocket {
      listen: "127.0.0.1:-1", no_tls: true
      allowed_origins: ["http://host1.com", "https://host2.com:8443", "http://host3.com/some/path", "https://host4.com"]
    }`,
    (t) => originTable(t, ALLOWED_CASES),
  ));

Deno.test("ws: INFO frame for ws clients (no connect_urls), /leafnode closed after 101", () =>
  forBoth(WS_PLAIN, async (t) => {
    const ws = await RawWs.open({ port: t.wsPort });
    try {
      await ws.waitText("\r\n");
      assertEquals(ws.frames[0].opcode, 2, "INFO is a binary frame");
      assertMatch(dec.decode(ws.frames[0].payload), /^INFO \{.*\} \r\n$/);
      const info = await ws.info();
      assertEquals(info.connect_urls, undefined);
      assertEquals(info.ws_connect_urls, undefined);
      assertEquals(info.client_ip, "127.0.0.1");
      assertEquals(info.port, t.port, "INFO port is the client port");
      await ws.send("CONNECT {}\r\nPING\r\n");
      await ws.waitText("PONG\r\n");
    } finally {
      ws.close();
    }
    const { res, ws: leaf } = await RawWs.connect({ port: t.wsPort }, { path: "/leafnode" });
    assertEquals(res.status, 101);
    assert(leaf);
    try {
      await leaf.readUntil((w) => w.eof || w.closeFrame !== undefined);
      assertEquals(leaf.text, "", "no INFO on /leafnode without leafnodes");
    } finally {
      leaf.close();
    }
  }));

Deno.test("ws frames: ping → pong, close echo, browser frames ≤ 4096, as nats-server", () =>
  forBoth(WS_PLAIN, async (t) => {
    const ws = await RawWs.open({ port: t.wsPort }, { headers: { "User-Agent": "Mozilla/5.0" } });
    try {
      await ws.info();
      await ws.sendRaw(new Uint8Array([0x89, 0x83, 1, 2, 3, 4, 0x61 ^ 1, 0x62 ^ 2, 0x63 ^ 3]));
      await ws.readUntil((w) => w.frames.some((f) => f.opcode === 0xa));
      const pong = ws.frames.find((f) => f.opcode === 0xa)!;
      assertEquals(dec.decode(pong.payload), "abc");
      // A big message to a browser comes in frames of at most 4096 bytes.
      await ws.send("CONNECT {}\r\nSUB big 1\r\nPUB big 10000\r\n" + "y".repeat(10_000) + "\r\n");
      await ws.waitText("y".repeat(10_000) + "\r\n");
      const sizes = ws.frames.filter((f) => f.opcode === 2).map((f) => f.payload.length);
      assert(sizes.every((n) => n <= 4096), `frame sizes ${sizes}`);
      // Close with a status: echoed.
      await ws.sendRaw(new Uint8Array([0x88, 0x85, 0, 0, 0, 0, 0x03, 0xe8, 0x62, 0x79, 0x65]));
      assertEquals(await ws.waitClose(), { code: 1000, reason: "bye" });
    } finally {
      ws.close();
    }
    const e = await RawWs.open({ port: t.wsPort });
    try {
      await e.info();
      await e.sendRaw(new Uint8Array([0x88, 0x80, 0, 0, 0, 0]));
      await e.readUntil((w) => w.closeFrame !== undefined);
      const echo = e.frames.find((f) => f.opcode === 8)!;
      if (t.name === "nats-server") assertEquals([...echo.payload], [0x03, 0xed]);
      else if (OURS_DEVIATES.has("empty close frame echo")) assertEquals(echo.payload.length, 0);
    } finally {
      e.close();
    }
  }));

// ---------------------------------------------------------------------------------------------
// Close codes after -ERR

interface CloseCase {
  name: string;
  config: string;
  send: string;
  err: string;
  code: number;
  reason: string;
}

const CLOSE_CASES: CloseCase[] = [
  {
    name: "parse error",
    config: WS_PLAIN,
    send: `CONNECT {"verbose":false}\r\nFOO BAR\r\n`,
    err: "-ERR 'Unknown Protocol Operation'\r\n",
    code: 1002,
    reason: "Protocol Violation",
  },
  {
    name: "max payload",
    config: `max_payload: 100\n${WS_PLAIN}`,
    send: `CONNECT {"verbose":false}\r\nPUB foo 1000\r\n`,
    err: "-ERR 'Maximum Payload Violation'\r\n",
    code: 1009,
    reason: "Maximum Message Payload Exceeded",
  },
  {
    name: "bad password",
    config: `authorization { user: a, password: b }\n${WS_PLAIN}`,
    send: `CONNECT {"user":"a","pass":"wrong"}\r\n`,
    err: "-ERR 'Authorization Violation'\r\n",
    code: 1008,
    reason: "Authentication Failure",
  },
  {
    name: "auth timeout",
    config: `authorization { user: a, password: b, timeout: 0.5 }\n${WS_PLAIN}`,
    send: "",
    err: "-ERR 'Authentication Timeout'\r\n",
    code: 1008,
    reason: "Authentication Timeout",
  },
];

for (const c of CLOSE_CASES) {
  Deno.test(`ws close: ${c.name} → -ERR then close(${c.code}, "${c.reason}"), as nats-server`, () =>
    forBoth(c.config, async (t) => {
      const ws = await RawWs.open({ port: t.wsPort });
      try {
        await ws.info();
        if (c.send) await ws.send(c.send);
        const close = await ws.waitClose();
        assertEquals(ws.text, c.err);
        assertEquals(close, { code: c.code, reason: c.reason });
        const errFrame = ws.frames.findIndex((f) =>
          f.opcode === 2 && dec.decode(f.payload) === c.err
        );
        const closeFrame = ws.frames.findIndex((f) => f.opcode === 8);
        assert(errFrame >= 0 && errFrame < closeFrame, "the -ERR comes before the close frame");
      } finally {
        ws.close();
      }
    }));
}

// ---------------------------------------------------------------------------------------------
// Auth over ws vs TCP

/** CONNECT + PING over ws; returns what came back before PONG or the close. */
async function wsTry(port: number, connect: Record<string, unknown>, extra = ""): Promise<string> {
  const ws = await RawWs.open({ port });
  try {
    await ws.info();
    await ws.send(`CONNECT ${JSON.stringify({ verbose: false, ...connect })}\r\n${extra}PING\r\n`);
    await ws.readUntil((w) => w.text.includes("PONG\r\n") || w.closeFrame !== undefined);
    const close = ws.closeFrame ? ` close(${ws.closeFrame.code},${ws.closeFrame.reason})` : "";
    return ws.text + close;
  } finally {
    ws.close();
  }
}

async function tcpTry(port: number, connect: Record<string, unknown>, extra = ""): Promise<string> {
  const c = await RawClient.connect(port);
  try {
    await c.info();
    await c.send(`CONNECT ${JSON.stringify({ verbose: false, ...connect })}\r\n${extra}PING\r\n`);
    await c.readUntil((t) => t.includes("PONG\r\n") || t.includes("-ERR"));
    return c.text;
  } finally {
    c.close();
  }
}

const PONG = "PONG\r\n";
const AUTH_VIOLATION_WS = "-ERR 'Authorization Violation'\r\n close(1008,Authentication Failure)";
const AUTH_VIOLATION = "-ERR 'Authorization Violation'\r\n";

Deno.test("ws auth: authorization override user/pass applies to ws only, as nats-server", () =>
  forBoth(
    `authorization { user: tcpuser, password: tcppass }
     websocket { listen: "127.0.0.1:-1", no_tls: true, authorization { user: wsuser, password: wspass } }`,
    async (t) => {
      assertEquals(await wsTry(t.wsPort, { user: "wsuser", pass: "wspass" }), PONG);
      assertEquals(await wsTry(t.wsPort, { user: "tcpuser", pass: "tcppass" }), AUTH_VIOLATION_WS);
      assertEquals(await tcpTry(t.port, { user: "tcpuser", pass: "tcppass" }), PONG);
      assertEquals(await tcpTry(t.port, { user: "wsuser", pass: "wspass" }), AUTH_VIOLATION);
    },
  ));

Deno.test("ws auth: token override, as nats-server", () =>
  forBoth(
    `authorization { token: tcptok }
     websocket { listen: "127.0.0.1:-1", no_tls: true, authorization { token: wstok } }`,
    async (t) => {
      assertEquals(await wsTry(t.wsPort, { auth_token: "wstok" }), PONG);
      assertEquals(await wsTry(t.wsPort, { auth_token: "tcptok" }), AUTH_VIOLATION_WS);
      assertEquals(await tcpTry(t.port, { auth_token: "tcptok" }), PONG);
      assertEquals(await tcpTry(t.port, { auth_token: "wstok" }), AUTH_VIOLATION);
    },
  ));

Deno.test("ws auth: ws no_auth_user binds credential-less ws clients only, as nats-server", () =>
  forBoth(
    `authorization { users: [
       { user: a, password: a }
       { user: b, password: b, permissions: { publish: "b.>" } }
     ] }
     websocket { listen: "127.0.0.1:-1", no_tls: true, no_auth_user: b }`,
    async (t) => {
      const ws = await RawWs.open({ port: t.wsPort });
      try {
        const info = await ws.info();
        assertEquals(info.auth_required, true);
      } finally {
        ws.close();
      }
      // Bound to b: b's permissions apply.
      assertEquals(await wsTry(t.wsPort, {}, "PUB b.ok 0\r\n\r\n"), PONG);
      assertEquals(
        await wsTry(t.wsPort, {}, "PUB x 0\r\n\r\n"),
        `-ERR 'Permissions Violation for Publish to "x"'\r\n${PONG}`,
      );
      assertEquals(await wsTry(t.wsPort, { user: "a", pass: "a" }, "PUB x 0\r\n\r\n"), PONG);
      assertEquals(await tcpTry(t.port, {}), AUTH_VIOLATION);
    },
  ));

Deno.test("ws auth: allowed_connection_types STANDARD refuses ws with close 1008, as nats-server", () =>
  forBoth(
    `authorization { users: [
       { user: std, password: std, allowed_connection_types: ["STANDARD"] }
       { user: wsu, password: wsu, allowed_connection_types: ["websocket"] }
     ] }
     ${WS_PLAIN}`,
    async (t) => {
      assertEquals(await wsTry(t.wsPort, { user: "std", pass: "std" }), AUTH_VIOLATION_WS);
      assertEquals(await tcpTry(t.port, { user: "std", pass: "std" }), PONG);
      assertEquals(await wsTry(t.wsPort, { user: "wsu", pass: "wsu" }), PONG);
      assertEquals(await tcpTry(t.port, { user: "wsu", pass: "wsu" }), AUTH_VIOLATION);
    },
  ));

Deno.test("ws auth: a top-level no_auth_user still shows auth_required to ws clients, as nats-server", () =>
  forBoth(
    `authorization { users: [ { user: a, password: a } ] }
     no_auth_user: a
     ${WS_PLAIN}`,
    async (t) => {
      const ws = await RawWs.open({ port: t.wsPort });
      try {
        assertEquals((await ws.info()).auth_required, true);
      } finally {
        ws.close();
      }
      const c = await RawClient.connect(t.port);
      try {
        assertEquals((await c.info()).auth_required, undefined);
      } finally {
        c.close();
      }
      assertEquals(await wsTry(t.wsPort, {}), PONG);
    },
  ));

// ---------------------------------------------------------------------------------------------
// X-Forwarded-For (beyond the reference: only from trusted_proxies)

function captureLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (l: string) => (m: string) => lines.push(`[${l}] ${m}`);
  return {
    lines,
    info: push("INF"),
    warn: push("WRN"),
    error: push("ERR"),
    debug: push("DBG"),
    trace: push("TRC"),
    debugEnabled: true,
    traceEnabled: false,
  };
}

Deno.test("ws: X-Forwarded-For from a trusted proxy shows the client IP in logs; others ignored", async () => {
  for (const trusted of [true, false]) {
    const log = captureLogger();
    const proxies = trusted ? `trusted_proxies: ["127.0.0.0/8"]` : "";
    const s = await startOurs(
      `authorization { user: a, password: b }
       websocket { listen: "127.0.0.1:-1", no_tls: true, ${proxies} }`,
      { log },
    );
    const ws = await RawWs.open({ port: s.wsPort! }, {
      headers: { "X-Forwarded-For": "203.0.113.9" },
    });
    try {
      const info = await ws.info();
      assertEquals(info.client_ip, "127.0.0.1", "INFO keeps the socket peer");
      await ws.send(`CONNECT {"user":"a","pass":"x"}\r\n`);
      await ws.waitClose();
      const line = log.lines.find((l) => l.includes("Authorization Violation"));
      assert(line, log.lines.join("\n"));
      if (trusted) assertMatch(line, /\] 203\.0\.113\.9\/127\.0\.0\.1:\d+ - wid:\d+ - /);
      else assertMatch(line, /\] 127\.0\.0\.1:\d+ - wid:\d+ - /);
    } finally {
      ws.close();
      await s.stop();
    }
  }
});

Deno.test("ws: a ws subscriber that stops reading becomes a slow consumer (max_pending holds)", async () => {
  const log = captureLogger();
  const s = await startOurs(
    `max_payload: 65536\nmax_pending: 262144\n${WS_PLAIN}`,
    { log },
  );
  const ws = await RawWs.open({ port: s.wsPort! });
  const tcp = await connect({ servers: `127.0.0.1:${s.port}` });
  try {
    await ws.info();
    await ws.send("CONNECT {}\r\nSUB flood 1\r\nPING\r\n");
    await ws.waitText("PONG\r\n");
    // Stop reading; publish far more than max_pending plus the socket buffers.
    const payload = new Uint8Array(60_000);
    const deadline = Date.now() + 20_000;
    while (!log.lines.some((l) => l.includes("Slow Consumer Detected")) && Date.now() < deadline) {
      for (let i = 0; i < 100; i++) tcp.publish("flood", payload);
      await tcp.flush();
    }
    const line = log.lines.find((l) => l.includes("Slow Consumer Detected"));
    assert(line, "no slow consumer detected");
    assertMatch(
      line,
      /127\.0\.0\.1:\d+ - wid:\d+ - Slow Consumer Detected: MaxPending of 262144 Exceeded/,
    );
    // The stuck ws connection is gone from the server; others are served as usual.
    assertEquals(s.handle.stats().slowConsumers, 1);
    assertEquals(s.handle.stats().connections, 1);
    const other = await RawWs.open({ port: s.wsPort! });
    try {
      await other.info();
      await other.send("PING\r\n");
      await other.waitText("PONG\r\n");
    } finally {
      other.close();
    }
  } finally {
    ws.close();
    await tcp.close();
    await s.stop();
  }
});

// ---------------------------------------------------------------------------------------------
// Startup (main.ts as a process, and nats-server with the same file)

interface RunResult {
  code: number;
  stderr: string;
}

/**
 * Runs a server process until it exits or prints `Server is ready`; then runs `onReady` and
 * stops it (code -1 means "became ready").
 */
async function runProcess(
  cmd: string,
  args: string[],
  onReady?: () => Promise<void>,
  timeoutMs = 15_000,
): Promise<RunResult> {
  const child = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let stderr = "";
  const deadline = Date.now() + timeoutMs;
  let ready = false;
  try {
    while (!ready) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${cmd} neither exited nor became ready:\n${stderr}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        reader.read(),
        new Promise<"timeout">((res) => timer = setTimeout(() => res("timeout"), left)),
      ]);
      clearTimeout(timer);
      if (r === "timeout") continue;
      if (r.done) break;
      stderr += r.value;
      ready = stderr.includes("Server is ready");
    }
    if (ready && onReady) await onReady();
  } finally {
    if (ready) {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
    }
    // Drain the rest (bounded: the child exits on SIGTERM or has exited).
    (async () => {
      try {
        while (!(await reader.read()).done) { /* drop */ }
      } catch { /* closed */ }
    })();
  }
  const status = await within(child.status, `${cmd} exit`, 10_000);
  return { code: ready ? -1 : status.code, stderr };
}

async function withConf<T>(
  text: string,
  fn: (file: string, dir: string) => Promise<T>,
): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "wsconf" });
  try {
    const file = `${dir}/ws.conf`;
    await Deno.writeTextFile(file, text);
    return await fn(file, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ours = (file: string, extra: string[] = [], onReady?: () => Promise<void>) =>
  runProcess(
    Deno.execPath(),
    ["run", "-A", MAIN, "-c", file, "-a", "127.0.0.1", "-p", "-1", ...extra],
    onReady,
  );
const reference = (file: string, extra: string[] = [], onReady?: () => Promise<void>) =>
  runProcess("nats-server", ["-c", file, "-a", "127.0.0.1", "-p", "-1", ...extra], onReady);

const REFUSALS: [string, string, string][] = [
  [
    "no tls",
    `websocket { listen: "127.0.0.1:-1" }`,
    "nats-server: websocket requires TLS configuration\n",
  ],
  [
    "jwt_cookie",
    `websocket { listen: "127.0.0.1:-1", no_tls: true, jwt_cookie: "jwt" }`,
    `nats-server: trusted operators or trusted keys configuration is required for JWT authentication via cookie "jwt"\n`,
  ],
];

Deno.test("ws startup: refusals exit 1 with the reference's text (main.ts vs nats-server)", async () => {
  for (const [name, conf, text] of REFUSALS) {
    await withConf(conf, async (file) => {
      const o = await ours(file);
      assertEquals(o, { code: 1, stderr: text }, `ours: ${name}`);
      if (haveNatsServer()) {
        const r = await reference(file);
        assertEquals(r, { code: 1, stderr: text }, `nats-server: ${name}`);
      }
    });
  }
});

Deno.test("ws startup: websocket port in use refuses to start, as nats-server", async () => {
  const blocker = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = blocker.addr.port;
    const why =
      `Unable to listen for websocket connections: listen tcp 127.0.0.1:${port}: bind: address already in use`;
    await withConf(`websocket { listen: "127.0.0.1:${port}", no_tls: true }`, async (file) => {
      const o = await ours(file);
      assertEquals(o.code, 1);
      assert(o.stderr.endsWith(`nats-server: ${why}\n`), o.stderr);
      if (haveNatsServer()) {
        const r = await reference(file);
        assertEquals(r.code, 1);
        assert(r.stderr.includes(`[FTL] ${why}`), r.stderr);
      }
    });
  } finally {
    blocker.close();
  }
});

Deno.test("ws startup: bad advertise refuses to start, as nats-server", async () => {
  const cases: [string, string][] = [
    ["a:b:c", "address a:b:c: too many colons in address"],
    ["host:abc", `strconv.Atoi: parsing "abc": invalid syntax`],
  ];
  for (const [adv, why] of cases) {
    const conf = `websocket { listen: "127.0.0.1:-1", no_tls: true, advertise: "${adv}" }`;
    await withConf(conf, async (file) => {
      const o = await ours(file);
      assertEquals(o.code, 1);
      assert(
        o.stderr.endsWith(`nats-server: Unable to get websocket connect URLs: ${why}\n`),
        o.stderr,
      );
      if (haveNatsServer()) {
        const r = await reference(file);
        assertEquals(r.code, 1);
        assert(r.stderr.includes(`[FTL] Unable to get websocket connect URLs: ${why}`), r.stderr);
      }
    });
  }
});

Deno.test("ws startup: listening log, no-TLS warning, ports file, as nats-server", async () => {
  await withConf(WS_PLAIN, async (file, dir) => {
    const runners: [string, typeof ours][] = [["ours", ours]];
    if (haveNatsServer()) runners.push(["nats-server", reference]);
    for (const [name, run] of runners) {
      const pdir = `${dir}/${name}`;
      await Deno.mkdir(pdir);
      let ports: Record<string, string[]> | undefined;
      const r = await run(file, ["--ports_file_dir", pdir], async () => {
        // The ports file is written right after "Server is ready"; no event to await.
        const deadline = Date.now() + 5000;
        while (!ports && Date.now() < deadline) {
          for await (const e of Deno.readDir(pdir)) {
            try {
              ports = JSON.parse(await Deno.readTextFile(`${pdir}/${e.name}`));
            } catch { /* not complete yet */ }
          }
          if (!ports) await new Promise((res) => setTimeout(res, 20));
        }
      });
      assertEquals(r.code, -1, r.stderr);
      const m = /\[INF\] Listening for websocket clients on ws:\/\/127\.0\.0\.1:(\d+)\n/.exec(
        r.stderr,
      );
      assert(m, `${name}: ${r.stderr}`);
      assertMatch(
        r.stderr,
        /\[WRN\] Websocket not configured with TLS\. DO NOT USE IN PRODUCTION!\n/,
        name,
      );
      assert(ports, `${name}: no ports file`);
      assertEquals(Object.keys(ports).sort(), ["nats", "websocket"], name);
      assertEquals(ports.websocket, [`ws://127.0.0.1:${m[1]}`], name);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// wss

async function makeCerts(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const run = async (args: string[]) => {
    const r = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
      .output();
    if (!r.success) throw new Error(`openssl ${args.join(" ")}: ${dec.decode(r.stderr)}`);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  await run([
    "req",
    "-x509",
    ...ec,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=natsd test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  await run([
    "req",
    ...ec,
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=localhost",
  ]);
  await Deno.writeTextFile(
    `${dir}/ext.cnf`,
    "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n" +
      "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
  );
  await run([
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf",
  ]);
  return { ca: `${dir}/ca.pem`, cert: `${dir}/server.pem`, key: `${dir}/server.key` };
}

function haveOpenssl(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("wss: TLS listener with a test CA; wsconnect (custom CA) ↔ tcp, as nats-server", async () => {
  if (!haveOpenssl()) {
    console.log("openssl not on PATH: wss test skipped");
    return;
  }
  const dir = await Deno.makeTempDir({ prefix: "wsstls" });
  try {
    const pem = await makeCerts(dir);
    const caPem = await Deno.readTextFile(pem.ca);
    const config = `websocket {
      listen: "127.0.0.1:-1"
      tls { cert_file: "${pem.cert}", key_file: "${pem.key}" }
    }`;
    // Logs: wss:// and no warning.
    await withConf(config, async (file) => {
      const o = await ours(file);
      assertMatch(o.stderr, /Listening for websocket clients on wss:\/\/127\.0\.0\.1:\d+/);
      assert(!o.stderr.includes("not configured with TLS"));
    });
    await forBoth(config, async (t) => {
      // Raw TLS upgrade verified against the CA, by name and by IP.
      for (const serverName of ["localhost", "127.0.0.1"]) {
        const ws = await RawWs.open({ port: t.wsPort, caCert: caPem, serverName });
        try {
          await ws.info();
          await ws.send("CONNECT {}\r\nPING\r\n");
          await ws.waitText("PONG\r\n");
        } finally {
          ws.close();
        }
      }
      // Plain HTTP to the TLS port never upgrades.
      const plain = await rawHttp({ port: t.wsPort }, upgradeRequest()).catch(() => null);
      assert(plain === null || plain.status !== 101);
    });
    // A real ws client over wss, exchanging with a TCP client.
    const s = await startOurs(config);
    const client = Deno.createHttpClient({ caCerts: [caPem] });
    const ws = await wsconnect({
      servers: `wss://localhost:${s.wsPort}`,
      wsFactory: (u: string) =>
        Promise.resolve({ socket: new WebSocket(u, { client }), encrypted: true }),
    });
    const tcp = await connect({ servers: `127.0.0.1:${s.port}` });
    try {
      const sub = ws.subscribe("secure", { max: 1 });
      await ws.flush();
      tcp.publish("secure", enc.encode("over wss"));
      const got: string[] = [];
      await within(
        (async () => {
          for await (const m of sub) got.push(m.string());
        })(),
        "wss subscriber",
      );
      assertEquals(got, ["over wss"]);
      const r = await within(
        (async () => {
          tcp.subscribe("echo", {
            callback: (_e, m) => {
              m.respond(m.data);
            },
          });
          await tcp.flush();
          return (await ws.request("echo", "hi", { timeout: 5000 })).string();
        })(),
        "request over wss",
      );
      assertEquals(r, "hi");
    } finally {
      await ws.close();
      await tcp.close();
      client.close();
      await s.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Engine choice and options

function wsOpts(o: Partial<ServerOptions["websocket"]> = {}): ServerOptions["websocket"] {
  return { ...defaultOptions().websocket, host: "127.0.0.1", port: -1, noTls: true, ...o };
}

const TLS_BASE = {
  certFile: "/x.pem",
  keyFile: "/x.key",
  verify: false,
  verifyAndMap: false,
  timeoutMs: 2000,
  insecure: false,
};

Deno.test("ws engine: native by default; codec for compression, handshake_timeout, client certs", () => {
  const table: [string, Partial<ServerOptions["websocket"]>, string, string][] = [
    ["default", {}, "native", "default"],
    ["compression", { compression: true }, "codec", "needed for compression"],
    ["handshake_timeout", { handshakeTimeoutMs: 2000 }, "codec", "needed for handshake_timeout"],
    ["tls verify", { tls: { ...TLS_BASE, verify: true } }, "codec", "needed for tls verify"],
    [
      "verify_and_map",
      { tls: { ...TLS_BASE, verifyAndMap: true } },
      "codec",
      "needed for tls verify_and_map",
    ],
    ["tls without verify", { tls: TLS_BASE }, "native", "default"],
    ["forced codec", { engine: "codec" }, "codec", "engine: codec"],
    ["forced native", { engine: "native", compression: true }, "native", "engine: native"],
  ];
  for (const [name, o, engine, reason] of table) {
    const c = chooseWsEngine(wsOpts(o));
    assertEquals([c.engine, c.reason], [engine, reason], name);
  }
  assertEquals(chooseWsEngine(wsOpts({ engine: "native", compression: true })).ignored, [
    "compression",
  ]);
});

Deno.test("ws engine: startWebsocket dispatches to the chosen engine with parsed options", async () => {
  const calls: [string, WsListenerOptions][] = [];
  const fake = (engine: "native" | "codec"): StartWsListener => (opts) => {
    calls.push([engine, opts]);
    return Promise.resolve({
      engine,
      port: 4443,
      stopAccepting() {},
      close: () => Promise.resolve(),
    });
  };
  const engines = { native: fake("native"), codec: fake("codec") };
  const hooks = { onClient: () => ({ receive() {}, transportClosed() {} }) };
  const log = captureLogger();
  const r = await startWebsocket(
    wsOpts({
      compression: true,
      allowedOrigins: ["http://a.com"],
      trustedProxies: ["10.0.0.0/8"],
      sameOrigin: true,
      jwtCookie: "c",
    }),
    log,
    hooks,
    engines,
  );
  assert(r);
  assertEquals(r.listener.engine, "codec");
  assertEquals(calls.length, 1);
  const [engine, o] = calls[0];
  assertEquals(engine, "codec");
  assertEquals(o.port, 0);
  assertEquals(o.compression, true);
  assertEquals(o.sameOrigin, true);
  assertEquals(o.jwtCookie, "c");
  assertEquals([...o.allowedOrigins.keys()], ["a.com"]);
  assertEquals(o.trustedProxies.length, 1);
  assert(
    log.lines.includes("[INF] Websocket engine: codec (needed for compression)"),
    log.lines.join("\n"),
  );
  assert(log.lines.includes("[INF] Listening for websocket clients on ws://127.0.0.1:4443"));
  // Port 0: disabled.
  assertEquals(await startWebsocket(wsOpts({ port: 0 }), log, hooks, engines), undefined);
  // Forced native with client-cert verification is refused rather than silently unverified.
  let err = "";
  await startWebsocket(
    wsOpts({ engine: "native", tls: { ...TLS_BASE, verify: true } }),
    log,
    hooks,
    engines,
  ).catch((e) => err = e.message);
  assertMatch(err, /cannot verify client certificates/);
});

Deno.test("ws: advertise is parsed like the reference's parseHostPort", () => {
  assertEquals(websocketConnectUrls(undefined, "127.0.0.1", 8080), ["127.0.0.1:8080"]);
  assertEquals(websocketConnectUrls("ws.example.com", "0.0.0.0", 8080), ["ws.example.com:8080"]);
  assertEquals(websocketConnectUrls("ws.example.com:443", "0.0.0.0", 8080), [
    "ws.example.com:443",
  ]);
  assertEquals(websocketConnectUrls("h:-1", "0.0.0.0", 8080), ["h:8080"]);
  assertEquals(websocketConnectUrls("[::1]:9", "0.0.0.0", 8080), ["[::1]:9"]);
  for (
    const [adv, why] of [
      ["a:b:c", "address a:b:c: too many colons in address"],
      ["host:abc", `strconv.Atoi: parsing "abc": invalid syntax`],
      ["[::1", "address [::1: missing ']' in address"],
    ]
  ) {
    let msg = "";
    try {
      websocketConnectUrls(adv, "0.0.0.0", 8080);
    } catch (e) {
      msg = (e as Error).message;
    }
    assertEquals(msg, `Unable to get websocket connect URLs: ${why}`, adv);
  }
});

Deno.test("ws jwt_cookie: the cookie reaches auth as the CONNECT jwt (engine → client → auth)", async () => {
  // Operator mode is not implemented, so a config with jwt_cookie refuses to start (see the
  // startup test). Here the path is checked with a recording authenticator: real socket →
  // native engine (cookie parsed) → ClientConnection (jwt = CONNECT jwt ?? cookie) → auth.
  const seen: (string | undefined)[] = [];
  const auth: Authenticator = {
    authRequired: () => true,
    nonceRequired: false,
    timeoutMs: () => 2000,
    authenticate: (creds, peer) => {
      assertEquals(peer.kind, "WEBSOCKET");
      seen.push(creds.jwt);
      return { account: "$G" };
    },
  };
  const ctx = { ...fakeContext(), authenticator: auth };
  let cid = 1;
  const r = await startWebsocket(wsOpts({ jwtCookie: "jwt" }), captureLogger(), {
    onClient: (t) => {
      const c = new ClientConnection(ctx, t, cid++);
      c.start();
      return c;
    },
  }, { native: startNativeWsListener, codec: ENGINES.codec });
  assert(r);
  try {
    for (const connectJson of ["{}", `{"jwt":"from.connect"}`]) {
      const ws = await RawWs.open({ port: r.listener.port }, {
        headers: { Cookie: `other=1; jwt="eyJ0eXAiOiJKV1QifQ.e30.sig"` },
      });
      try {
        await ws.info();
        await ws.send(`CONNECT ${connectJson}\r\nPING\r\n`);
        await ws.waitText("PONG\r\n");
      } finally {
        ws.close();
      }
    }
    assertEquals(seen, ["eyJ0eXAiOiJKV1QifQ.e30.sig", "from.connect"]);
  } finally {
    await r.listener.close(SERVER_SHUTDOWN_CLOSE);
  }
});
