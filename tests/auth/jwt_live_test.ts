/**
 * Operator mode while connected, against ours and nats-server 2.9.10: user JWT expiry, live
 * revocation through a pushed account JWT, user/account limits, the full directory resolver fed
 * over `$SYS.REQ.CLAIMS.UPDATE`, and the system account's server PING.
 */
import {
  createAccount,
  createUser,
  encodeAccount,
  encodeGeneric,
  type KeyPair,
} from "@nats-io/jwt";
import { assert, assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import {
  accountJwt,
  connectLine,
  makeTrust,
  makeUser,
  operatorConfig,
  type Trust,
  UNLIMITED,
} from "./jwt_fixture.ts";

type Name = "ours" | "nats-server";

/** Runs `fn` against ours, then nats-server; `config` may differ per server (temp dirs). */
async function each(
  config: () => Promise<string> | string,
  fn: (name: Name, port: number) => Promise<void>,
): Promise<void> {
  const ours = await startOurs(await config());
  try {
    await fn("ours", ours.port);
  } finally {
    await ours.stop();
  }
  if (!haveNatsServer()) return;
  const ref = await startReference(await config());
  try {
    await fn("nats-server", ref.port);
  } finally {
    await ref.stop();
  }
}

/** Connects and logs in with `jwt` signed by `user`; resolves after the first PONG. */
async function login(port: number, jwt: string, user: KeyPair): Promise<RawClient> {
  const c = await RawClient.connect(port);
  const info = await c.info();
  await c.send(connectLine(jwt, String(info.nonce), user) + "PING\r\n");
  await c.readUntil((t) => t.includes("PONG\r\n") || t.includes("-ERR"));
  return c;
}

let sids = 100;

/** A request from a logged-in raw client; returns the reply payload. */
async function request(c: RawClient, subject: string, body: string): Promise<string> {
  const inbox = `_INBOX.${crypto.randomUUID().replaceAll("-", "")}`;
  const sid = ++sids;
  c.text = "";
  const bytes = new TextEncoder().encode(body).length;
  await c.send(`SUB ${inbox} ${sid}\r\nPUB ${subject} ${inbox} ${bytes}\r\n${body}\r\n`);
  // Internal messages have an empty reply: `MSG <subject> <sid>  <size>`.
  const head = new RegExp(`MSG \\S+ ${sid}  (\\d+)\r\n`);
  await c.readUntil((t) => head.test(t) && t.endsWith("\r\n") && t.length > 10);
  const m = head.exec(c.text)!;
  const start = m.index + m[0].length;
  const rest = () => new TextEncoder().encode(c.text.slice(start));
  await c.readUntil(() => rest().length >= Number(m[1]) + 2);
  return new TextDecoder().decode(rest().subarray(0, Number(m[1])));
}

async function sysUser(t: Trust) {
  return await makeUser(t, {}, { account: t.sys });
}

/**
 * Runs `fn` against each server with a `full` directory resolver in a fresh temp dir
 * (`resolverExtra` added to the resolver block), the system account preloaded.
 */
async function withFullResolver(
  t: Trust,
  resolverExtra: string,
  fn: (name: Name, port: number) => Promise<void>,
): Promise<void> {
  const dirs: string[] = [];
  const config = async () => {
    const dir = await Deno.makeTempDir({ prefix: "jwtfull" });
    dirs.push(dir);
    return [
      `operator: "${t.operatorJwt}"`,
      `system_account: ${t.sys.getPublicKey()}`,
      `resolver { type: full, dir: "${dir}", allow_delete: true${resolverExtra} }`,
      `resolver_preload { ${t.sys.getPublicKey()}: "${t.sysJwt}" }`,
    ].join("\n");
  };
  try {
    await each(config, fn);
  } finally {
    for (const d of dirs) await Deno.remove(d, { recursive: true }).catch(() => {});
  }
}

Deno.test("jwt live: a user JWT expiring while connected is closed with the reference's error", async () => {
  const t = await makeTrust();
  await each(() => operatorConfig(t), async (name, port) => {
    const { user, jwt } = await makeUser(t, {}, { exp: Math.floor(Date.now() / 1000) + 2 });
    const c = await login(port, jwt, user);
    try {
      assert(c.text.endsWith("PONG\r\n"), `${name}: ${c.text}`);
      await c.readUntil(() => false, 6000).catch(() => {});
      assert(c.text.includes("-ERR 'User Authentication Expired'\r\n"), `${name}: ${c.text}`);
      assert(c.closed, `${name}: still open`);
    } finally {
      c.close();
    }
  });
});

Deno.test("jwt live: revoking a connected user by pushing the account JWT closes it", async () => {
  const t = await makeTrust();
  await each(() => operatorConfig(t), async (name, port) => {
    const { user, jwt } = await makeUser(t);
    const victim = await login(port, jwt, user);
    const s = await sysUser(t);
    const sys = await login(port, s.jwt, s.user);
    try {
      assert(victim.text.endsWith("PONG\r\n"), `${name}: ${victim.text}`);
      const revoked = await accountJwt(t, "A", t.account, {
        signing_keys: [t.accountSigner.getPublicKey()],
        revocations: { [user.getPublicKey()]: Math.floor(Date.now() / 1000) + 1 },
      });
      const acc = t.account.getPublicKey();
      const reply = JSON.parse(
        await request(sys, `$SYS.REQ.ACCOUNT.${acc}.CLAIMS.UPDATE`, revoked),
      );
      assertEquals(reply.data, { account: acc, code: 200, message: "jwt updated" }, name);
      assertEquals(Object.keys(reply.server).sort(), [
        "host",
        "id",
        "jetstream",
        "name",
        "seq",
        "time",
        "ver",
      ]);
      await victim.readUntil((x) => x.includes("Revoked"), 3000).catch(() => {});
      assert(
        victim.text.includes("-ERR 'User Authentication Revoked'\r\n"),
        `${name}: ${victim.text}`,
      );
      // A revoked user cannot log in again.
      const again = await login(port, jwt, user);
      assert(again.text.includes("-ERR 'Authorization Violation'"), `${name}: ${again.text}`);
      again.close();
    } finally {
      victim.close();
      sys.close();
    }
  });
});

Deno.test("jwt live: user and account limits (subs, payload, connections)", async () => {
  const t = await makeTrust();
  const limited = createAccount();
  const limitedJwt = await accountJwt(t, "L", limited, { limits: { ...UNLIMITED, conn: 1 } });
  const extra = [`  ${limited.getPublicKey()}: "${limitedJwt}"`];
  await each(() => operatorConfig(t, extra), async (name, port) => {
    const subs = await makeUser(t, { subs: 1 });
    const c1 = await login(port, subs.jwt, subs.user);
    c1.text = "";
    await c1.send("SUB a 1\r\nSUB b 2\r\nPING\r\n");
    await c1.readUntil((x) => x.endsWith("PONG\r\n"));
    assertEquals(c1.text, "-ERR 'maximum subscriptions exceeded'\r\nPONG\r\n", name);
    c1.close();

    const pay = await makeUser(t, { payload: 4 });
    const c2 = await login(port, pay.jwt, pay.user);
    c2.text = "";
    await c2.send("PUB a 5\r\n12345\r\n");
    await c2.readUntil(() => false, 2000).catch(() => {});
    assertEquals(c2.text, "-ERR 'Maximum Payload Violation'\r\n", name);
    c2.close();

    const u1 = await makeUser(t, {}, { account: limited });
    const first = await login(port, u1.jwt, u1.user);
    assert(first.text.endsWith("PONG\r\n"), `${name}: ${first.text}`);
    const u2 = await makeUser(t, {}, { account: limited });
    const second = await login(port, u2.jwt, u2.user);
    await second.readUntil(() => false, 2000).catch(() => {});
    assertEquals(second.text, "-ERR 'maximum account active connections exceeded'\r\n", name);
    first.close();
    second.close();
  });
});

Deno.test("jwt live: an account pushed to a full resolver over $SYS.REQ.CLAIMS.UPDATE is then used", async () => {
  const t = await makeTrust();
  await withFullResolver(t, "", async (name, port) => {
    const fresh = createAccount();
    const freshJwt = await accountJwt(t, "F", fresh);
    const { user, jwt } = await makeUser(t, {}, { account: fresh });
    const before = await login(port, jwt, user);
    assert(before.text.includes("Authorization Violation"), `${name}: ${before.text}`);
    before.close();
    const s = await sysUser(t);
    const sys = await login(port, s.jwt, s.user);
    try {
      const reply = JSON.parse(await request(sys, "$SYS.REQ.CLAIMS.UPDATE", freshJwt));
      assertEquals(
        reply.data,
        { account: fresh.getPublicKey(), code: 200, message: "jwt updated" },
        name,
      );
      const list = JSON.parse(await request(sys, "$SYS.REQ.CLAIMS.LIST", ""));
      assert(list.data.includes(fresh.getPublicKey()), `${name}: ${JSON.stringify(list)}`);
      const looked = await request(
        sys,
        `$SYS.REQ.ACCOUNT.${fresh.getPublicKey()}.CLAIMS.LOOKUP`,
        "",
      );
      assertEquals(looked, freshJwt, name);
      const bad = JSON.parse(await request(sys, "$SYS.REQ.CLAIMS.UPDATE", "garbage"));
      assertEquals(bad.error.code, 500, name);
      assertEquals(bad.error.account, "n/a", name);
      const after = await login(port, jwt, user);
      assert(after.text.endsWith("PONG\r\n"), `${name}: ${after.text}`);
      after.close();
    } finally {
      sys.close();
    }
  });
});

Deno.test("jwt live: $SYS.REQ.SERVER.PING and PING.<endpoint> answer like nats-server", async () => {
  const t = await makeTrust();
  const shapes: Record<string, string[][]> = {};
  await each(() => operatorConfig(t), async (name, port) => {
    const s = await sysUser(t);
    const sys = await login(port, s.jwt, s.user);
    const other = createUser();
    void other;
    try {
      const ping = JSON.parse(await request(sys, "$SYS.REQ.SERVER.PING", ""));
      const keys = [Object.keys(ping), Object.keys(ping.statsz)];
      assertEquals(ping.statsz.connections, 1, name);
      const varz = JSON.parse(await request(sys, "$SYS.REQ.SERVER.PING.VARZ", ""));
      keys.push(Object.keys(varz), [typeof varz.data.server_id]);
      const connz = JSON.parse(await request(sys, "$SYS.REQ.SERVER.PING.CONNZ", ""));
      assertEquals(connz.data.num_connections, 1, name);
      const health = JSON.parse(
        await request(sys, `$SYS.REQ.SERVER.${ping.server.id}.HEALTHZ`, ""),
      );
      assertEquals(health.data, { status: "ok" }, name);
      const accConnz = JSON.parse(
        await request(sys, `$SYS.REQ.ACCOUNT.${t.sys.getPublicKey()}.CONNZ`, ""),
      );
      assertEquals(accConnz.data.num_connections, 1, name);
      shapes[name] = keys;
    } finally {
      sys.close();
    }
  });
  if (shapes["nats-server"]) assertEquals(shapes.ours, shapes["nats-server"]);
});

Deno.test("jwt live: removing a signing key from the account closes its users (no -ERR)", async () => {
  const t = await makeTrust();
  await each(() => operatorConfig(t), async (name, port) => {
    const signed = await makeUser(t, {}, { signer: t.accountSigner });
    const direct = await makeUser(t);
    const a = await login(port, signed.jwt, signed.user);
    const b = await login(port, direct.jwt, direct.user);
    const s = await sysUser(t);
    const sys = await login(port, s.jwt, s.user);
    try {
      assert(a.text.endsWith("PONG\r\n") && b.text.endsWith("PONG\r\n"), name);
      const withoutKey = await accountJwt(t, "A", t.account, {});
      const acc = t.account.getPublicKey();
      const reply = JSON.parse(
        await request(sys, `$SYS.REQ.ACCOUNT.${acc}.CLAIMS.UPDATE`, withoutKey),
      );
      assertEquals(reply.data.message, "jwt updated", name);
      a.text = "";
      await a.readUntil(() => false, 2000).catch(() => {});
      assertEquals([a.text.includes("-ERR"), a.closed], [false, true], name);
      b.text = "";
      await b.send("PING\r\n");
      await b.readUntil((x) => x.includes("PONG"));
      assertEquals(b.text.includes("PONG"), true, name);
    } finally {
      a.close();
      b.close();
      sys.close();
    }
  });
});

Deno.test("jwt live: $SYS.REQ.CLAIMS.DELETE (operator-signed) and a full resolver's limit", async () => {
  const t = await makeTrust();
  await withFullResolver(t, ", limit: 3", async (name, port) => {
    const s = await sysUser(t);
    const sys = await login(port, s.jwt, s.user);
    try {
      const accs = [createAccount(), createAccount(), createAccount()];
      const answers: unknown[] = [];
      for (const [i, a] of accs.entries()) {
        const reply = JSON.parse(
          await request(sys, "$SYS.REQ.CLAIMS.UPDATE", await accountJwt(t, `D${i}`, a)),
        );
        answers.push(reply.data ?? reply.error);
      }
      // The system account is one of the three files: the third push does not fit.
      assertEquals(answers, [
        { account: accs[0].getPublicKey(), code: 200, message: "jwt updated" },
        { account: accs[1].getPublicKey(), code: 200, message: "jwt updated" },
        {
          account: accs[2].getPublicKey(),
          code: 500,
          description: "jwt update resulted in error - jwt store is full",
        },
      ], name);
      const u = await makeUser(t, {}, { account: accs[0] });
      const user = await login(port, u.jwt, u.user);
      assert(user.text.endsWith("PONG\r\n"), `${name}: ${user.text}`);
      const del = await encodeGeneric("del", t.operator, "generic", {
        accounts: [accs[0].getPublicKey()],
      } as Record<string, unknown>);
      const reply = JSON.parse(await request(sys, "$SYS.REQ.CLAIMS.DELETE", del));
      assertEquals(reply.data, { code: 200, message: "deleted 1 accounts" }, name);
      await user.readUntil((x) => x.includes("Expired"), 3000).catch(() => {});
      assert(
        user.text.includes("-ERR 'Account Authentication Expired'"),
        `${name}: ${user.text}`,
      );
      user.close();
      const badDel = await encodeGeneric("del", createAccount(), "generic", {
        accounts: [accs[1].getPublicKey()],
      } as Record<string, unknown>);
      const bad = JSON.parse(await request(sys, "$SYS.REQ.CLAIMS.DELETE", badDel));
      assertEquals(bad.error.code, 500, name);
    } finally {
      sys.close();
    }
  });
});

Deno.test("jwt live: lowering the account's subs limit applies to connected users", async () => {
  const t = await makeTrust();
  await each(() => operatorConfig(t), async (name, port) => {
    const u = await makeUser(t);
    const c = await login(port, u.jwt, u.user);
    const s = await sysUser(t);
    const sys = await login(port, s.jwt, s.user);
    try {
      c.text = "";
      await c.send("SUB a 1\r\nSUB b 2\r\nPING\r\n");
      await c.readUntil((x) => x.includes("PONG"));
      const lowered = await accountJwt(t, "A", t.account, {
        signing_keys: [t.accountSigner.getPublicKey()],
        limits: { ...UNLIMITED, subs: 1 },
      });
      const acc = t.account.getPublicKey();
      await request(sys, `$SYS.REQ.ACCOUNT.${acc}.CLAIMS.UPDATE`, lowered);
      c.text = "";
      await c.readUntil(() => false, 2000).catch(() => {});
      assertEquals(
        [c.text.replace(/PING\r\n/g, ""), c.closed],
        ["-ERR 'maximum subscriptions exceeded'\r\n", true],
        name,
      );
    } finally {
      c.close();
      sys.close();
    }
  });
});

Deno.test("jwt live: an account JWT expiring while users are connected closes them", async () => {
  const t = await makeTrust();
  const acc = createAccount();
  // A fresh JWT per server: it expires 2 s after that server starts.
  const config = async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const accJwt = await encodeAccount("E", acc, { limits: UNLIMITED }, {
      signer: t.operator,
      exp,
    });
    return operatorConfig(t, [`  ${acc.getPublicKey()}: "${accJwt}"`]);
  };
  await each(config, async (name, port) => {
    const u = await makeUser(t, {}, { account: acc });
    const c = await login(port, u.jwt, u.user);
    try {
      assert(c.text.endsWith("PONG\r\n"), `${name}: ${c.text}`);
      await c.readUntil((x) => x.includes("Expired"), 6000).catch(() => {});
      assert(c.text.includes("-ERR 'Account Authentication Expired'\r\n"), `${name}: ${c.text}`);
    } finally {
      c.close();
    }
  });
});
