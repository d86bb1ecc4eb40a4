/**
 * Operator mode end to end: user JWTs generated here, each case run against this server and
 * nats-server 2.9.10 with the same bytes (CONNECT with jwt + sig over the INFO nonce).
 */
import { createAccount, createUser, type KeyPair, newScopedSigner } from "@nats-io/jwt";
import type { User } from "@nats-io/jwt";
import { assert, assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { withEachServer } from "../helpers/each_server.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { connectLine, makeTrust, makeUser, operatorConfig, type Trust } from "./jwt_fixture.ts";

const now = () => Math.floor(Date.now() / 1000);
const VIOLATION = "-ERR 'Authorization Violation'\r\n";

interface Case {
  name: string;
  user: (t: Trust) => Promise<{ user: KeyPair; jwt: string }>;
  /** Who signs the nonce: the user (default), another key, nobody. */
  sign?: "user" | "other" | "none" | "wrong-nonce";
  /** Sent after CONNECT (before PING). */
  then?: string;
  /** The server's full answer up to PONG, or the -ERR when it closes. */
  expect: string;
}

const scopedSigner = createAccount();

const CASES: Case[] = [
  { name: "valid user", user: (t) => makeUser(t), expect: "PONG\r\n" },
  { name: "wrong signature", user: (t) => makeUser(t), sign: "other", expect: VIOLATION },
  { name: "wrong nonce", user: (t) => makeUser(t), sign: "wrong-nonce", expect: VIOLATION },
  { name: "no signature", user: (t) => makeUser(t), sign: "none", expect: VIOLATION },
  {
    name: "expired",
    user: (t) => makeUser(t, {}, { exp: now() - 10 }),
    expect: VIOLATION,
  },
  {
    name: "not yet valid",
    user: (t) => makeUser(t, {}, { nbf: now() + 3600 }),
    expect: VIOLATION,
  },
  {
    name: "wrong account signer (unknown key claims the account)",
    user: (t) => makeUser(t, {}, { signer: createAccount() }),
    expect: VIOLATION,
  },
  {
    name: "account not known to the resolver",
    user: (t) => makeUser(t, {}, { account: createAccount() }),
    expect: VIOLATION,
  },
  {
    name: "signing key of the account",
    user: (t) => makeUser(t, {}, { signer: t.accountSigner }),
    expect: "PONG\r\n",
  },
  {
    name: "bearer token without sig",
    user: (t) => makeUser(t, { bearer_token: true }),
    sign: "none",
    expect: "PONG\r\n",
  },
  {
    name: "connection types: WEBSOCKET only, over TCP",
    user: (t) => makeUser(t, { allowed_connection_types: ["WEBSOCKET"] } as Partial<User>),
    expect: VIOLATION,
  },
  {
    name: "connection types: STANDARD plus an unknown type",
    user: (t) =>
      makeUser(t, { allowed_connection_types: ["STANDARD", "FOO"] } as unknown as Partial<User>),
    expect: "PONG\r\n",
  },
  {
    name: "connection types: only unknown types",
    user: (t) => makeUser(t, { allowed_connection_types: ["FOO"] } as unknown as Partial<User>),
    expect: VIOLATION,
  },
  {
    name: "source CIDR excludes 127.0.0.1",
    user: (t) => makeUser(t, { src: ["10.0.0.0/8"] }),
    expect: VIOLATION,
  },
  {
    name: "source CIDR includes 127.0.0.1",
    user: (t) => makeUser(t, { src: ["127.0.0.0/8"] }),
    expect: "PONG\r\n",
  },
  {
    name: "publish permission",
    user: (t) => makeUser(t, { pub: { allow: ["a.>"] } }),
    then: "PUB a.b 0\r\n\r\nPUB b 0\r\n\r\n",
    expect: `-ERR 'Permissions Violation for Publish to "b"'\r\nPONG\r\n`,
  },
  {
    name: "subscribe permission deny",
    user: (t) => makeUser(t, { sub: { deny: ["secret.>"] } }),
    then: "SUB secret.x 1\r\n",
    expect: `-ERR 'Permissions Violation for Subscription to "secret.x"'\r\nPONG\r\n`,
  },
  {
    name: "scoped signing key: template permissions apply",
    user: (t) => makeUser(t, {}, { signer: scopedSigner, scoped: true }),
    then: "PUB ok.u 0\r\n\r\nPUB other 0\r\n\r\n",
    expect: `-ERR 'Permissions Violation for Publish to "other"'\r\nPONG\r\n`,
  },
  {
    name: "scoped signing key: a user with its own permissions is refused",
    user: (t) => makeUser(t, { pub: { allow: [">"] } }, { signer: scopedSigner }),
    expect: VIOLATION,
  },
];

async function runCase(port: number, t: Trust, c: Case): Promise<string> {
  const { user, jwt } = await c.user(t);
  const cl = await RawClient.connect(port);
  try {
    const info = await cl.info();
    const nonce = String(info.nonce ?? "");
    const signer = c.sign === "none" ? null : c.sign === "other" ? createUser() : user;
    const line = connectLine(jwt, c.sign === "wrong-nonce" ? "x" + nonce : nonce, signer);
    await cl.send(line + (c.then ?? "") + "PING\r\n");
    await cl.readUntil((s) => s.endsWith("PONG\r\n") || s.includes("Authorization Violation"));
    if (!cl.text.endsWith("PONG\r\n")) await cl.readUntil(() => false, 3000).catch(() => {});
    return cl.text;
  } finally {
    cl.close();
  }
}

Deno.test("jwt: user JWT logins, same answers as nats-server", async () => {
  const t = await makeTrust({}, [
    newScopedSigner(scopedSigner, "r", { pub: { allow: ["ok.>"], deny: [] } }),
  ]);
  const config = operatorConfig(t);
  await withEachServer(config, async (server, port) => {
    for (const c of CASES) {
      const got = await runCase(port, t, c);
      assertEquals(got, c.expect, `${server}: ${c.name}`);
    }
  });
});

Deno.test("jwt: why a login failed is logged at debug level with the reference's text", async () => {
  const t = await makeTrust();
  const config = operatorConfig(t, [], "debug: true");
  const lines: string[] = [];
  const log = {
    info() {},
    warn() {},
    error() {},
    trace() {},
    debug: (m: string) => lines.push(m),
    debugEnabled: true,
    traceEnabled: false,
  };
  const c: Case = {
    name: "wrong signature",
    user: (t) => makeUser(t),
    sign: "other",
    expect: VIOLATION,
  };
  const ours = await startOurs(config, { log });
  try {
    assertEquals(await runCase(ours.port, t, c), VIOLATION);
  } finally {
    await ours.stop();
  }
  const mine = lines.find((l) => l.includes("Signature not verified"));
  assert(mine && /^127\.0\.0\.1:\d+ - cid:\d+ - Signature not verified$/.test(mine), String(lines));
  if (!haveNatsServer()) return;
  const ref = await startReference(config);
  try {
    await runCase(ref.port, t, c);
    await new Promise((r) => setTimeout(r, 100));
    assert(/\[DBG\] 127\.0\.0\.1:\d+ - cid:\d+ - Signature not verified/.test(ref.stderr()));
  } finally {
    await ref.stop();
  }
});
