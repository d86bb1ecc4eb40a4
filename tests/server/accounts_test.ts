/**
 * Unit tests of the cross-account routing (lib/server/accounts.ts): subject transforms, the
 * request header, and the life cycle of response imports (singleton, stream, expiry, interest
 * loss, no responder), driven through in-memory client connections.
 */
import type { AccountConfig, Authenticator } from "../../lib/auth/types.ts";
import type { ClientConnection } from "../../lib/protocol/client.ts";
import type { ServerContext } from "../../lib/protocol/context.ts";
import {
  AccountRegistry,
  clientInfoJson,
  existingLinks,
  getHeader,
  setHeader,
  subjectsCollide,
  Transform,
} from "../../lib/accounts/mod.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import {
  fakeClient,
  fakeContext,
  type RecordingTransport,
  settle,
} from "../helpers/fake_context.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

Deno.test("Transform: prefix, $N and * placeholders, > tails", () => {
  assertEquals(new Transform("foo.>", "p.foo.>").apply("foo.a.b"), "p.foo.a.b");
  assertEquals(new Transform("ev.*.x", "mine.$1").apply("ev.q.x"), "mine.q");
  assertEquals(new Transform("a.*.*", "b.$2.$1").apply("a.x.y"), "b.y.x");
  assertEquals(new Transform("a.*.>", "b.{{wildcard(1)}}.>").apply("a.x.y.z"), "b.x.y.z");
  assertEquals(new Transform("lit", "other").apply("lit"), "other");
  // Service imports build the transform backwards and reverse it.
  assertEquals(new Transform("svc.*", "x.$1").reverse().apply("x.q"), "svc.q");
});

Deno.test("Transform: the reference's errors", () => {
  const err = (src: string, dest: string) => {
    try {
      new Transform(src, dest);
      return "";
    } catch (e) {
      return (e as Error).message;
    }
  };
  assertEquals(
    err("foo.*", "bar"),
    "invalid mapping destination: not using all of the token wildcard(s) in bar",
  );
  assertEquals(
    err("foo.*", "bar.$2"),
    "invalid mapping destination: wildcard index out of range in $2: [2]",
  );
  assertEquals(err("foo.>", "bar"), "invalid subject");
  assertEquals(err("foo.*", "bar.*"), "invalid subject");
  assertEquals(err("foo..x", "bar"), "invalid subject");
});

Deno.test("subjectsCollide", () => {
  const cases: [string, string, boolean][] = [
    ["foo", "foo", true],
    ["foo", "bar", false],
    ["foo.*", "foo.bar", true],
    ["foo.bar", "foo.*", true],
    ["foo.>", "foo.bar.baz", true],
    ["foo.*", "foo.bar.baz", false],
    ["foo.*", "*.bar", true],
    ["foo.*", "bar.*", false],
    ["foo.*.*", "foo.>", true],
    ["foo.*", "foo.*.*", false],
    [">", "a.b.c", true],
  ];
  for (const [a, b, want] of cases) assertEquals(subjectsCollide(a, b), want, `${a} ~ ${b}`);
});

Deno.test("setHeader: adds, keeps and replaces like the reference", () => {
  const plain = setHeader("Nats-Request-Info", "{}", enc.encode("body"), -1);
  assertEquals(dec.decode(plain.msg), "NATS/1.0\r\nNats-Request-Info: {}\r\n\r\nbody");
  assertEquals(plain.hdrLen, plain.msg.length - 4);

  const hdr = "NATS/1.0\r\nX-A: 1\r\n\r\n";
  const kept = setHeader("Nats-Request-Info", "{}", enc.encode(hdr + "b"), hdr.length);
  assertEquals(dec.decode(kept.msg), "NATS/1.0\r\nX-A: 1\r\nNats-Request-Info: {}\r\n\r\nb");

  const old = "NATS/1.0\r\nNats-Request-Info: old\r\nX-A: 1\r\n\r\n";
  const replaced = setHeader("Nats-Request-Info", "new", enc.encode(old + "b"), old.length);
  assertEquals(dec.decode(replaced.msg), "NATS/1.0\r\nX-A: 1\r\nNats-Request-Info: new\r\n\r\nb");
  assertEquals(getHeader("Nats-Request-Info", replaced.msg.subarray(0, replaced.hdrLen)), "new");
  assertEquals(getHeader("X-B", replaced.msg.subarray(0, replaced.hdrLen)), null);
});

Deno.test("clientInfoJson: Go struct order, omitempty, HTML-safe escapes", () => {
  assertEquals(clientInfoJson({ rtt: 5, acc: "B" }), '{"acc":"B","rtt":5}');
  assertEquals(clientInfoJson({ acc: "B", rtt: 0 }), '{"acc":"B"}');
  assertEquals(
    clientInfoJson({ svc: "X", acc: "<&>" }),
    '{"acc":"\\u003c\\u0026\\u003e","svc":"X"}',
  );
  assertEquals(clientInfoJson({}), '{"acc":""}');
});

// ---- in-memory servers -----------------------------------------------------------------------

const EXPORTER: AccountConfig = {
  name: "A",
  exports: [{ service: "svc" }, { service: "multi", responseType: "stream" }],
  imports: [],
};
const IMPORTER: AccountConfig = {
  name: "B",
  exports: [],
  imports: [
    { service: { account: "A", subject: "svc" }, to: "svc" },
    { service: { account: "A", subject: "multi" }, to: "multi" },
  ],
};

/** Clients authenticate into the account named by their CONNECT `user`. */
const byUser: Authenticator = {
  authRequired: () => false,
  nonceRequired: false,
  timeoutMs: () => 2000,
  authenticate: (c) => ({ account: c.user ?? "$G" }),
};

function world(responseThresholdMs?: number) {
  const reg = new AccountRegistry([EXPORTER, IMPORTER], { responseThresholdMs });
  assertEquals(reg.errors, []);
  const ctx: ServerContext = {
    ...fakeContext(),
    authenticator: byUser,
    account: (n) => reg.get(n),
  };
  const join = (user: string, ...ops: string[]) => {
    const { client, t } = fakeClient(ctx);
    client.receive(enc.encode(`CONNECT {"verbose":false,"user":"${user}"}\r\n${ops.join("")}`));
    return { client, t };
  };
  const responses = () => existingLinks(reg.get("A"))!.responses.size;
  const pending = () => existingLinks(reg.get("B"))!.reverse.size;
  return { reg, join, responses, pending };
}

function lastReply(t: RecordingTransport): string {
  const m = [...t.afterInfo().matchAll(/ (_R_\.\w+\.\w+) /g)];
  assert(m.length > 0, `no _R_ reply in ${t.afterInfo()}`);
  return m[m.length - 1][1];
}

function cleanup(...cs: { client: ClientConnection }[]): void {
  for (const c of cs) c.client.close("Client Closed", false);
}

Deno.test("response import: singleton is removed after the first response", async () => {
  const w = world();
  const a = w.join("A", "SUB svc 1\r\n");
  const b = w.join("B", "SUB inbox.> 2\r\n", "PUB svc inbox.1 1\r\nq\r\n");
  await settle();
  assertEquals(w.responses(), 1);
  assertEquals(w.pending(), 1);
  const r = lastReply(a.t);
  a.client.receive(enc.encode(`PUB ${r} 2\r\nr1\r\nPUB ${r} 2\r\nr2\r\n`));
  await settle();
  assertEquals(b.t.afterInfo(), "MSG inbox.1 2 2\r\nr1\r\n");
  assertEquals(w.responses(), 0);
  assertEquals(w.pending(), 0);
  cleanup(a, b);
  w.reg.close();
});

Deno.test("response import: stream type delivers until an empty message", async () => {
  const w = world();
  const a = w.join("A", "SUB multi 1\r\n");
  const b = w.join("B", "SUB inbox.> 2\r\n", "PUB multi inbox.1 1\r\nq\r\n");
  await settle();
  const r = lastReply(a.t);
  a.client.receive(enc.encode(`PUB ${r} 1\r\n1\r\nPUB ${r} 1\r\n2\r\n`));
  assertEquals(w.responses(), 1);
  a.client.receive(enc.encode(`PUB ${r} 0\r\n\r\nPUB ${r} 1\r\n4\r\n`));
  await settle();
  assertEquals(
    b.t.afterInfo(),
    "MSG inbox.1 2 1\r\n1\r\nMSG inbox.1 2 1\r\n2\r\nMSG inbox.1 2 0\r\n\r\n",
  );
  assertEquals(w.responses(), 0);
  cleanup(a, b);
  w.reg.close();
});

Deno.test("response import: nothing delivered to the exporter removes it at once", async () => {
  const w = world();
  const b = w.join("B", "SUB inbox.> 2\r\n", "PUB svc inbox.1 1\r\nq\r\n");
  await settle();
  assertEquals(w.responses(), 0);
  assertEquals(w.pending(), 0);
  cleanup(b);
  w.reg.close();
});

Deno.test("response import: removed when the requester loses interest", async () => {
  const w = world();
  const a = w.join("A", "SUB multi 1\r\n");
  const b = w.join("B", "SUB inbox.1 2\r\nSUB inbox.2 3\r\n");
  b.client.receive(enc.encode("PUB multi inbox.1 1\r\nq\r\nPUB multi inbox.2 1\r\nq\r\n"));
  await settle();
  assertEquals(w.responses(), 2);
  b.client.receive(enc.encode("UNSUB 2\r\n"));
  assertEquals(w.responses(), 1);
  cleanup(b);
  assertEquals(w.responses(), 0);
  assertEquals(w.pending(), 0);
  cleanup(a);
  w.reg.close();
});

Deno.test("response import: expires after the response threshold", async () => {
  const w = world(30);
  const a = w.join("A", "SUB multi 1\r\n");
  const b = w.join("B", "SUB inbox.> 2\r\n", "PUB multi inbox.1 1\r\nq\r\n");
  await settle();
  assertEquals(w.responses(), 1);
  const deadline = Date.now() + 3000;
  while (w.responses() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assertEquals(w.responses(), 0);
  assertEquals(w.pending(), 0);
  cleanup(a, b);
  w.reg.close();
});

Deno.test("accounts without imports keep links null (the hot path checks only that)", () => {
  const reg = new AccountRegistry([{ name: "X", exports: [], imports: [] }]);
  assertEquals(reg.get("X").links, null);
  assertEquals(reg.get("$G").links, null);
  reg.close();
});
