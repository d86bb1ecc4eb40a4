/**
 * The auth matrix: every mechanism × right / wrong / missing credentials × TCP and WebSocket,
 * as raw protocol transcripts. Each row states the reference's exact outcome (bytes after INFO,
 * whether the connection closed, the WebSocket close code, INFO's auth_required/nonce); the
 * same rows run against `nats-server` in the same run when it is on PATH, which proves them.
 *
 * The WebSocket column needs `websocket { listen: "127.0.0.1:-1", no_tls: true }` to give a
 * listener; when this server cannot do that yet the column is skipped with a printed reason.
 */
import { createUser, type KeyPair } from "@nats-io/nkeys";
import bcrypt from "bcryptjs";
import { assertEquals } from "../helpers/assert.ts";
import { dial, type RawConn, type Transport } from "../helpers/conn.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";

const wsBlock = (extra = "") =>
  `websocket {\n  listen: "127.0.0.1:-1"\n  no_tls: true\n  ${extra}\n}`;
const VIOLATION = "-ERR 'Authorization Violation'\r\n";
/** Close status the reference sends with an auth failure over WebSocket. */
const WS_POLICY = 1008;

/** What a row must produce. */
interface Outcome {
  text: string;
  closed: boolean;
}
const OK: Outcome = { text: "PONG\r\n", closed: false };
const DENIED: Outcome = { text: VIOLATION, closed: true };

interface Row {
  name: string;
  /** CONNECT fields (merged over verbose/pedantic false); null sends no CONNECT at all. */
  connect: ((info: Record<string, unknown>) => Record<string, unknown>) | null;
  /** Protocol sent after CONNECT, before the final PING. */
  then?: string;
  /** One outcome for both transports, or one per transport. */
  expect: Outcome | Record<Transport, Outcome>;
}

interface Mechanism {
  name: string;
  config: string;
  /** Extra settings inside the `websocket { }` block. */
  ws?: string;
  /** INFO auth_required per transport (undefined = absent). */
  authRequired: Record<Transport, boolean | undefined>;
  nonce?: boolean;
  rows: Row[];
}

const enc = new TextEncoder();

function signNonce(kp: KeyPair, info: Record<string, unknown>): string {
  const sig = kp.sign(enc.encode(String(info.nonce ?? "")));
  return sig.toBase64({ alphabet: "base64url", omitPadding: true });
}

const bcryptPw = bcrypt.hashSync("b-secret", 11);
const bcryptBob = bcrypt.hashSync("bob-pw", 11);
const nkeyUser = createUser();
const impostor = createUser();
const nkeyPub = nkeyUser.getPublicKey();

const creds = (f: Record<string, unknown>) => () => f;

const MECHANISMS: Mechanism[] = [
  {
    name: "token",
    config: 'authorization { token: "s3cr3t" }',
    authRequired: { tcp: true, ws: true },
    rows: [
      { name: "right token", connect: creds({ auth_token: "s3cr3t" }), expect: OK },
      { name: "wrong token", connect: creds({ auth_token: "nope" }), expect: DENIED },
      { name: "missing token", connect: creds({}), expect: DENIED },
      {
        name: "user/pass instead of token",
        connect: creds({ user: "s3cr3t", pass: "s3cr3t" }),
        expect: DENIED,
      },
      { name: "PING before CONNECT", connect: null, expect: DENIED },
    ],
  },
  {
    name: "user/password (plain)",
    config: 'authorization { user: alice, password: "pw1" }',
    authRequired: { tcp: true, ws: true },
    rows: [
      { name: "right", connect: creds({ user: "alice", pass: "pw1" }), expect: OK },
      { name: "wrong password", connect: creds({ user: "alice", pass: "pw2" }), expect: DENIED },
      { name: "wrong user", connect: creds({ user: "bob", pass: "pw1" }), expect: DENIED },
      { name: "missing", connect: creds({}), expect: DENIED },
    ],
  },
  {
    name: "user/password (bcrypt cost 11)",
    config: `authorization { user: alice, password: "${bcryptPw}" }`,
    authRequired: { tcp: true, ws: true },
    rows: [
      { name: "right", connect: creds({ user: "alice", pass: "b-secret" }), expect: OK },
      {
        name: "wrong password",
        connect: creds({ user: "alice", pass: "b-secreT" }),
        expect: DENIED,
      },
      {
        name: "the hash as password",
        connect: creds({ user: "alice", pass: bcryptPw }),
        expect: DENIED,
      },
      { name: "missing", connect: creds({}), expect: DENIED },
    ],
  },
  {
    name: "users list",
    config: `authorization { users: [
      { user: alice, password: "a1" }
      { user: bob, password: "${bcryptBob}" }
    ] }`,
    authRequired: { tcp: true, ws: true },
    rows: [
      { name: "alice right", connect: creds({ user: "alice", pass: "a1" }), expect: OK },
      { name: "bob right (bcrypt)", connect: creds({ user: "bob", pass: "bob-pw" }), expect: OK },
      {
        name: "bob with alice's password",
        connect: creds({ user: "bob", pass: "a1" }),
        expect: DENIED,
      },
      { name: "unknown user", connect: creds({ user: "carol", pass: "a1" }), expect: DENIED },
      { name: "missing", connect: creds({}), expect: DENIED },
    ],
  },
  {
    name: "nkey",
    config: `authorization { users: [ { nkey: ${nkeyPub} } ] }`,
    authRequired: { tcp: true, ws: true },
    nonce: true,
    rows: [
      {
        name: "signed nonce",
        connect: (info) => ({ nkey: nkeyPub, sig: signNonce(nkeyUser, info) }),
        expect: OK,
      },
      {
        name: "nonce signed by another key",
        connect: (info) => ({ nkey: nkeyPub, sig: signNonce(impostor, info) }),
        expect: DENIED,
      },
      {
        name: "unknown nkey with its own signature",
        connect: (info) => ({ nkey: impostor.getPublicKey(), sig: signNonce(impostor, info) }),
        expect: DENIED,
      },
      { name: "nkey without signature", connect: creds({ nkey: nkeyPub }), expect: DENIED },
      { name: "missing", connect: creds({}), expect: DENIED },
    ],
  },
  {
    name: "no_auth_user",
    config:
      `authorization { users: [ { user: alice, password: "a1" }, { user: bob, password: "b1" } ] }
no_auth_user: alice`,
    authRequired: { tcp: undefined, ws: true },
    rows: [
      { name: "no credentials binds alice", connect: creds({}), expect: OK },
      { name: "no CONNECT at all binds alice", connect: null, expect: OK },
      { name: "explicit bob", connect: creds({ user: "bob", pass: "b1" }), expect: OK },
      { name: "wrong password", connect: creds({ user: "bob", pass: "a1" }), expect: DENIED },
      { name: "unknown user", connect: creds({ user: "carol", pass: "x" }), expect: DENIED },
      { name: "token is not a fill-in", connect: creds({ auth_token: "t" }), expect: DENIED },
    ],
  },
  {
    name: "allowed_connection_types",
    config: `authorization { users: [
      { user: std, password: s, allowed_connection_types: ["STANDARD"] }
      { user: web, password: w, allowed_connection_types: ["websocket"] }
      { user: both, password: b, allowed_connection_types: ["Standard", "WebSocket"] }
      { user: leaf, password: l, allowed_connection_types: ["LEAFNODE"] }
    ] }`,
    authRequired: { tcp: true, ws: true },
    rows: [
      {
        name: "STANDARD user",
        connect: creds({ user: "std", pass: "s" }),
        expect: { tcp: OK, ws: DENIED },
      },
      {
        name: "websocket user",
        connect: creds({ user: "web", pass: "w" }),
        expect: { tcp: DENIED, ws: OK },
      },
      { name: "both types (mixed case)", connect: creds({ user: "both", pass: "b" }), expect: OK },
      { name: "LEAFNODE only user", connect: creds({ user: "leaf", pass: "l" }), expect: DENIED },
      {
        name: "allowed type, wrong password",
        connect: creds({ user: "std", pass: "x" }),
        expect: DENIED,
      },
      { name: "missing", connect: creds({}), expect: DENIED },
    ],
  },
  {
    name: "websocket authorization override",
    config: 'authorization { token: "tcp-tok" }',
    ws: 'authorization { user: wsuser, password: "ws-pw" }',
    authRequired: { tcp: true, ws: true },
    rows: [
      {
        name: "top-level token",
        connect: creds({ auth_token: "tcp-tok" }),
        expect: { tcp: OK, ws: DENIED },
      },
      {
        name: "websocket user",
        connect: creds({ user: "wsuser", pass: "ws-pw" }),
        expect: { tcp: DENIED, ws: OK },
      },
      {
        name: "websocket user, wrong password",
        connect: creds({ user: "wsuser", pass: "x" }),
        expect: DENIED,
      },
      { name: "missing", connect: creds({}), expect: DENIED },
    ],
  },
  {
    name: "permissions",
    config: `authorization { users: [
      { user: p, password: p, permissions: { publish: { deny: "x" }, subscribe: { deny: "x" } } }
      { user: q, password: q, permissions: { publish: ["y"], subscribe: ["y", "z.*"] } }
    ] }`,
    authRequired: { tcp: true, ws: true },
    rows: [
      {
        name: "publish to a denied subject",
        connect: creds({ user: "p", pass: "p" }),
        then: "PUB x 2\r\nhi\r\n",
        expect: {
          text: `-ERR 'Permissions Violation for Publish to "x"'\r\nPONG\r\n`,
          closed: false,
        },
      },
      {
        name: "subscribe to a denied subject",
        connect: creds({ user: "p", pass: "p" }),
        then: "SUB x 1\r\n",
        expect: {
          text: `-ERR 'Permissions Violation for Subscription to "x"'\r\nPONG\r\n`,
          closed: false,
        },
      },
      {
        name: "allowed publish and subscribe",
        connect: creds({ user: "p", pass: "p" }),
        then: "SUB w 1\r\nPUB w 2\r\nok\r\n",
        expect: { text: "MSG w 1 2\r\nok\r\nPONG\r\n", closed: false },
      },
      {
        name: "publish outside the allow list",
        connect: creds({ user: "q", pass: "q" }),
        then: "PUB z 0\r\n\r\nPUB y 0\r\n\r\n",
        expect: {
          text: `-ERR 'Permissions Violation for Publish to "z"'\r\nPONG\r\n`,
          closed: false,
        },
      },
      {
        // `z.>` passes: the reference matches the SUB subject against the allow list as if it
        // were literal, and `z.*` matches the token ">".
        name: "subscribe outside the allow list; queue and `z.>` pass",
        connect: creds({ user: "q", pass: "q" }),
        then: "SUB z 1\r\nSUB z.a grp 2\r\nSUB z.> 3\r\n",
        expect: {
          text: `-ERR 'Permissions Violation for Subscription to "z"'\r\nPONG\r\n`,
          closed: false,
        },
      },
      { name: "wrong password", connect: creds({ user: "p", pass: "q" }), expect: DENIED },
    ],
  },
];

interface Target {
  name: string;
  port: number;
  wsPort?: number;
  stop(): Promise<void>;
}

/** Starts ours with a WebSocket listener when it can; `wsSkip` says why not otherwise. */
async function startOursWithWs(
  config: string,
  ws?: string,
): Promise<{ target: Target; wsSkip?: string }> {
  try {
    const s = await startOurs(`${config}\n${wsBlock(ws)}`);
    const target = { name: "ours", port: s.port, wsPort: s.wsPort, stop: s.stop };
    if (s.wsPort === undefined) {
      return { target, wsSkip: "our server started without a websocket listener" };
    }
    return { target };
  } catch (err) {
    if (!/not (yet )?(available|supported|implemented)/i.test(String(err))) throw err;
    const s = await startOurs(config);
    return {
      target: { name: "ours", port: s.port, stop: s.stop },
      wsSkip: `websocket not available in our server: ${err}`,
    };
  }
}

async function runRow(
  port: number,
  transport: Transport,
  row: Row,
): Promise<{ info: Record<string, unknown>; text: string; closed: boolean; code?: number }> {
  const c: RawConn = await dial(transport, port);
  try {
    const info = await c.info();
    let out = "";
    if (row.connect) {
      const fields = { verbose: false, pedantic: false, ...row.connect(info) };
      out += `CONNECT ${JSON.stringify(fields)}\r\n`;
    }
    out += (row.then ?? "") + "PING\r\n";
    await c.send(out);
    await c.readUntil((t) => t.endsWith("PONG\r\n"));
    // A denied connection must also be closed: wait for it (bounded).
    if (!c.closed && !c.text.endsWith("PONG\r\n")) await c.readUntil(() => false);
    if (c.text.startsWith(VIOLATION) && !c.closed) await c.readUntil(() => false);
    return { info, text: c.text, closed: c.closed, code: c.closeCode };
  } finally {
    await c.dispose();
  }
}

let wsNotice = false;

for (const mech of MECHANISMS) {
  Deno.test(`auth matrix: ${mech.name}`, async (t) => {
    const targets: { target: Target; wsSkip?: string }[] = [
      await startOursWithWs(mech.config, mech.ws),
    ];
    if (haveNatsServer()) {
      const r = await startReference(`${mech.config}\n${wsBlock(mech.ws)}`);
      targets.push({
        target: { name: "nats-server", port: r.port, wsPort: r.wsPort, stop: r.stop },
      });
    }
    try {
      for (const { target, wsSkip } of targets) {
        if (wsSkip && !wsNotice) {
          wsNotice = true;
          console.log(`auth matrix: WebSocket column skipped for ${target.name}: ${wsSkip}`);
        }
        for (const transport of ["tcp", "ws"] as Transport[]) {
          const port = transport === "tcp" ? target.port : target.wsPort;
          for (const row of mech.rows) {
            const exp = "text" in row.expect ? row.expect as Outcome : row.expect[transport];
            await t.step({
              name: `${target.name} ${transport}: ${row.name}`,
              ignore: port === undefined,
              fn: async () => {
                const got = await runRow(port!, transport, row);
                assertEquals(
                  { text: got.text, closed: got.closed },
                  exp,
                  `${target.name} ${transport} ${mech.name} / ${row.name}`,
                );
                if (transport === "ws" && exp.closed) {
                  assertEquals(got.code, WS_POLICY, "close code");
                }
                assertEquals(
                  got.info.auth_required,
                  mech.authRequired[transport],
                  "INFO auth_required",
                );
                assertEquals(typeof got.info.nonce === "string", !!mech.nonce, "INFO nonce");
              },
            });
          }
        }
      }
    } finally {
      for (const { target } of targets) await target.stop();
    }
  });
}
