/**
 * Accounts end to end over raw TCP: subject isolation, stream imports (prefix, `to`, wildcard
 * transforms) and service imports (request header, `_R_` reply mapping, singleton and stream
 * response types, no responders), plus the startup errors for imports the reference refuses.
 * Every scenario runs against this server and, when `nats-server` is on PATH, against the
 * reference in the same run; both must produce the expected transcripts.
 */
import { assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";

interface Step {
  /** Connection name. */
  c: string;
  /** Protocol to send; a function sees every connection's transcript so far. */
  send: string | ((t: Record<string, string>) => string);
}

interface Scenario {
  name: string;
  config: string;
  /** Connection name → CONNECT fields. */
  conns: Record<string, Record<string, unknown>>;
  steps: Step[];
  /** Normalized transcripts (sync PONGs removed) per connection. */
  expect: Record<string, string>;
}

const ACCOUNTS = `
authorization { users: [ { user: g, password: g } ] }
accounts {
  A {
    users: [ { user: a, password: a }, { user: a2, password: a2 } ]
    exports: [
      { stream: "foo.>" }
      { stream: "lit" }
      { stream: "ev.*.x" }
      { service: "svc.*" }
      { service: "stream.svc", response_type: stream }
      { service: "plain.svc" }
      { service: "none.svc" }
    ]
  }
  B {
    users: [ { user: b, password: b }, { user: b2, password: b2 } ]
    imports: [
      { stream: { account: A, subject: "foo.>" }, prefix: p }
      { stream: { account: A, subject: "lit" }, to: mapped }
      { stream: { account: A, subject: "ev.*.x" }, to: "mine.*" }
      { service: { account: A, subject: "svc.*" }, to: "req.*" }
      { service: { account: A, subject: "stream.svc" } }
      { service: { account: A, subject: "plain.svc" } }
      { service: { account: A, subject: "none.svc" } }
    ]
  }
  C { users: [ { user: c, password: c } ] }
}`;

const user = (u: string, extra: Record<string, unknown> = {}) => ({ user: u, pass: u, ...extra });
const HDRS = { headers: true, no_responders: true };

/** The `_R_` reply of the last request `conn` received. */
function lastReply(t: string): string {
  const all = [...t.matchAll(/ (_R_\.[A-Za-z0-9]+\.[A-Za-z0-9]+) /g)];
  if (all.length === 0) throw new Error(`no _R_ reply in ${JSON.stringify(t)}`);
  return all[all.length - 1][1];
}

const SCENARIOS: Scenario[] = [
  {
    name: "accounts isolate subject spaces",
    config: ACCOUNTS,
    conns: { a: user("a"), b: user("b"), g: user("g"), c: user("c") },
    steps: [
      { c: "a", send: "SUB foo 1\r\n" },
      { c: "b", send: "SUB foo 1\r\n" },
      { c: "g", send: "SUB foo 1\r\n" },
      { c: "c", send: "SUB foo 1\r\n" },
      { c: "a", send: "PUB foo 6\r\nfrom-a\r\n" },
      { c: "b", send: "PUB foo 6\r\nfrom-b\r\n" },
      { c: "g", send: "PUB foo 6\r\nfrom-g\r\n" },
      { c: "c", send: "PUB foo 6\r\nfrom-c\r\n" },
    ],
    expect: {
      a: "MSG foo 1 6\r\nfrom-a\r\n",
      b: "MSG foo 1 6\r\nfrom-b\r\n",
      g: "MSG foo 1 6\r\nfrom-g\r\n",
      c: "MSG foo 1 6\r\nfrom-c\r\n",
    },
  },
  {
    name: "stream imports: prefix, to, wildcard transform, queue groups",
    config: ACCOUNTS,
    conns: { a: user("a"), b: user("b"), b2: user("b2"), c: user("c") },
    steps: [
      { c: "b", send: "SUB p.> 1\r\nSUB mapped 2\r\nSUB mine.* 3\r\nSUB foo.> 4\r\n" },
      { c: "b2", send: "SUB > 9\r\nSUB p.foo.q grp 8\r\n" },
      { c: "c", send: "SUB > 1\r\n" },
      { c: "a", send: "SUB foo.> 1\r\n" },
      {
        c: "a",
        send: "PUB foo.bar 2\r\nhi\r\nPUB lit 1\r\nx\r\nPUB ev.q.x 2\r\nev\r\n" +
          "PUB ev.q.y 2\r\nno\r\nPUB foo.q 1\r\nq\r\nPUB other 1\r\nz\r\n",
      },
      // What B publishes on the exporter's subjects stays in B.
      { c: "b", send: "PUB foo.local 1\r\nl\r\n" },
    ],
    expect: {
      a: "MSG foo.bar 1 2\r\nhi\r\nMSG foo.q 1 1\r\nq\r\n",
      b: "MSG p.foo.bar 1 2\r\nhi\r\nMSG mapped 2 1\r\nx\r\nMSG mine.q 3 2\r\nev\r\n" +
        "MSG p.foo.q 1 1\r\nq\r\nMSG foo.local 4 1\r\nl\r\n",
      b2: "MSG p.foo.bar 9 2\r\nhi\r\nMSG mapped 9 1\r\nx\r\nMSG mine.q 9 2\r\nev\r\n" +
        "MSG p.foo.q 9 1\r\nq\r\nMSG p.foo.q 8 1\r\nq\r\nMSG foo.local 9 1\r\nl\r\n",
      c: "",
    },
  },
  {
    name: "service import: request header, _R_ reply mapping, singleton response",
    config: ACCOUNTS,
    conns: { a: user("a", HDRS), b: user("b", HDRS) },
    steps: [
      { c: "a", send: "SUB svc.* 1\r\n" },
      { c: "b", send: "SUB _INBOX.> 9\r\n" },
      { c: "b", send: "PUB req.x _INBOX.1 3\r\nreq\r\n" },
      {
        c: "a",
        send: (t) => `PUB ${lastReply(t.a)} 4\r\nresp\r\nPUB ${lastReply(t.a)} 5\r\nresp2\r\n`,
      },
      { c: "b", send: "HPUB req.y _INBOX.2 20 23\r\nNATS/1.0\r\nX-A: 1\r\n\r\nabc\r\n" },
      { c: "a", send: (t) => `HPUB ${lastReply(t.a)} 22 24\r\nNATS/1.0\r\nX-Re: ok\r\n\r\nr2\r\n` },
      { c: "b", send: "PUB req.z 5\r\nnoreq\r\n" },
      // The exporter's own subjects are not reachable from B without the import mapping.
      { c: "b", send: "PUB svc.x _INBOX.3 1\r\nd\r\n" },
    ],
    expect: {
      a: 'HMSG svc.x 1 _R_ H T\r\nNATS/1.0\r\nNats-Request-Info: {"acc":"B","rtt":N}\r\n\r\nreq\r\n' +
        'HMSG svc.y 1 _R_ H T\r\nNATS/1.0\r\nX-A: 1\r\nNats-Request-Info: {"acc":"B","rtt":N}\r\n\r\nabc\r\n' +
        'HMSG svc.z 1 H T\r\nNATS/1.0\r\nNats-Request-Info: {"acc":"B","rtt":N}\r\n\r\nnoreq\r\n',
      b: "MSG _INBOX.1 9 4\r\nresp\r\nHMSG _INBOX.2 9 22 24\r\nNATS/1.0\r\nX-Re: ok\r\n\r\nr2\r\n" +
        "HMSG _INBOX.3 9 16 16\r\nNATS/1.0 503\r\n\r\n\r\n",
    },
  },
  {
    name: "service import: stream responses until an empty message; headers stripped",
    config: ACCOUNTS,
    conns: { a: user("a", HDRS), a2: user("a2"), b: user("b", HDRS) },
    steps: [
      { c: "a", send: "SUB stream.svc 1\r\n" },
      { c: "a2", send: "SUB plain.svc 1\r\n" },
      { c: "b", send: "SUB _INBOX.> 9\r\n" },
      { c: "b", send: "PUB stream.svc _INBOX.1 1\r\nS\r\n" },
      {
        c: "a",
        send: (t) => {
          const r = lastReply(t.a);
          return `PUB ${r} 2\r\nr1\r\nPUB ${r} 2\r\nr2\r\nPUB ${r} 0\r\n\r\nPUB ${r} 2\r\nr4\r\n`;
        },
      },
      // A responder without header support gets the request without the header.
      { c: "b", send: "PUB plain.svc _INBOX.2 3\r\nreq\r\n" },
      { c: "a2", send: (t) => `PUB ${lastReply(t.a2)} 2\r\nok\r\n` },
    ],
    expect: {
      a: 'HMSG stream.svc 1 _R_ H T\r\nNATS/1.0\r\nNats-Request-Info: {"acc":"B","rtt":N}\r\n\r\nS\r\n',
      a2: "MSG plain.svc 1 _R_ 3\r\nreq\r\n",
      b: "MSG _INBOX.1 9 2\r\nr1\r\nMSG _INBOX.1 9 2\r\nr2\r\nMSG _INBOX.1 9 0\r\n\r\n" +
        "MSG _INBOX.2 9 2\r\nok\r\n",
    },
  },
  {
    name: "service import without a responder: no 503 for the requester",
    config: ACCOUNTS,
    conns: { b: user("b", HDRS) },
    steps: [
      { c: "b", send: "SUB _INBOX.> 9\r\n" },
      { c: "b", send: "PUB none.svc _INBOX.1 1\r\nx\r\n" },
      { c: "b", send: "PUB nothing.here _INBOX.2 1\r\nx\r\n" },
    ],
    expect: { b: "HMSG _INBOX.2 9 16 16\r\nNATS/1.0 503\r\n\r\n\r\n" },
  },
];

const CHAIN = `
accounts {
  A { users: [ { user: a, password: a } ], exports: [ { service: "svc" } ] }
  B {
    users: [ { user: b, password: b } ]
    exports: [ { service: "svc" } ]
    imports: [ { service: { account: A, subject: "svc" } } ]
  }
  C { users: [ { user: c, password: c } ], imports: [ { service: { account: B, subject: "svc" } } ] }
}`;

SCENARIOS.push({
  name: "chained service imports C → B → A: svc in the header, response back through both",
  config: CHAIN,
  conns: { a: user("a", HDRS), b: user("b", HDRS), c: user("c", HDRS) },
  steps: [
    { c: "a", send: "SUB svc 1\r\n" },
    { c: "b", send: "SUB svc 1\r\n" },
    { c: "c", send: "SUB _INBOX.> 9\r\n" },
    { c: "c", send: "PUB svc _INBOX.1 3\r\nreq\r\n" },
    { c: "a", send: (t) => `PUB ${lastReply(t.a)} 6\r\nfrom-a\r\n` },
    { c: "c", send: "PUB svc _INBOX.2 4\r\nreq2\r\n" },
    { c: "b", send: (t) => `PUB ${lastReply(t.b)} 6\r\nfrom-b\r\n` },
  ],
  expect: {
    a: 'HMSG svc 1 _R_ H T\r\nNATS/1.0\r\nNats-Request-Info: {"acc":"C","svc":"B","rtt":N}\r\n\r\nreq\r\n' +
      'HMSG svc 1 _R_ H T\r\nNATS/1.0\r\nNats-Request-Info: {"acc":"C","svc":"B","rtt":N}\r\n\r\nreq2\r\n',
    b: 'HMSG svc 1 _R_ H T\r\nNATS/1.0\r\nNats-Request-Info: {"acc":"C","rtt":N}\r\n\r\nreq\r\n' +
      'HMSG svc 1 _R_ H T\r\nNATS/1.0\r\nNats-Request-Info: {"acc":"C","rtt":N}\r\n\r\nreq2\r\n',
    c: "MSG _INBOX.1 9 6\r\nfrom-a\r\nMSG _INBOX.2 9 6\r\nfrom-b\r\n",
  },
});

/** Replaces what legitimately differs between runs: `_R_` ids, rtt and sizes around them. */
function normalize(t: string): string {
  return t
    .replace(/^PONG\r\n/gm, "")
    .replace(/"rtt":\d+/g, '"rtt":N')
    .replace(
      /^(HMSG \S+ \S+ (?:_R_\S+ )?)\d+ \d+(\r\nNATS\/1\.0\r\n(?:[^\r\n]+\r\n)*?Nats-Request-Info)/gm,
      "$1H T$2",
    )
    .replace(/_R_\.[A-Za-z0-9]+\.[A-Za-z0-9]+/g, "_R_");
}

async function runScenario(port: number, s: Scenario): Promise<Record<string, string>> {
  const conns: Record<string, RawClient> = {};
  try {
    for (const [name, fields] of Object.entries(s.conns)) {
      const c = await RawClient.connect(port);
      conns[name] = c;
      await c.info();
      await c.send(
        `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, ...fields })}\r\nPING\r\n`,
      );
      await c.readUntil((t) => t.endsWith("PONG\r\n"));
      if (c.closed) throw new Error(`${name} closed: ${c.text}`);
      c.text = "";
    }
    const ping = async (c: RawClient) => {
      const n = c.text.split("PONG\r\n").length;
      await c.send("PING\r\n");
      await c.readUntil((t) => t.split("PONG\r\n").length > n);
    };
    for (const step of s.steps) {
      const texts = Object.fromEntries(Object.entries(conns).map(([k, c]) => [k, c.text]));
      const data = typeof step.send === "string" ? step.send : step.send(texts);
      const sender = conns[step.c];
      await sender.send(data);
      // The sender's PONG means the server has processed (and routed) what it sent; after
      // that, a PONG on another connection comes after everything queued for it before.
      await ping(sender);
      for (const c of Object.values(conns)) if (c !== sender) await ping(c);
    }
    return Object.fromEntries(Object.entries(conns).map(([k, c]) => [k, normalize(c.text)]));
  } finally {
    for (const c of Object.values(conns)) c.close();
  }
}

for (const s of SCENARIOS) {
  Deno.test(`accounts e2e: ${s.name}`, async (t) => {
    await t.step("ours", async () => {
      const srv = await startOurs(s.config);
      try {
        assertEquals(await runScenario(srv.port, s), s.expect);
      } finally {
        await srv.stop();
      }
    });
    await t.step({
      name: "nats-server",
      ignore: !haveNatsServer(),
      fn: async () => {
        const ref = await startReference(s.config);
        try {
          assertEquals(await runScenario(ref.port, s), s.expect);
        } finally {
          await ref.stop();
        }
      },
    });
  });
}

// ---- startup errors --------------------------------------------------------------------------

interface StartupCase {
  name: string;
  config: string;
  /** Error lines without the `nats-server: ` and `<file>:L:C: ` prefixes. */
  errors: string[];
}

const STARTUP: StartupCase[] = [
  {
    name: "import of a subject that is not exported, and from an account not in the list",
    config: `accounts {
  A { users [{user: a, password: a}], exports [{stream: "foo"}, {service: "svc", accounts: [C]}] }
  B { users [{user: b, password: b}], imports [
    {stream: {account: A, subject: "bar"}, prefix: "p"}
    {service: {account: A, subject: "svc"}}
  ] }
  C { users [{user: c, password: c}], imports [{service: {account: A, subject: "svc"}}] }
}`,
    errors: [
      'Error adding stream import "bar": stream import not authorized',
      'Error adding service import "svc": service import not authorized',
    ],
  },
  {
    name: "import from an undefined account",
    config: `accounts {
  B { users [{user: b, password: b}], imports [{stream: {account: Z, subject: "x"}}, {service: {account: Z, subject: "y"}}] }
}`,
    errors: [
      '"Z" account not defined for stream import',
      '"Z" account not defined for service import',
    ],
  },
  {
    name: "import cycles",
    config: `accounts {
  A { users [{user: a, password: a}], exports [{stream: "foo"}, {service: "svc"}], imports [{stream: {account: B, subject: "foo"}}, {service: {account: B, subject: "svc"}}] }
  B { users [{user: b, password: b}], exports [{stream: "foo"}, {service: "svc"}], imports [{stream: {account: A, subject: "foo"}}, {service: {account: A, subject: "svc"}}] }
}`,
    errors: [
      'Error adding stream import "foo": import forms a cycle',
      'Error adding service import "svc": import forms a cycle',
    ],
  },
  {
    name: "subject mappings that do not use every wildcard",
    config: `accounts {
  A { users [{user: a, password: a}], exports [{stream: "foo.*"}, {service: "svc.*"}] }
  B { users [{user: b, password: b}], imports [{stream: {account: A, subject: "foo.*"}, to: "bar"}, {service: {account: A, subject: "svc.*"}, to: "x.y"}] }
}`,
    errors: [
      'Error adding stream import "foo.*": failed to create mapping transform for stream import subject "foo.*" to "bar": invalid mapping destination: not using all of the token wildcard(s) in bar',
      'Error adding service import "svc.*": failed to create mapping transform for service import subject "x.y" to "svc.*": invalid mapping destination: not using all of the token wildcard(s) in x.y',
    ],
  },
];

/** Runs a server binary on a config file; returns exit code and stderr error lines. */
async function startupErrors(
  cmd: string[],
  file: string,
): Promise<{ code: number; lines: string[] }> {
  const child = new Deno.Command(cmd[0], {
    args: [...cmd.slice(1), "-c", file, "-a", "127.0.0.1", "-p", "-1"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  const out = await child.output().finally(() => clearTimeout(timer));
  const text = new TextDecoder().decode(out.stderr);
  const lines = text.split("\n").map((l) =>
    l.replace(/^nats-server: /, "").replace(/^\S+:\d+:\d+: /, "")
  )
    .filter((l) => l.trim() !== "");
  return { code: out.code, lines };
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

for (const c of STARTUP) {
  Deno.test(`accounts startup: ${c.name}`, async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "acctstart" });
    const file = `${dir}/nats.conf`;
    await Deno.writeTextFile(file, c.config);
    try {
      await t.step("ours refuses to start", async () => {
        const r = await startupErrors([Deno.execPath(), "run", "-A", MAIN], file);
        assertEquals(r, { code: 1, lines: c.errors });
      });
      await t.step({
        name: "nats-server refuses to start",
        ignore: !haveNatsServer(),
        fn: async () => {
          const r = await startupErrors(["nats-server"], file);
          assertEquals(r, { code: 1, lines: c.errors });
        },
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
