/**
 * Raw-socket transcripts for every -ERR and silent close of the client protocol. Each case runs
 * against this server and, when `nats-server` is on PATH, against the reference in the same run,
 * so the expected bytes are proven, not guessed.
 */
import { assertEquals } from "../helpers/assert.ts";
import { RawClient, transcript } from "../helpers/raw.ts";
import { withEachServer } from "../helpers/each_server.ts";

interface Case {
  name: string;
  config?: string;
  send: string[];
  /** "pong": a PING is appended and the server must answer (connection stays open). */
  until: "pong" | "close";
  expect: string;
}

const QUIET = 'CONNECT {"verbose":false,"pedantic":false}\r\n';

const CASES: Case[] = [
  {
    name: "unknown op",
    send: ["FOO\r\n"],
    until: "close",
    expect: "-ERR 'Unknown Protocol Operation'\r\n",
  },
  {
    name: "MSG from a client",
    send: [QUIET, "MSG foo 1 2\r\nhi\r\n"],
    until: "close",
    expect: "-ERR 'Unknown Protocol Operation'\r\n",
  },
  {
    name: "PUB without a space",
    send: [QUIET, "PUBfoo 1\r\n"],
    until: "close",
    expect: "-ERR 'Unknown Protocol Operation'\r\n",
  },
  {
    name: "PUB missing size closes silently",
    send: [QUIET, "PUB foo\r\n"],
    until: "close",
    expect: "",
  },
  {
    name: "PUB bad size closes silently",
    send: [QUIET, "PUB foo abc\r\n"],
    until: "close",
    expect: "",
  },
  {
    name: "PUB too many args closes silently",
    send: [QUIET, "PUB a b c 1\r\n"],
    until: "close",
    expect: "",
  },
  {
    name: "SUB missing sid closes silently",
    send: [QUIET, "SUB foo\r\n"],
    until: "close",
    expect: "",
  },
  {
    name: "UNSUB without sid closes silently",
    send: [QUIET, "UNSUB\t \r\n"],
    until: "close",
    expect: "",
  },
  {
    name: "payload not followed by CRLF",
    send: [QUIET, "PUB foo 2\r\nokXX"],
    until: "close",
    expect: "-ERR 'Unknown Protocol Operation'\r\n",
  },
  {
    name: "messages before an error are delivered",
    send: [QUIET, "SUB a 1\r\nPUB a 2\r\nok\r\nBAD\r\n"],
    until: "close",
    expect: "MSG a 1 2\r\nok\r\n-ERR 'Unknown Protocol Operation'\r\n",
  },
  {
    name: "max payload",
    config: "max_payload: 10",
    send: [QUIET, "PUB foo 11\r\n"],
    until: "close",
    expect: "-ERR 'Maximum Payload Violation'\r\n",
  },
  {
    name: "HPUB over max payload",
    config: "max_payload: 10",
    send: ['CONNECT {"verbose":false,"headers":true}\r\n', "HPUB foo 5 11\r\n"],
    until: "close",
    expect: "-ERR 'Maximum Payload Violation'\r\n",
  },
  {
    name: "max control line",
    config: "max_control_line: 10",
    send: [QUIET.replace("CONNECT", "CONNECT"), "SUB aaaaaaaaaaaaaaaaaaaa 1\r\n"],
    until: "close",
    expect: "-ERR 'maximum control line exceeded'\r\n",
  },
  {
    name: "max control line on a split line",
    config: "max_control_line: 10",
    send: [QUIET, "SUB aaaaaaaaaaaaaaaaaaaa"],
    until: "close",
    expect: "-ERR 'maximum control line exceeded'\r\n",
  },
  {
    name: "invalid subject keeps the connection",
    send: [QUIET, "SUB foo..bar 1\r\n"],
    until: "pong",
    expect: "-ERR 'Invalid Subject'\r\nPONG\r\n",
  },
  {
    name: "invalid subject: > not last",
    send: [QUIET, "SUB foo.>.bar 1\r\n"],
    until: "pong",
    expect: "-ERR 'Invalid Subject'\r\nPONG\r\n",
  },
  {
    name: "pedantic invalid publish subject still routes",
    send: ['CONNECT {"verbose":false,"pedantic":true}\r\n', "SUB foo.* 1\r\nPUB foo.* 2\r\nhi\r\n"],
    until: "pong",
    expect: "-ERR 'Invalid Publish Subject'\r\nMSG foo.* 1 2\r\nhi\r\nPONG\r\n",
  },
  {
    name: "CONNECT {} is verbose",
    send: ["CONNECT {}\r\n", "SUB a 1\r\nUNSUB 99\r\n"],
    until: "pong",
    expect: "+OK\r\n+OK\r\n+OK\r\nPONG\r\n",
  },
  {
    name: "CONNECT with bad JSON closes silently",
    send: ["CONNECT bad\r\n"],
    until: "close",
    expect: "",
  },
  {
    name: "CONNECT with a wrongly typed field closes silently",
    send: ['CONNECT {"verbose":"yes"}\r\n'],
    until: "close",
    expect: "",
  },
  {
    name: "invalid client protocol",
    send: ['CONNECT {"verbose":false,"protocol":2}\r\n'],
    until: "close",
    expect: "-ERR 'invalid client protocol'\r\n",
  },
  {
    name: "no_responders needs headers",
    send: ['CONNECT {"verbose":false,"no_responders":true}\r\n'],
    until: "close",
    expect: "-ERR 'no responders requires headers support'\r\n",
  },
  {
    name: "HPUB without headers closes silently",
    send: [QUIET, "HPUB foo 12 14\r\nNATS/1.0\r\n\r\nhi\r\n"],
    until: "close",
    expect: "",
  },
  {
    name: "HPUB header size above total closes silently",
    send: ['CONNECT {"verbose":false,"headers":true}\r\n', "HPUB foo 14 12\r\n"],
    until: "close",
    expect: "",
  },
  {
    name: "max subscriptions keeps the connection",
    config: "max_subscriptions: 1",
    send: [QUIET, "SUB a 1\r\nSUB b 2\r\n"],
    until: "pong",
    expect: "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n",
  },
  {
    name: "-ERR from the client closes silently",
    send: [QUIET, "-ERR 'oops'\r\n"],
    until: "close",
    expect: "",
  },
  {
    name: "auth required: first op must be CONNECT",
    config: "authorization { token: abc }",
    send: ["SUB foo 1\r\n"],
    until: "close",
    expect: "-ERR 'Authorization Violation'\r\n",
  },
  {
    name: "auth required: wrong token",
    config: "authorization { token: abc }",
    send: ['CONNECT {"verbose":false,"auth_token":"x"}\r\n'],
    until: "close",
    expect: "-ERR 'Authorization Violation'\r\n",
  },
  {
    name: "auth required: right token",
    config: "authorization { token: abc }",
    send: ['CONNECT {"verbose":false,"auth_token":"abc"}\r\n'],
    until: "pong",
    expect: "PONG\r\n",
  },
  {
    name: "auth timeout",
    config: "authorization { token: abc, timeout: 0.3 }",
    send: [],
    until: "close",
    expect: "-ERR 'Authentication Timeout'\r\n",
  },
  {
    name: "CONNECT with account field is an auth violation",
    send: ['CONNECT {"verbose":false,"account":"A"}\r\n'],
    until: "close",
    expect: "-ERR 'Authorization Violation'\r\n",
  },
  {
    name: "no responders exact bytes",
    send: [
      'CONNECT {"verbose":false,"headers":true,"no_responders":true}\r\n',
      "SUB inbox.1 7\r\nPUB svc inbox.1 2\r\nhi\r\n",
    ],
    until: "pong",
    expect: "HMSG inbox.1 7 16 16\r\nNATS/1.0 503\r\n\r\n\r\nPONG\r\n",
  },
  {
    name: "ping with junk",
    send: ["PING extra junk\r\n"],
    until: "pong",
    expect: "PONG\r\nPONG\r\n",
  },
  {
    name: "stale connection",
    config: 'ping_interval: "300ms"\nping_max: 1',
    send: [QUIET],
    until: "close",
    expect: "PING\r\n-ERR 'Stale Connection'\r\n",
  },
];

async function runCase(port: number, c: Case): Promise<{ text: string; closed: boolean }> {
  // Wait for as many PONGs as the case expects (its own PINGs answer too); a missing one times out.
  const pongs = c.expect.split("PONG\r\n").length - 1;
  const r = await transcript(port, c.send, c.until, 8000, Math.max(1, pongs));
  return { text: r.text, closed: r.closed };
}

for (const c of CASES) {
  Deno.test(`transcript: ${c.name}`, () =>
    withEachServer(c.config ?? "", async (name, port) => {
      const got = await runCase(port, c);
      assertEquals(got, { text: c.expect, closed: c.until === "close" }, name);
    }));
}

Deno.test("transcript: maximum connections exceeded", () =>
  withEachServer("max_connections: 1", async (name, port) => {
    const first = await RawClient.connect(port);
    try {
      await first.info();
      // nats-server writes INFO before it counts the client (its read loop starts after), so a
      // PONG is what shows the first connection is counted; without it a second connection made
      // right after INFO can slip in under load and get no error.
      await first.send(`${QUIET}PING\r\n`);
      await first.readUntil((t) => t.includes("PONG\r\n"));
      const r = await transcript(port, [], "close");
      assertEquals({ text: r.text, closed: r.closed }, {
        text: "-ERR 'maximum connections exceeded'\r\n",
        closed: true,
      }, name);
    } finally {
      first.close();
    }
  }));

Deno.test("transcript: the server PINGs once soon after CONNECT (RTT), like nats-server", () =>
  withEachServer("", async (name, port) => {
    const c = await RawClient.connect(port);
    try {
      await c.info();
      await c.send(QUIET);
      // The first ping timer is min(ping_interval, 2s) + up to 20%: well within 5 s.
      await c.readUntil((t) => t.includes("PING\r\n"), 5000);
      assertEquals(c.text, "PING\r\n", name);
      c.text = "";
      await c.send("PONG\r\nPING\r\n");
      await c.readUntil((t) => t.includes("PONG\r\n"));
      assertEquals(c.text, "PONG\r\n", name);
    } finally {
      c.close();
    }
  }));

Deno.test("transcript: HPUB reaches a non-header subscriber as MSG with the headers stripped", () =>
  withEachServer("", async (name, port) => {
    const plain = await RawClient.connect(port);
    const withHeaders = await RawClient.connect(port);
    try {
      await plain.info();
      await withHeaders.info();
      await plain.send('CONNECT {"verbose":false,"headers":false}\r\nSUB h 1\r\nPING\r\n');
      await plain.readUntil((t) => t.includes("PONG\r\n"));
      plain.text = "";
      await withHeaders.send(
        'CONNECT {"verbose":false,"headers":true}\r\nSUB h 2\r\n' +
          "HPUB h 18 20\r\nNATS/1.0\r\nA: b\r\n\r\nhi\r\nPING\r\n",
      );
      await withHeaders.readUntil((t) => t.includes("PONG\r\n"));
      assertEquals(
        withHeaders.text,
        "HMSG h 2 18 20\r\nNATS/1.0\r\nA: b\r\n\r\nhi\r\nPONG\r\n",
        name,
      );
      await plain.send("PING\r\n");
      await plain.readUntil((t) => t.includes("PONG\r\n"));
      assertEquals(plain.text, "MSG h 1 2\r\nhi\r\nPONG\r\n", name);
    } finally {
      plain.close();
      withHeaders.close();
    }
  }));
