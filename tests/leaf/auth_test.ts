/**
 * Authentication on the leaf link, run against this server and nats-server 2.9.10 as hubs with
 * the same config: a raw leaf (TCP to the leafnode port, or WebSocket to `/leafnode`) sends a
 * leafnode CONNECT and the answer is compared: the reply INFO's `remote_account` (the account the
 * leaf was bound to) or the `-ERR` text.
 */
import { assertEquals } from "../helpers/assert.ts";
import { leafPortOf } from "./harness.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { dialWebSocket } from "../../lib/transport/ws/client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What a hub answered a leaf CONNECT with. */
async function leafHandshake(
  port: number,
  ws: boolean,
  connect: Record<string, unknown>,
  path = "/leafnode",
): Promise<string> {
  const line = `CONNECT ${JSON.stringify({ tls_required: false, name: "RAW", ...connect })}\r\n`;
  let buf = "";
  let closed = false;
  let write: (b: Uint8Array) => Promise<void>;
  let close: () => void;
  let onData: (f: (s: string) => void) => void;
  if (ws) {
    const t = await dialWebSocket({
      hostname: "127.0.0.1",
      port,
      path,
      compression: false,
      noMasking: false,
      timeoutMs: 3000,
      kind: "LEAFNODE_WS",
    });
    write = (b) => t.write(b);
    close = () => t.close();
    onData = (f) =>
      void t.readInto({ receive: (b) => f(dec.decode(b)), transportClosed: () => closed = true });
  } else {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    write = async (b) => void await c.write(b);
    close = () => {
      try {
        c.close();
      } catch { /* closed */ }
    };
    onData = (f) =>
      void (async () => {
        const b = new Uint8Array(65536);
        try {
          for (;;) {
            const n = await c.read(b);
            if (n === null) break;
            f(dec.decode(b.subarray(0, n)));
          }
        } catch { /* closed */ }
        closed = true;
      })();
  }
  onData((s) => buf += s);
  const deadline = Date.now() + 5000;
  const wait = async (pred: () => boolean) => {
    while (!pred() && !closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  try {
    await wait(() => buf.includes("\r\n"));
    if (!buf.startsWith("INFO ")) return `no INFO: ${buf}`;
    buf = buf.slice(buf.indexOf("\r\n") + 2);
    await write(enc.encode(line));
    await wait(() => /^(INFO .*?\r\n|-ERR .*?\r\n)/.test(buf));
    const m = /^INFO (.*?) ?\r\n/.exec(buf);
    if (m) return `ok:${JSON.parse(m[1]).remote_account}`;
    const e = /^-ERR '(.*)'\r\n/.exec(buf);
    if (e) return `err:${e[1]}`;
    return closed ? `closed:${buf}` : `timeout:${buf}`;
  } finally {
    close();
  }
}

interface Case {
  name: string;
  /** Added to the hub config (the leafnodes/websocket blocks are added by the test). */
  conf: string;
  leafAuth?: string;
  connect: Record<string, unknown>;
  ws?: boolean;
  /** WebSocket request path (default `/leafnode`). */
  path?: string;
  /** Beyond 2.9.10 (its hub checks the `/leafnode` prefix only): not run against it. */
  oursOnly?: boolean;
  want: string;
}

const CASES: Case[] = [
  { name: "no auth: bound to $G", conf: "", connect: {}, want: "ok:$G" },
  {
    name: "leaf user/password",
    conf: "",
    leafAuth: "authorization { user: lu, password: lp }",
    connect: { user: "lu", pass: "lp" },
    want: "ok:$G",
  },
  {
    name: "leaf user, wrong password",
    conf: "",
    leafAuth: "authorization { user: lu, password: lp }",
    connect: { user: "lu", pass: "nope" },
    want: "err:Authorization Violation",
  },
  {
    name: "leaf user with account",
    conf: "accounts { A {} }",
    leafAuth: "authorization { user: lu, password: lp, account: A }",
    connect: { user: "lu", pass: "lp" },
    want: "ok:A",
  },
  {
    name: "leaf users bound to accounts",
    conf: "accounts { A {}, B {} }",
    leafAuth:
      "authorization { users: [ {user: a, password: pa, account: A}, {user: b, password: pb, account: B}, {user: g, password: pg} ] }",
    connect: { user: "b", pass: "pb" },
    want: "ok:B",
  },
  {
    name: "leaf users: unknown user",
    conf: "accounts { A {} }",
    leafAuth: "authorization { users: [ {user: a, password: pa, account: A} ] }",
    connect: { user: "x", pass: "pa" },
    want: "err:Authorization Violation",
  },
  {
    name: "top-level token (no leaf authorization)",
    conf: "authorization { token: s3cr3t }",
    connect: { auth_token: "s3cr3t" },
    want: "ok:$G",
  },
  {
    name: "top-level token does not apply to leafnodes (a wrong one is accepted)",
    conf: "authorization { token: s3cr3t }",
    connect: { auth_token: "bad" },
    want: "ok:$G",
  },
  {
    name: "top-level users: a leaf without a user binds to the leafnode account",
    conf: "accounts { A { users: [ {user: u, password: p} ] } }",
    leafAuth: "authorization { account: A }",
    connect: {},
    want: "ok:A",
  },
  {
    name: "top-level users: wrong password",
    conf: "authorization { users: [ {user: u, password: p} ] }",
    connect: { user: "u", pass: "x" },
    want: "err:Authorization Violation",
  },
  {
    name: "no_auth_user applies to a leaf without credentials",
    conf: "accounts { A { users: [ {user: u, password: p} ] } }\nno_auth_user: u",
    connect: {},
    want: "ok:A",
  },
  {
    name: "top-level users in accounts",
    conf: "accounts { A { users: [ {user: u, password: p} ] } }",
    connect: { user: "u", pass: "p" },
    want: "ok:A",
  },
  {
    name: "allowed_connection_types LEAFNODE on the leafnode port",
    conf:
      'authorization { users: [ {user: u, password: p, allowed_connection_types: ["LEAFNODE"]} ] }',
    connect: { user: "u", pass: "p" },
    want: "ok:$G",
  },
  {
    name: "allowed_connection_types LEAFNODE_WS refuses the leafnode port",
    conf:
      'authorization { users: [ {user: u, password: p, allowed_connection_types: ["LEAFNODE_WS"]} ] }',
    connect: { user: "u", pass: "p" },
    want: "err:Authorization Violation",
  },
  {
    name: "allowed_connection_types LEAFNODE_WS on websocket /leafnode",
    conf:
      'authorization { users: [ {user: u, password: p, allowed_connection_types: ["LEAFNODE_WS"]} ] }',
    connect: { user: "u", pass: "p" },
    ws: true,
    want: "ok:$G",
  },
  {
    name: "allowed_connection_types LEAFNODE refuses websocket /leafnode",
    conf:
      'authorization { users: [ {user: u, password: p, allowed_connection_types: ["LEAFNODE"]} ] }',
    connect: { user: "u", pass: "p" },
    ws: true,
    want: "err:Authorization Violation",
  },
  {
    name: "STANDARD only refuses a leafnode",
    conf:
      'authorization { users: [ {user: u, password: p, allowed_connection_types: ["STANDARD"]} ] }',
    connect: { user: "u", pass: "p" },
    want: "err:Authorization Violation",
  },
  {
    name: "websocket path with a prefix before /leafnode (2.10 leaves behind a proxy)",
    conf: "",
    connect: {},
    ws: true,
    path: "/some/prefix/leafnode",
    oursOnly: true,
    want: "ok:$G",
  },
  {
    name: "websocket path /leafnode followed by the URL path (2.9.10 leaves)",
    conf: "",
    connect: {},
    ws: true,
    path: "/leafnode/some/prefix",
    want: "ok:$G",
  },
  {
    name: "a client CONNECT (lang) on the leafnode port",
    conf: "",
    connect: { lang: "go", version: "1.0" },
    want: "err:attempted to connect to leaf node port",
  },
];

for (const c of CASES) {
  Deno.test({
    name: `leaf auth: ${c.name}`,
    ignore: !haveNatsServer(),
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const conf = [
        c.conf,
        `leafnodes { listen: "127.0.0.1:-1"\n ${c.leafAuth ?? ""} }`,
        `websocket { listen: "127.0.0.1:-1", no_tls: true }`,
      ].join("\n");
      const ours = await startOurs(conf);
      const ref = await startReference(conf);
      try {
        const refL = leafPortOf(ref.stderr());
        const ourGot = await leafHandshake(
          c.ws ? ours.wsPort! : ours.handle.ports.leafnode!,
          !!c.ws,
          c.connect,
          c.path,
        );
        if (!c.oursOnly) {
          const refGot = await leafHandshake(c.ws ? ref.wsPort! : refL, !!c.ws, c.connect, c.path);
          assertEquals(refGot, c.want, "nats-server");
        }
        assertEquals(ourGot, c.want, "ours");
      } finally {
        await ref.stop();
        await ours.stop();
      }
    },
  });
}
