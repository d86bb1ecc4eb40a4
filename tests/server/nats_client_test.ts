/** The server as real NATS clients (npm:nats) see it. */
import { connect, createInbox, headers, type NatsConnection, type Subscription } from "nats";
import { assert, assertEquals } from "../helpers/assert.ts";
import { startOurs, type TestServer } from "../helpers/server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function withServer(
  fn: (s: TestServer, nc: NatsConnection) => Promise<void>,
  config = "",
): Promise<void> {
  const s = await startOurs(config);
  const nc = await connect({ servers: `127.0.0.1:${s.port}` });
  try {
    await fn(s, nc);
  } finally {
    await nc.close();
    await s.stop();
  }
}

/** Collects up to `n` messages (bounded by `timeoutMs`). */
async function collect(sub: Subscription, n: number, timeoutMs = 5000): Promise<string[]> {
  const got: string[] = [];
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  for await (const m of sub) {
    got.push(`${m.subject}:${dec.decode(m.data)}`);
    if (got.length === n) break;
  }
  clearTimeout(timer);
  return got;
}

Deno.test("nats.js: pub/sub round trip", () =>
  withServer(async (_s, nc) => {
    const sub = nc.subscribe("greet");
    const done = collect(sub, 2);
    nc.publish("greet", enc.encode("hello"));
    nc.publish("greet", enc.encode("world"));
    assertEquals(await done, ["greet:hello", "greet:world"]);
  }));

Deno.test("nats.js: wildcards * and >", () =>
  withServer(async (_s, nc) => {
    const star = nc.subscribe("a.*");
    const full = nc.subscribe("a.>");
    const starDone = collect(star, 1);
    const fullDone = collect(full, 3);
    await nc.flush();
    for (const subj of ["a", "a.b", "a.b.c", "b.c", "a.x.y"]) nc.publish(subj, enc.encode("1"));
    assertEquals(await starDone, ["a.b:1"]);
    assertEquals(await fullDone, ["a.b:1", "a.b.c:1", "a.x.y:1"]);
  }));

Deno.test("nats.js: queue group of 3 members gets each message exactly once, spread", async () => {
  const s = await startOurs();
  const members = await Promise.all(
    [1, 2, 3].map(() => connect({ servers: `127.0.0.1:${s.port}` })),
  );
  const pub = await connect({ servers: `127.0.0.1:${s.port}` });
  try {
    const counts = [0, 0, 0];
    const seen = new Set<string>();
    let total = 0;
    const N = 300;
    let finish!: () => void;
    const all = new Promise<void>((r) => finish = r);
    members.forEach((nc, i) =>
      nc.subscribe("work", {
        queue: "workers",
        callback: (_e, m) => {
          counts[i]++;
          const id = dec.decode(m.data);
          assert(!seen.has(id), `duplicate delivery of ${id}`);
          seen.add(id);
          if (++total === N) finish();
        },
      })
    );
    await Promise.all(members.map((m) => m.flush()));
    for (let i = 0; i < N; i++) pub.publish("work", enc.encode(String(i)));
    await pub.flush();
    const timeout = setTimeout(finish, 5000);
    await all;
    clearTimeout(timeout);
    await Promise.all(members.map((m) => m.flush()));
    assertEquals(total, N);
    for (const c of counts) assert(c > 30, `uneven spread ${counts}`);
  } finally {
    await Promise.all([...members, pub].map((m) => m.close()));
    await s.stop();
  }
});

Deno.test("nats.js: request/reply", () =>
  withServer(async (_s, nc) => {
    nc.subscribe("svc.echo", {
      callback: (_e, m) => m.respond(enc.encode(`re:${dec.decode(m.data)}`)),
    });
    await nc.flush();
    const r = await nc.request("svc.echo", enc.encode("ping"), { timeout: 2000 });
    assertEquals(dec.decode(r.data), "re:ping");
  }));

Deno.test("nats.js: headers travel with the message", () =>
  withServer(async (_s, nc) => {
    const sub = nc.subscribe("h");
    const h = headers();
    h.set("X-Trace", "abc");
    h.append("X-Multi", "1");
    h.append("X-Multi", "2");
    nc.publish("h", enc.encode("body"), { headers: h });
    for await (const m of sub) {
      assertEquals(m.headers?.get("X-Trace"), "abc");
      assertEquals(m.headers?.values("X-Multi"), ["1", "2"]);
      assertEquals(dec.decode(m.data), "body");
      break;
    }
  }));

Deno.test("nats.js: no responders rejects the request at once", () =>
  withServer(async (_s, nc) => {
    const started = Date.now();
    let err: Error | undefined;
    try {
      await nc.request("nobody.home", enc.encode("x"), { timeout: 4000 });
    } catch (e) {
      err = e as Error;
    }
    assert(err, "request should fail");
    assertEquals((err as { code?: string }).code, "503");
    assert(Date.now() - started < 3000, "should not wait for the timeout");
  }));

Deno.test("nats.js: auto-unsubscribe after max messages", () =>
  withServer(async (_s, nc) => {
    const sub = nc.subscribe("limited", { max: 2 });
    const got = collect(sub, 5, 3000);
    for (const x of ["a", "b", "c", "d"]) nc.publish("limited", enc.encode(x));
    await nc.flush();
    assertEquals(await got, ["limited:a", "limited:b"]);
  }));

Deno.test("nats.js: echo=false does not deliver own messages", async () => {
  const s = await startOurs();
  const quiet = await connect({ servers: `127.0.0.1:${s.port}`, noEcho: true });
  const other = await connect({ servers: `127.0.0.1:${s.port}` });
  try {
    const own = quiet.subscribe("e");
    const got = collect(own, 1, 3000);
    await quiet.flush();
    quiet.publish("e", enc.encode("self"));
    other.publish("e", enc.encode("other"));
    await Promise.all([quiet.flush(), other.flush()]);
    assertEquals(await got, ["e:other"]);
  } finally {
    await quiet.close();
    await other.close();
    await s.stop();
  }
});

Deno.test("nats.js: 1 MB payload arrives intact", () =>
  withServer(async (_s, nc) => {
    const big = new Uint8Array(1024 * 1024 - 64);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const inbox = createInbox();
    const sub = nc.subscribe(inbox);
    nc.publish(inbox, big);
    for await (const m of sub) {
      assertEquals(m.data.length, big.length);
      assert(m.data.every((b, i) => b === big[i]), "payload corrupted");
      break;
    }
  }));

Deno.test("nats.js: payload over max_payload is refused by the client", () =>
  withServer(async (_s, nc) => {
    await nc.flush();
    assertEquals(nc.info?.max_payload, 1024 * 1024);
    let threw = false;
    try {
      nc.publish("x", new Uint8Array(1024 * 1024 + 1));
    } catch {
      threw = true;
    }
    assert(threw);
  }));
