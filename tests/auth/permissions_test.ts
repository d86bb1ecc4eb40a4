import assert from "node:assert/strict";
import {
  compilePermissions,
  createPermissionChecker,
  hasGatewayReplyPrefix,
  isReservedReply,
} from "../../lib/auth/permissions.ts";
import { subjectHasWildcard } from "../../lib/core/subject.ts";
import { publishViolation, replyViolation, subscribeViolation } from "../../lib/auth/errors.ts";
import { goQuote } from "../../lib/core/gofmt.ts";
import type { Permissions, SubjectPermission } from "../../lib/auth/types.ts";

// ---------------------------------------------------------------------------------------------
// Subscribe with queues: server/client_test.go TestQueueSubscribePermissions, all cases.

const QUEUE_CASES: {
  name: string;
  perms: SubjectPermission;
  subject: string;
  queue?: string;
  ok: boolean;
}[] = [
  { name: "plain subscription on foo", perms: { allow: ["foo"] }, subject: "foo", ok: true },
  {
    name: "queue subscribe with allowed group",
    perms: { allow: ["foo bar"] },
    subject: "foo",
    queue: "bar",
    ok: true,
  },
  {
    name: "queue subscribe with wildcard allowed group",
    perms: { allow: ["foo bar.*"] },
    subject: "foo",
    queue: "bar.fizz",
    ok: true,
  },
  {
    name: "queue subscribe with full wildcard subject and subgroup",
    perms: { allow: ["> bar.>"] },
    subject: "whizz",
    queue: "bar.bang",
    ok: true,
  },
  {
    name: "plain subscribe with full wildcard subject and subgroup",
    perms: { allow: ["> bar.>"] },
    subject: "whizz",
    ok: false,
  },
  {
    name: "deny plain subscription on foo",
    perms: { allow: [">"], deny: ["foo"] },
    subject: "foo",
    queue: "bar",
    ok: false,
  },
  {
    name: "allow plain subscription, except foo",
    perms: { allow: [">"], deny: ["foo"] },
    subject: "bar",
    ok: true,
  },
  {
    name: "deny everything",
    perms: { allow: [">"], deny: [">"] },
    subject: "foo",
    queue: "bar",
    ok: false,
  },
  {
    name: "can only subscribe to queues v1",
    perms: { allow: ["> v1.>"] },
    subject: "foo",
    queue: "v1.prod",
    ok: true,
  },
  {
    name: "cannot subscribe to queues, plain subscribe ok",
    perms: { allow: [">"], deny: ["> >"] },
    subject: "foo",
    ok: true,
  },
  {
    name: "cannot subscribe to queues, queue subscribe not ok",
    perms: { deny: ["> >"] },
    subject: "foo",
    queue: "bar",
    ok: false,
  },
  {
    name: "deny all queue subscriptions on dev or stg only",
    perms: { deny: ["> *.dev", "> *.stg"] },
    subject: "foo",
    queue: "bar",
    ok: true,
  },
  {
    name: "allow only queue subscription on dev or stg",
    perms: { allow: ["> *.dev", "> *.stg"] },
    subject: "foo",
    queue: "bar",
    ok: false,
  },
  {
    name: "deny queue subscriptions with subject foo",
    perms: { deny: ["foo >"] },
    subject: "foo",
    queue: "bar",
    ok: false,
  },
  {
    name: "plain sub is allowed, but queue subscribe with queue not in list",
    perms: { allow: ["foo bar"] },
    subject: "foo",
    queue: "fizz",
    ok: false,
  },
  {
    name: "allow plain sub, but do queue subscribe",
    perms: { allow: ["foo"] },
    subject: "foo",
    queue: "bar",
    ok: true,
  },
  // more
  {
    name: "plain and queue entries: queue must match the queue entries",
    perms: { allow: ["foo", "foo v1"] },
    subject: "foo",
    queue: "v2",
    ok: false,
  },
  {
    name: "plain and queue entries: plain sub ok",
    perms: { allow: ["foo", "foo v1"] },
    subject: "foo",
    ok: true,
  },
  {
    name: "plain and queue entries: listed queue ok",
    perms: { allow: ["foo", "foo v1"] },
    subject: "foo",
    queue: "v1",
    ok: true,
  },
  {
    name: "queue-qualified deny only hits that queue",
    perms: { deny: ["foo q1"] },
    subject: "foo",
    queue: "q2",
    ok: true,
  },
  {
    name: "queue-qualified deny hits its queue",
    perms: { deny: ["foo q1"] },
    subject: "foo",
    queue: "q1",
    ok: false,
  },
  {
    name: "queue-qualified deny leaves plain subs alone",
    perms: { deny: ["foo q1"] },
    subject: "foo",
    ok: true,
  },
  {
    name: "reference quirk: a non-matching queue deny entry overrides a plain deny",
    perms: { deny: ["foo", "foo q1"] },
    subject: "foo",
    queue: "q2",
    ok: true,
  },
  {
    name: "entry with three fields is ignored",
    perms: { allow: ["foo a b"] },
    subject: "foo",
    ok: false,
  },
  {
    name: "empty allow list means all allowed",
    perms: { allow: [] },
    subject: "anything",
    ok: true,
  },
  {
    name: "reserved _sys_ queue is never allowed",
    perms: { allow: [">"] },
    subject: "foo",
    queue: "_sys_",
    ok: false,
  },
];

Deno.test("canSubscribe: queue-qualified permission table", () => {
  for (const c of QUEUE_CASES) {
    const chk = createPermissionChecker({ subscribe: c.perms });
    assert.equal(chk.canSubscribe(c.subject, c.queue), c.ok, c.name);
  }
});

// ---------------------------------------------------------------------------------------------
// Subjects and wildcards (allow/deny, subject treated as a literal against patterns).

const SUB_PERMS: Permissions = {
  subscribe: {
    allow: ["foo.*", "bar.>", "PUBLIC.>", "_INBOX.>", "SYS.TEST.>"],
    deny: ["foo.baz", "bar.secret.>"],
  },
};

const SUB_CASES: [string, boolean][] = [
  ["foo.bar", true],
  ["foo.foo", true],
  ["foo", false],
  ["foo.baz", false], // denied literally
  ["foo.bar.baz", false],
  ["foo.*", true], // matches allow foo.*; overlaps deny foo.baz → filtered at delivery
  ["foo.>", true], // reference quirk: '>' token of the SUB matches the allow '*'
  ["bar.x.y", true],
  ["bar.secret.x", false],
  ["bar.secret.>", false],
  ["bar.*", true],
  ["bar.>", true],
  [">", false],
  ["*.bar", false], // allow patterns are literal in their first token
  ["SYS.>", false],
  ["SYS.TEST.foo", true],
  ["SYS.bar", false],
  ["_INBOX.abcd", true],
];

Deno.test("canSubscribe: wildcard allow/deny table", () => {
  for (const [subject, ok] of SUB_CASES) {
    const chk = createPermissionChecker(SUB_PERMS);
    assert.equal(chk.canSubscribe(subject), ok, subject);
  }
});

Deno.test("deliverAllowed: deny filter turns on only for overlapping wildcard subs", () => {
  const chk = createPermissionChecker({ subscribe: { deny: ["foo.baz", "x.>"] } });
  assert.equal(chk.deliverAllowed("foo.baz"), true, "no filter before a wildcard sub");
  assert.ok(chk.canSubscribe("foo.bar"));
  assert.equal(chk.deliveryFilterActive, false);
  assert.ok(chk.canSubscribe("bar.*"), "wildcard not overlapping a deny");
  assert.equal(chk.deliveryFilterActive, false);
  assert.ok(chk.canSubscribe("foo.*"));
  assert.equal(chk.deliveryFilterActive, true);
  const deliveries: [string, boolean][] = [
    ["foo.baz", false],
    ["foo.bar", true],
    ["x.y", false],
    ["x.y.z", false],
    ["x", true],
    ["foo.baz", false], // cached
  ];
  for (const [subject, ok] of deliveries) assert.equal(chk.deliverAllowed(subject), ok, subject);

  // `*.baz` is not a superset of `x.>` nor of `foo.baz`? it is of foo.baz.
  const chk2 = createPermissionChecker({ subscribe: { deny: ["x.>"] } });
  assert.ok(chk2.canSubscribe("*.y"));
  assert.equal(chk2.deliveryFilterActive, false, "x.> is not a subset of *.y (reference quirk)");
  assert.equal(chk2.deliverAllowed("x.y"), true);
  assert.ok(chk2.canSubscribe(">"));
  assert.equal(chk2.deliveryFilterActive, true);
  assert.equal(chk2.deliverAllowed("x.y"), false);

  // Queue subscribers are filtered the same way (TestAccountUserSubPermsWithQueueGroups).
  const chk3 = createPermissionChecker({
    subscribe: { allow: ["foo.>"], deny: ["foo.restricted"] },
  });
  assert.ok(chk3.canSubscribe("foo.>", "qg"));
  assert.equal(chk3.deliverAllowed("foo.restricted"), false);
  assert.equal(chk3.deliverAllowed("foo.open"), true);
});

// ---------------------------------------------------------------------------------------------
// Publish

const PUB_TABLE: { name: string; perms: Permissions; cases: [string, boolean][] }[] = [
  {
    name: "no permissions",
    perms: {},
    cases: [["foo", true], ["a.b.c", true]],
  },
  {
    name: "allow list with wildcards",
    perms: { publish: { allow: ["req.*", "SANDBOX.*", "_"] } },
    cases: [
      ["req.foo", true],
      ["req.bar", true],
      ["req", false],
      ["req.foo.bar", false],
      [
        "SANDBOX.foo",
        true,
      ],
      ["SANDBOX.foo.bar", false],
      ["_", true],
      ["foo", false],
    ],
  },
  {
    name: "allow and deny (deny wins)",
    perms: { publish: { allow: ["SANDBOX.*", "baz.>"], deny: ["baz.secret", "SANDBOX.x"] } },
    cases: [
      ["SANDBOX.foo", true],
      ["SANDBOX.x", false],
      ["baz.bar", true],
      ["baz.foo", true],
      [
        "baz.secret",
        false,
      ],
      ["baz.secret.x", true],
      ["foo", false],
      ["SYS.1", false],
    ],
  },
  {
    name: "deny only",
    perms: { publish: { deny: ["foo.*", "bar.>"] } },
    cases: [["foo", true], ["foo.x", false], ["foo.x.y", true], ["bar.a.b", false], ["bar", true]],
  },
  {
    name: "empty allow list allows nothing",
    perms: { publish: { allow: [] } },
    cases: [["foo", false], ["_INBOX.x", false]],
  },
  {
    name: "full wildcard allow with deny",
    perms: { publish: { allow: [">"], deny: ["$SYS.>"] } },
    cases: [["a", true], ["$SYS.REQ", false], ["$SYS", true]],
  },
];

Deno.test("canPublish table (and the cache gives the same answers)", () => {
  for (const t of PUB_TABLE) {
    const chk = createPermissionChecker(t.perms);
    for (let round = 0; round < 2; round++) {
      for (const [subject, ok] of t.cases) {
        assert.equal(chk.canPublish(subject), ok, `${t.name}: ${subject} (round ${round})`);
      }
    }
  }
});

Deno.test("canPublish cache stays bounded and correct", () => {
  const chk = createPermissionChecker({ publish: { allow: ["ok.*"] } });
  for (let i = 0; i < 1000; i++) {
    assert.equal(chk.canPublish(`ok.${i}`), true);
    assert.equal(chk.canPublish(`no.${i}`), false);
  }
  assert.equal(chk.canPublish("ok.1"), true);
});

// ---------------------------------------------------------------------------------------------
// allow_responses

function clock() {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("allow_responses: defaults (max 1, 2 minutes) and empty publish allow", () => {
  const c = compilePermissions({ response: { max: 0, expiresMs: 0 } });
  assert.deepEqual(c.pubAllow, []);
  assert.deepEqual(c.response, { max: 1, expiresMs: 120000 });
  const explicit = compilePermissions({
    publish: { allow: ["a"] },
    response: { max: 5, expiresMs: 10 },
  });
  assert.deepEqual(explicit.pubAllow, ["a"]);
});

Deno.test("allow_responses: svca (max 1) as in TestUserAuthorizationAllowResponses", () => {
  const clk = clock();
  const chk = createPermissionChecker({
    subscribe: { allow: ["my.service.req"] },
    response: { max: 1, expiresMs: 0 },
  }, clk.now);
  assert.ok(chk.tracksReplies);
  assert.ok(chk.canSubscribe("my.service.req"));
  assert.equal(chk.canPublish("resp.bar.22"), false, "not received yet");
  chk.noteReplySubject("resp.bar.22");
  assert.equal(chk.canPublish("resp.bar.22"), true);
  assert.equal(chk.canPublish("resp.bar.33"), false);
  assert.equal(chk.canPublish("resp.bar.22"), false, "max 1 used up");
  // a new delivery with the same reply re-arms it
  chk.noteReplySubject("resp.bar.22");
  assert.equal(chk.canPublish("resp.bar.22"), true);
});

Deno.test("allow_responses: svcb (max 10, 10 ms) counts and expires", () => {
  const clk = clock();
  const chk = createPermissionChecker({ response: { max: 10, expiresMs: 10 } }, clk.now);
  chk.noteReplySubject("resp.bar.22");
  for (let i = 0; i < 10; i++) assert.equal(chk.canPublish("resp.bar.22"), true, `#${i + 1}`);
  assert.equal(chk.canPublish("resp.bar.22"), false, "11th");
  chk.noteReplySubject("resp.bar.11");
  clk.advance(11);
  assert.equal(chk.canPublish("resp.bar.11"), false, "expired");
  assert.equal(chk.canPublish("resp.bar.11"), false, "and removed");
});

Deno.test("allow_responses: TestResponsePermissions table", () => {
  const cases: {
    name: string;
    max: number;
    expiresMs: number;
    script: (string | number)[];
    want: boolean[];
  }[] = [
    // "pub" = publish attempt, number = advance clock
    {
      name: "max_msgs",
      max: 2,
      expiresMs: 3600_000,
      script: Array(10).fill("pub"),
      want: [true, true, ...Array(8).fill(false)],
    },
    {
      name: "no_expire_limit",
      max: 3,
      expiresMs: -1,
      script: ["pub", 50, "pub"],
      want: [true, true],
    },
    { name: "expire", max: 1000, expiresMs: 100, script: ["pub", 200, "pub"], want: [true, false] },
    {
      name: "no_msgs_limit",
      max: -1,
      expiresMs: 100,
      script: ["pub", "pub", "pub", 200, "pub"],
      want: [true, true, true, false],
    },
    {
      name: "unlimited both",
      max: -1,
      expiresMs: -1,
      script: ["pub", 1e9, "pub", "pub"],
      want: [true, true, true],
    },
  ];
  for (const c of cases) {
    const clk = clock();
    const chk = createPermissionChecker(
      { response: { max: c.max, expiresMs: c.expiresMs } },
      clk.now,
    );
    chk.noteReplySubject("reply");
    const got: boolean[] = [];
    for (const step of c.script) {
      if (typeof step === "number") clk.advance(step);
      else got.push(chk.canPublish("reply"));
    }
    assert.deepEqual(got, c.want, c.name);
  }
});

Deno.test("allow_responses: explicit deny still wins over allow, replies bypass deny", () => {
  const clk = clock();
  const chk = createPermissionChecker({
    publish: { allow: ["ok.>"], deny: ["ok.no"] },
    response: { max: 1, expiresMs: 1000 },
  }, clk.now);
  assert.equal(chk.canPublish("ok.yes"), true);
  assert.equal(chk.canPublish("ok.no"), false);
  chk.noteReplySubject("ok.no");
  assert.equal(chk.canPublish("ok.no"), true, "a received reply subject may be answered");
  assert.equal(chk.canPublish("ok.no"), false);
});

Deno.test("allow_responses: reply tracking is pruned beyond 4096 entries", () => {
  const clk = clock();
  const chk = createPermissionChecker({ response: { max: 1, expiresMs: 100 } }, clk.now);
  for (let i = 0; i < 4000; i++) chk.noteReplySubject(`old.${i}`);
  clk.advance(200);
  for (let i = 0; i < 200; i++) chk.noteReplySubject(`new.${i}`);
  assert.ok(chk.trackedReplies <= 4097, `tracked ${chk.trackedReplies}`);
  assert.equal(chk.canPublish("new.5"), true);
  // not tracking without allow_responses
  const plain = createPermissionChecker({ publish: { allow: ["a"] } });
  assert.equal(plain.tracksReplies, false);
  plain.noteReplySubject("b");
  assert.equal(plain.canPublish("b"), false);
});

Deno.test("no permissions: everything allowed except the _sys_ queue", () => {
  const chk = createPermissionChecker(undefined);
  assert.ok(chk.canPublish("anything"));
  assert.ok(chk.canSubscribe(">"));
  assert.ok(chk.canSubscribe("foo", "q"));
  assert.equal(chk.canSubscribe("foo", "_sys_"), false);
  assert.ok(chk.deliverAllowed("x"));
  assert.equal(chk.tracksReplies, false);
});

Deno.test("compiled permissions are shared per Permissions object", () => {
  const p: Permissions = { publish: { allow: ["a"] } };
  assert.equal(compilePermissions(p), compilePermissions(p));
});

Deno.test("helpers: wildcard detection, reserved replies", () => {
  const wc: [string, boolean][] = [
    ["foo", false],
    ["foo.*", true],
    ["*", true],
    [">", true],
    [
      "foo.>",
      true,
    ],
    ["foo*", false],
    ["*foo.bar", false],
    ["a.*.b", true],
  ];
  for (const [s, want] of wc) assert.equal(subjectHasWildcard(s), want, s);
  const rr: [string, boolean][] = [
    ["_R_.x", true],
    ["_R_.", true],
    ["_R_", false],
    [
      "$JS.ACK.x",
      true,
    ],
    ["$JS.ACK.", false],
    ["_GR_.a", true],
    ["_GR_.", false],
    ["_INBOX.x", false],
  ];
  for (const [s, want] of rr) assert.equal(isReservedReply(s), want, s);
  assert.ok(hasGatewayReplyPrefix("_GR_.x"));
  assert.ok(!hasGatewayReplyPrefix("_GR_."));
});

Deno.test("error texts", () => {
  const cases: [string, string][] = [
    [publishViolation("foo"), 'Permissions Violation for Publish to "foo"'],
    [replyViolation("_R_.x"), 'Permissions Violation for Publish with Reply of "_R_.x"'],
    [subscribeViolation("foo.>"), 'Permissions Violation for Subscription to "foo.>"'],
    [
      subscribeViolation("foo", "bar"),
      'Permissions Violation for Subscription to "foo" using queue "bar"',
    ],
    [goQuote('a"b\\c'), '"a\\"b\\\\c"'],
    [goQuote("tab\there"), '"tab\\there"'],
    [goQuote("\x01\x7f"), '"\\x01\\x7f"'],
    [goQuote("héllo"), '"héllo"'],
    [goQuote("\u00a0"), '"\\u00a0"'],
  ];
  for (const [got, want] of cases) assert.equal(got, want);
});
