import assert from "node:assert/strict";
import { createUser } from "@nats-io/nkeys";
import {
  createAuthenticator,
  PLAINTEXT_PASSWORD_WARNING,
  warnings,
} from "../../lib/auth/authenticator.ts";
import { bcryptHash } from "../../lib/auth/bcrypt.ts";
import { BcryptPool } from "../../lib/auth/bcrypt_pool.ts";
import { createNonce } from "../../lib/auth/nkeys.ts";
import type {
  AuthConfig,
  ConnectCredentials,
  Identity,
  Permissions,
} from "../../lib/auth/types.ts";
import type { ConnectionKind } from "../../lib/core/kinds.ts";
import type { PeerInfo } from "../../lib/protocol/transport.ts";

const enc = new TextEncoder();
const b64url = (b: Uint8Array) =>
  btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const b64std = (b: Uint8Array) => btoa(String.fromCharCode(...b));

const peer = (kind: ConnectionKind): PeerInfo => ({ kind, hostname: "127.0.0.1", port: 5555 });

// Fixtures ------------------------------------------------------------------------------------
const BC_PORK = bcryptHash("porkchop", 4);
const BC_BAR = bcryptHash("bar", 4);
const BC_TOKEN = bcryptHash("s3cr3t", 4, { minor: "b" });
const BC_NOAUTH = bcryptHash("hidden", 4);

const nkAny = createUser();
const nkStd = createUser();
const nkWs = createUser();
const nkUnknown = createUser();
const NK_ANY = nkAny.getPublicKey();
const NK_STD = nkStd.getPublicKey();
const NK_WS = nkWs.getPublicKey();

const PERM_ALICE: Permissions = { publish: { allow: ["alice.>"] } };
const PERM_DEFAULT: Permissions = { subscribe: { deny: ["secret.>"] } };
const PERM_ACCT_A: Permissions = { publish: { deny: ["a.private"] } };

const base = (): AuthConfig => ({ users: [], accounts: [] });

const CONFIGS: Record<string, AuthConfig> = {
  none: base(),
  token: { ...base(), token: "s3cr3t" },
  tokenBcrypt: { ...base(), token: BC_TOKEN },
  userPass: { ...base(), user: "derek", password: "porkchop" },
  userPassBcrypt: { ...base(), user: "derek", password: BC_PORK },
  users: {
    ...base(),
    users: [
      { user: "alice", password: "foo", account: "$G", permissions: PERM_ALICE },
      { user: "bob", password: BC_BAR, account: "A", allowedConnectionTypes: ["STANDARD"] },
      { user: "carol", password: "c", account: "$G", allowedConnectionTypes: ["WEBSOCKET"] },
      { user: "dave", password: "d", account: "$G" },
    ],
    accounts: [{ name: "A", exports: [], imports: [], defaultPermissions: PERM_ACCT_A }],
    defaultPermissions: PERM_DEFAULT,
  },
  nkeys: {
    ...base(),
    users: [
      { nkey: NK_ANY, account: "$G" },
      { nkey: NK_STD, account: "A", allowedConnectionTypes: ["STANDARD"] },
      { nkey: NK_WS, account: "$G", allowedConnectionTypes: ["WEBSOCKET"] },
      { user: "pwuser", password: "pw", account: "$G" },
    ],
    accounts: [{ name: "A", exports: [], imports: [] }],
  },
  noAuthUser: {
    ...base(),
    users: [
      { user: "alice", password: "foo", account: "$G" },
      { user: "guest", password: "g", account: "G", allowedConnectionTypes: ["STANDARD"] },
      { user: "hid", password: BC_NOAUTH, account: "$G" },
    ],
    accounts: [{ name: "G", exports: [], imports: [] }],
    noAuthUser: "guest",
  },
  noAuthUserBcrypt: {
    ...base(),
    users: [{ user: "hid", password: BC_NOAUTH, account: "$G" }],
    noAuthUser: "hid",
  },
  // Websocket override: top-level user/pass, ws uses only its token.
  wsToken: { ...base(), user: "derek", password: "porkchop", websocket: { token: "wstok" } },
  // Websocket override with user/pass while nothing is configured at top level.
  wsUserOnly: { ...base(), websocket: { user: "wsu", password: "wsp" } },
  // Websocket no_auth_user override with top-level users and a different top-level no_auth_user.
  wsNoAuth: {
    ...base(),
    users: [
      { user: "tcpguest", password: "t", account: "$G" },
      { user: "wsguest", password: "w", account: "W" },
    ],
    accounts: [{ name: "W", exports: [], imports: [] }],
    noAuthUser: "tcpguest",
    websocket: { noAuthUser: "wsguest" },
  },
  // ws block with only a timeout is not an override.
  wsTimeoutOnly: { ...base(), token: "s3cr3t", timeoutMs: 5000, websocket: { timeoutMs: 1500 } },
};

type Creds = ConnectCredentials & {
  signWith?: "any" | "std" | "ws" | "unknown" | "bad";
  stdSig?: boolean;
};
interface Row {
  config: string;
  kind: ConnectionKind;
  creds: Creds;
  want: Identity | null;
  note?: string;
}

const G = "$G";
const ROWS: Row[] = [
  // none: everyone gets into $G, whatever they send
  { config: "none", kind: "STANDARD", creds: {}, want: { account: G } },
  { config: "none", kind: "WEBSOCKET", creds: {}, want: { account: G } },
  {
    config: "none",
    kind: "STANDARD",
    creds: { user: "x", pass: "y", auth_token: "z" },
    want: { account: G },
  },

  // token
  { config: "token", kind: "STANDARD", creds: { auth_token: "s3cr3t" }, want: { account: G } },
  { config: "token", kind: "WEBSOCKET", creds: { auth_token: "s3cr3t" }, want: { account: G } },
  { config: "token", kind: "STANDARD", creds: { auth_token: "wrong" }, want: null },
  { config: "token", kind: "STANDARD", creds: {}, want: null },
  { config: "token", kind: "STANDARD", creds: { user: "s3cr3t", pass: "s3cr3t" }, want: null },
  {
    config: "tokenBcrypt",
    kind: "STANDARD",
    creds: { auth_token: "s3cr3t" },
    want: { account: G },
  },
  {
    config: "tokenBcrypt",
    kind: "STANDARD",
    creds: { auth_token: BC_TOKEN },
    want: null,
    note: "hash itself is not the token",
  },

  // single user/pass plain
  {
    config: "userPass",
    kind: "STANDARD",
    creds: { user: "derek", pass: "porkchop" },
    want: { user: "derek", account: G },
  },
  {
    config: "userPass",
    kind: "WEBSOCKET",
    creds: { user: "derek", pass: "porkchop" },
    want: { user: "derek", account: G },
  },
  { config: "userPass", kind: "STANDARD", creds: { user: "derek", pass: "wrong" }, want: null },
  { config: "userPass", kind: "STANDARD", creds: { user: "other", pass: "porkchop" }, want: null },
  { config: "userPass", kind: "STANDARD", creds: { pass: "porkchop" }, want: null },
  { config: "userPass", kind: "STANDARD", creds: {}, want: null },

  // single user/pass bcrypt
  {
    config: "userPassBcrypt",
    kind: "STANDARD",
    creds: { user: "derek", pass: "porkchop" },
    want: { user: "derek", account: G },
  },
  {
    config: "userPassBcrypt",
    kind: "STANDARD",
    creds: { user: "derek", pass: "porkchoP" },
    want: null,
  },
  {
    config: "userPassBcrypt",
    kind: "STANDARD",
    creds: { user: "derek", pass: BC_PORK },
    want: null,
  },
  { config: "userPassBcrypt", kind: "STANDARD", creds: { user: "derek" }, want: null },

  // users list
  {
    config: "users",
    kind: "STANDARD",
    creds: { user: "alice", pass: "foo" },
    want: { user: "alice", account: G, permissions: PERM_ALICE },
  },
  {
    config: "users",
    kind: "WEBSOCKET",
    creds: { user: "alice", pass: "foo" },
    want: { user: "alice", account: G, permissions: PERM_ALICE },
  },
  { config: "users", kind: "STANDARD", creds: { user: "alice", pass: "bar" }, want: null },
  {
    config: "users",
    kind: "STANDARD",
    creds: { user: "bob", pass: "bar" },
    want: { user: "bob", account: "A", permissions: PERM_ACCT_A },
    note: "bcrypt + account default perms",
  },
  { config: "users", kind: "STANDARD", creds: { user: "bob", pass: "foo" }, want: null },
  {
    config: "users",
    kind: "WEBSOCKET",
    creds: { user: "bob", pass: "bar" },
    want: null,
    note: "STANDARD only",
  },
  {
    config: "users",
    kind: "WEBSOCKET",
    creds: { user: "carol", pass: "c" },
    want: { user: "carol", account: G, permissions: PERM_DEFAULT },
  },
  {
    config: "users",
    kind: "STANDARD",
    creds: { user: "carol", pass: "c" },
    want: null,
    note: "WEBSOCKET only",
  },
  {
    config: "users",
    kind: "STANDARD",
    creds: { user: "dave", pass: "d" },
    want: { user: "dave", account: G, permissions: PERM_DEFAULT },
    note: "global default perms",
  },
  { config: "users", kind: "STANDARD", creds: { user: "nobody", pass: "x" }, want: null },
  { config: "users", kind: "STANDARD", creds: {}, want: null },
  { config: "users", kind: "STANDARD", creds: { pass: "foo" }, want: null },
  { config: "users", kind: "STANDARD", creds: { auth_token: "foo" }, want: null },
  {
    config: "users",
    kind: "MQTT",
    creds: { user: "alice", pass: "foo" },
    want: { user: "alice", account: G, permissions: PERM_ALICE },
  },

  // nkeys (+ a password user alongside)
  {
    config: "nkeys",
    kind: "STANDARD",
    creds: { nkey: NK_ANY, signWith: "any" },
    want: { user: NK_ANY, account: G },
  },
  {
    config: "nkeys",
    kind: "WEBSOCKET",
    creds: { nkey: NK_ANY, signWith: "any" },
    want: { user: NK_ANY, account: G },
  },
  {
    config: "nkeys",
    kind: "STANDARD",
    creds: { nkey: NK_ANY, signWith: "any", stdSig: true },
    want: { user: NK_ANY, account: G },
    note: "std base64 sig",
  },
  {
    config: "nkeys",
    kind: "STANDARD",
    creds: { nkey: NK_ANY, signWith: "bad" },
    want: null,
    note: "tampered",
  },
  {
    config: "nkeys",
    kind: "STANDARD",
    creds: { nkey: NK_ANY, signWith: "std" },
    want: null,
    note: "signed by another key",
  },
  { config: "nkeys", kind: "STANDARD", creds: { nkey: NK_ANY }, want: null, note: "no sig" },
  {
    config: "nkeys",
    kind: "STANDARD",
    creds: { nkey: NK_ANY, user: "pwuser", pass: "pw" },
    want: null,
    note: "nkey wins, sig missing",
  },
  {
    config: "nkeys",
    kind: "STANDARD",
    creds: { nkey: NK_STD, signWith: "std" },
    want: { user: NK_STD, account: "A" },
  },
  {
    config: "nkeys",
    kind: "WEBSOCKET",
    creds: { nkey: NK_STD, signWith: "std" },
    want: null,
    note: "STANDARD only",
  },
  {
    config: "nkeys",
    kind: "WEBSOCKET",
    creds: { nkey: NK_WS, signWith: "ws" },
    want: { user: NK_WS, account: G },
  },
  {
    config: "nkeys",
    kind: "STANDARD",
    creds: { nkey: NK_WS, signWith: "ws" },
    want: null,
    note: "WEBSOCKET only",
  },
  {
    config: "nkeys",
    kind: "STANDARD",
    creds: { nkey: nkUnknown.getPublicKey(), signWith: "unknown" },
    want: null,
    note: "unknown nkey",
  },
  {
    config: "nkeys",
    kind: "STANDARD",
    creds: { user: "pwuser", pass: "pw" },
    want: { user: "pwuser", account: G },
  },
  { config: "nkeys", kind: "STANDARD", creds: {}, want: null },

  // no_auth_user
  { config: "noAuthUser", kind: "STANDARD", creds: {}, want: { user: "guest", account: "G" } },
  {
    config: "noAuthUser",
    kind: "WEBSOCKET",
    creds: {},
    want: null,
    note: "guest is STANDARD only",
  },
  {
    config: "noAuthUser",
    kind: "STANDARD",
    creds: { user: "alice", pass: "foo" },
    want: { user: "alice", account: G },
  },
  { config: "noAuthUser", kind: "STANDARD", creds: { user: "alice", pass: "nope" }, want: null },
  {
    config: "noAuthUser",
    kind: "STANDARD",
    creds: { pass: "g" },
    want: null,
    note: "pass alone disables the fill-in",
  },
  {
    config: "noAuthUser",
    kind: "STANDARD",
    creds: { auth_token: "x" },
    want: null,
    note: "token disables the fill-in",
  },
  {
    config: "noAuthUser",
    kind: "STANDARD",
    creds: { user: "hid", pass: "hidden" },
    want: { user: "hid", account: G },
  },
  {
    config: "noAuthUserBcrypt",
    kind: "STANDARD",
    creds: {},
    want: null,
    note: "reference quirk: no_auth_user with a bcrypt password never works via CONNECT",
  },

  // websocket override
  {
    config: "wsToken",
    kind: "STANDARD",
    creds: { user: "derek", pass: "porkchop" },
    want: { user: "derek", account: G },
  },
  { config: "wsToken", kind: "STANDARD", creds: { auth_token: "wstok" }, want: null },
  { config: "wsToken", kind: "WEBSOCKET", creds: { auth_token: "wstok" }, want: { account: G } },
  {
    config: "wsToken",
    kind: "WEBSOCKET",
    creds: { user: "derek", pass: "porkchop" },
    want: null,
    note: "ws uses only the override",
  },
  { config: "wsToken", kind: "WEBSOCKET", creds: {}, want: null },
  {
    config: "wsUserOnly",
    kind: "STANDARD",
    creds: {},
    want: { account: G },
    note: "no top-level auth",
  },
  {
    config: "wsUserOnly",
    kind: "WEBSOCKET",
    creds: { user: "wsu", pass: "wsp" },
    want: { user: "wsu", account: G },
  },
  { config: "wsUserOnly", kind: "WEBSOCKET", creds: { user: "wsu", pass: "x" }, want: null },
  { config: "wsUserOnly", kind: "WEBSOCKET", creds: {}, want: null },
  { config: "wsNoAuth", kind: "STANDARD", creds: {}, want: { user: "tcpguest", account: G } },
  { config: "wsNoAuth", kind: "WEBSOCKET", creds: {}, want: { user: "wsguest", account: "W" } },
  {
    config: "wsNoAuth",
    kind: "WEBSOCKET",
    creds: { user: "tcpguest", pass: "t" },
    want: { user: "tcpguest", account: G },
    note: "users still apply",
  },
  { config: "wsNoAuth", kind: "WEBSOCKET", creds: { user: "tcpguest", pass: "bad" }, want: null },
  {
    config: "wsTimeoutOnly",
    kind: "WEBSOCKET",
    creds: { auth_token: "s3cr3t" },
    want: { account: G },
  },
  { config: "wsTimeoutOnly", kind: "WEBSOCKET", creds: {}, want: null },
];

const signers = { any: nkAny, std: nkStd, ws: nkWs, unknown: nkUnknown };

Deno.test("authenticate: mechanism × credentials × connection kind matrix", async () => {
  const pool = new BcryptPool({ size: 2, idleMs: 0 });
  try {
    const auths = new Map(
      Object.entries(CONFIGS).map(([k, c]) => [k, createAuthenticator(c, { bcrypt: pool })]),
    );
    for (const row of ROWS) {
      const auth = auths.get(row.config)!;
      const nonce = auth.nonceRequired ? createNonce() : undefined;
      const { signWith, stdSig, ...creds } = row.creds;
      if (signWith) {
        const data = enc.encode(nonce ?? "");
        if (signWith === "bad") {
          const s = nkAny.sign(data);
          s[0] ^= 0xff;
          creds.sig = b64url(s);
        } else {
          const s = signers[signWith].sign(data);
          creds.sig = stdSig ? b64std(s) : b64url(s);
        }
      }
      const label = `${row.config} ${row.kind} ${JSON.stringify(row.creds)} ${row.note ?? ""}`;
      const got = await auth.authenticate(creds, peer(row.kind), nonce);
      assert.deepEqual(got, row.want, label);
      // Twice: the second bcrypt verification of a success comes from the cache.
      assert.deepEqual(
        await auth.authenticate(creds, peer(row.kind), nonce),
        row.want,
        label + " (again)",
      );
    }
  } finally {
    pool.close();
  }
});

Deno.test("bcrypt success is cached: second login is synchronous", async () => {
  const pool = new BcryptPool({ size: 1, idleMs: 0 });
  try {
    const auth = createAuthenticator(CONFIGS.userPassBcrypt, { bcrypt: pool });
    const first = auth.authenticate(
      { user: "derek", pass: "porkchop" },
      peer("STANDARD"),
      undefined,
    );
    assert.ok(first instanceof Promise);
    assert.deepEqual(await first, { user: "derek", account: G });
    const second = auth.authenticate(
      { user: "derek", pass: "porkchop" },
      peer("STANDARD"),
      undefined,
    );
    assert.deepEqual(second, { user: "derek", account: G });
    const wrong = auth.authenticate({ user: "derek", pass: "x" }, peer("STANDARD"), undefined);
    assert.ok(wrong instanceof Promise);
    assert.equal(await wrong, null);
    // plaintext and nkey paths never return a Promise
    const plain = createAuthenticator(CONFIGS.userPass, { bcrypt: pool });
    assert.ok(
      !(plain.authenticate(
        { user: "derek", pass: "porkchop" },
        peer("STANDARD"),
        undefined,
      ) instanceof Promise),
    );
  } finally {
    pool.close();
  }
});

Deno.test("nkey signature must be over the nonce sent in INFO", () => {
  const auth = createAuthenticator(CONFIGS.nkeys);
  const nonce = createNonce();
  const sig = b64url(nkAny.sign(enc.encode(nonce)));
  assert.deepEqual(auth.authenticate({ nkey: NK_ANY, sig }, peer("STANDARD"), nonce), {
    user: NK_ANY,
    account: G,
  });
  assert.equal(auth.authenticate({ nkey: NK_ANY, sig }, peer("STANDARD"), createNonce()), null);
  assert.equal(auth.authenticate({ nkey: NK_ANY, sig }, peer("STANDARD"), undefined), null);
});

Deno.test("INFO flags: authRequired, authEnforced, nonceRequired, timeoutMs", () => {
  const cases: {
    config: string;
    tcp: boolean;
    ws: boolean;
    enforcedTcp: boolean;
    enforcedWs: boolean;
    nonce: boolean;
    timeoutTcp: number;
    timeoutWs: number;
  }[] = [
    {
      config: "none",
      tcp: false,
      ws: false,
      enforcedTcp: false,
      enforcedWs: false,
      nonce: false,
      timeoutTcp: 2000,
      timeoutWs: 2000,
    },
    {
      config: "token",
      tcp: true,
      ws: true,
      enforcedTcp: true,
      enforcedWs: true,
      nonce: false,
      timeoutTcp: 2000,
      timeoutWs: 2000,
    },
    {
      config: "userPass",
      tcp: true,
      ws: true,
      enforcedTcp: true,
      enforcedWs: true,
      nonce: false,
      timeoutTcp: 2000,
      timeoutWs: 2000,
    },
    {
      config: "users",
      tcp: true,
      ws: true,
      enforcedTcp: true,
      enforcedWs: true,
      nonce: false,
      timeoutTcp: 2000,
      timeoutWs: 2000,
    },
    {
      config: "nkeys",
      tcp: true,
      ws: true,
      enforcedTcp: true,
      enforcedWs: true,
      nonce: true,
      timeoutTcp: 2000,
      timeoutWs: 2000,
    },
    // top-level no_auth_user clears auth_required for TCP INFO only; the timer still runs
    {
      config: "noAuthUser",
      tcp: false,
      ws: true,
      enforcedTcp: true,
      enforcedWs: true,
      nonce: false,
      timeoutTcp: 2000,
      timeoutWs: 2000,
    },
    {
      config: "wsToken",
      tcp: true,
      ws: true,
      enforcedTcp: true,
      enforcedWs: true,
      nonce: false,
      timeoutTcp: 2000,
      timeoutWs: 2000,
    },
    {
      config: "wsUserOnly",
      tcp: false,
      ws: true,
      enforcedTcp: false,
      enforcedWs: true,
      nonce: false,
      timeoutTcp: 2000,
      timeoutWs: 2000,
    },
    {
      config: "wsNoAuth",
      tcp: false,
      ws: true,
      enforcedTcp: true,
      enforcedWs: true,
      nonce: false,
      timeoutTcp: 2000,
      timeoutWs: 2000,
    },
    {
      config: "wsTimeoutOnly",
      tcp: true,
      ws: true,
      enforcedTcp: true,
      enforcedWs: true,
      nonce: false,
      timeoutTcp: 5000,
      timeoutWs: 1500,
    },
  ];
  for (const c of cases) {
    const a = createAuthenticator(CONFIGS[c.config]);
    assert.equal(a.authRequired("STANDARD"), c.tcp, `${c.config} tcp`);
    assert.equal(a.authRequired("WEBSOCKET"), c.ws, `${c.config} ws`);
    assert.equal(a.authEnforced("STANDARD"), c.enforcedTcp, `${c.config} enforced tcp`);
    assert.equal(a.authEnforced("WEBSOCKET"), c.enforcedWs, `${c.config} enforced ws`);
    assert.equal(a.nonceRequired, c.nonce, `${c.config} nonce`);
    assert.equal(a.timeoutMs("STANDARD"), c.timeoutTcp, `${c.config} timeout tcp`);
    assert.equal(a.timeoutMs("WEBSOCKET"), c.timeoutWs, `${c.config} timeout ws`);
  }
});

Deno.test("noAuthIdentity: parser shortcut uses the top-level no_auth_user only", () => {
  assert.deepEqual(createAuthenticator(CONFIGS.noAuthUser).noAuthIdentity(), {
    user: "guest",
    account: "G",
  });
  // no password check, so even a bcrypt no_auth_user works here (as in parser.go)
  assert.deepEqual(createAuthenticator(CONFIGS.noAuthUserBcrypt).noAuthIdentity(), {
    user: "hid",
    account: G,
  });
  assert.deepEqual(createAuthenticator(CONFIGS.wsNoAuth).noAuthIdentity(), {
    user: "tcpguest",
    account: G,
  });
  assert.equal(createAuthenticator(CONFIGS.users).noAuthIdentity(), null);
  assert.equal(createAuthenticator(CONFIGS.wsUserOnly).noAuthIdentity(), null);
});

Deno.test("warnings: plaintext passwords", () => {
  const cases: [AuthConfig, string[]][] = [
    [CONFIGS.none, []],
    [CONFIGS.token, []],
    [CONFIGS.userPass, [PLAINTEXT_PASSWORD_WARNING]],
    [CONFIGS.userPassBcrypt, []],
    [CONFIGS.users, [PLAINTEXT_PASSWORD_WARNING]],
    [{
      ...base(),
      users: [{ user: "a", password: BC_BAR, account: G }, { nkey: NK_ANY, account: G }],
    }, []],
    [{ ...base(), users: [{ user: "a", account: G }] }, [PLAINTEXT_PASSWORD_WARNING]],
    [{ ...base(), users: [{ nkey: NK_ANY, account: G }] }, []],
  ];
  for (const [cfg, want] of cases) assert.deepEqual(warnings(cfg), want);
});
