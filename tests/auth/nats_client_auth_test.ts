/**
 * Real clients (npm:nats) against this server and, when on PATH, nats-server in the same run:
 * logins with user/password (plain and bcrypt), token and NKEY (nkeyAuthenticator), a wrong
 * password failing with the auth error, and two accounts talking through stream and service
 * imports.
 */
import { createUser } from "@nats-io/nkeys";
import bcrypt from "bcryptjs";
import {
  connect,
  type ConnectionOptions,
  type Msg,
  type NatsConnection,
  nkeyAuthenticator,
  type Subscription,
} from "nats";
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";

// npm:nats' Node socket emits an unhandled "error" (ECONNRESET) when nats-server resets a
// connection it has just rejected; connect() has rejected with the auth error by then. Only
// that error is swallowed, and it is reported.
globalThis.addEventListener("error", (e) => {
  if (/ECONNRESET/.test(String(e.error))) {
    console.log("ignored after an auth rejection:", String(e.error));
    e.preventDefault();
  }
});

const enc = new TextEncoder();
const dec = new TextDecoder();

const nk = createUser();
const seed = nk.getSeed();
const hash = bcrypt.hashSync("bcrypt-pw", 11);

const CONFIG = `
authorization {
  users: [
    { user: plain, password: "plain-pw" }
    { user: hashed, password: "${hash}" }
    { nkey: ${nk.getPublicKey()} }
  ]
}`;

const TOKEN_CONFIG = 'authorization { token: "tok-123" }';

const ACCOUNTS = `
accounts {
  A {
    users: [ { user: a, password: a } ]
    exports: [ { stream: "events.>" }, { service: "svc.*" } ]
  }
  B {
    users: [ { user: b, password: b } ]
    imports: [
      { stream: { account: A, subject: "events.>" }, prefix: "from_a" }
      { service: { account: A, subject: "svc.*" }, to: "api.*" }
    ]
  }
}`;

interface Srv {
  port: number;
  stop(): Promise<void>;
}

/** Runs `fn` against ours, then nats-server when available (each as its own step). */
async function onBoth(
  t: Deno.TestContext,
  config: string,
  fn: (s: Srv) => Promise<void>,
): Promise<void> {
  await t.step("ours", async () => {
    const s = await startOurs(config);
    try {
      await fn(s);
    } finally {
      await s.stop();
    }
  });
  await t.step({
    name: "nats-server",
    ignore: !haveNatsServer(),
    fn: async () => {
      const s = await startReference(config);
      try {
        await fn(s);
      } finally {
        await s.stop();
      }
    },
  });
}

function opts(s: Srv, o: Partial<ConnectionOptions>): ConnectionOptions {
  return { servers: `127.0.0.1:${s.port}`, reconnect: false, timeout: 5000, ...o };
}

/** Connects, checks a request/reply round trip on the connection, closes. */
async function loginWorks(s: Srv, o: Partial<ConnectionOptions>): Promise<void> {
  const nc = await connect(opts(s, o));
  try {
    nc.subscribe("echo", { callback: (_e, m) => m.respond(m.data) });
    const r = await nc.request("echo", enc.encode("ping"), { timeout: 5000 });
    assertEquals(dec.decode(r.data), "ping");
  } finally {
    await nc.close();
  }
}

async function loginFails(s: Srv, o: Partial<ConnectionOptions>): Promise<void> {
  let err: unknown;
  try {
    const nc = await connect(opts(s, o));
    await nc.close();
  } catch (e) {
    err = e;
  }
  assert(err, "connect should have failed");
  assertEquals((err as { code?: string }).code, "AUTHORIZATION_VIOLATION");
  assertMatch(String((err as Error).message), /Authorization Violation/i);
}

Deno.test("nats.js login: user/password (plain)", (t) =>
  onBoth(t, CONFIG, (s) => loginWorks(s, { user: "plain", pass: "plain-pw" })));

Deno.test("nats.js login: user/password (bcrypt cost 11)", (t) =>
  onBoth(t, CONFIG, (s) => loginWorks(s, { user: "hashed", pass: "bcrypt-pw" })));

Deno.test("nats.js login: nkey with nkeyAuthenticator", (t) =>
  onBoth(t, CONFIG, (s) => loginWorks(s, { authenticator: nkeyAuthenticator(seed) })));

Deno.test("nats.js login: token", (t) =>
  onBoth(t, TOKEN_CONFIG, (s) => loginWorks(s, { token: "tok-123" })));

Deno.test("nats.js login: wrong password gets an auth error", (t) =>
  onBoth(t, CONFIG, async (s) => {
    await loginFails(s, { user: "plain", pass: "nope" });
    await loginFails(s, { user: "hashed", pass: "nope" });
    await loginFails(s, { authenticator: nkeyAuthenticator(createUser().getSeed()) });
    await loginFails(s, {});
  }));

Deno.test("nats.js login: wrong token gets an auth error", (t) =>
  onBoth(t, TOKEN_CONFIG, (s) => loginFails(s, { token: "tok-124" })));

/** The next message of `sub` (bounded). */
async function next(sub: Subscription, timeoutMs = 5000): Promise<Msg> {
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  try {
    for await (const m of sub) return m;
    throw new Error(`no message on ${sub.getSubject()} within ${timeoutMs} ms`);
  } finally {
    clearTimeout(timer);
  }
}

async function pair(s: Srv): Promise<[NatsConnection, NatsConnection]> {
  const a = await connect(opts(s, { user: "a", pass: "a" }));
  const b = await connect(opts(s, { user: "b", pass: "b" }));
  return [a, b];
}

Deno.test("nats.js accounts: isolation and a stream import with prefix", (t) =>
  onBoth(t, ACCOUNTS, async (s) => {
    const [a, b] = await pair(s);
    try {
      const imported = b.subscribe("from_a.events.>");
      const direct = b.subscribe("events.>", { max: 1 });
      const own = a.subscribe("events.>", { max: 1 });
      await b.flush();
      await a.flush();
      a.publish("events.login", enc.encode("alice"));
      const m = await next(imported);
      assertEquals([m.subject, dec.decode(m.data)], ["from_a.events.login", "alice"]);
      assertEquals((await next(own)).subject, "events.login");
      // B's own "events.>" only sees B's publishes: the marker arrives, A's message never did.
      b.publish("events.marker", enc.encode("b"));
      const d = await next(direct);
      assertEquals([d.subject, dec.decode(d.data)], ["events.marker", "b"]);
    } finally {
      await a.close();
      await b.close();
    }
  }));

Deno.test("nats.js accounts: service import request/reply across accounts", (t) =>
  onBoth(t, ACCOUNTS, async (s) => {
    const [a, b] = await pair(s);
    try {
      const seen: string[] = [];
      a.subscribe("svc.*", {
        callback: (_e, m) => {
          seen.push(`${m.subject} ${m.headers?.get("Nats-Request-Info") ?? ""}`);
          m.respond(enc.encode(`hello ${dec.decode(m.data)}`));
        },
      });
      await a.flush();
      for (const who of ["bob", "carol"]) {
        const r = await b.request("api.greet", enc.encode(who), { timeout: 5000 });
        assertEquals(dec.decode(r.data), `hello ${who}`);
      }
      assertEquals(seen.length, 2);
      for (const line of seen) assertMatch(line, /^svc\.greet \{"acc":"B","rtt":\d+\}$/);
      // A in its own account does not reach B's import subject.
      let err: unknown;
      try {
        await a.request("api.greet", enc.encode("x"), { timeout: 2000 });
      } catch (e) {
        err = e;
      }
      assertEquals((err as { code?: string })?.code, "503");
    } finally {
      await a.close();
      await b.close();
    }
  }));
