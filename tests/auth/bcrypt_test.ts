import assert from "node:assert/strict";
import bcryptjs from "bcryptjs";
import {
  bcryptBase64Decode,
  bcryptBase64Encode,
  bcryptHash,
  bcryptVerifySync,
  isBcrypt,
  parseBcrypt,
} from "../../lib/auth/bcrypt.ts";
import { BcryptPool } from "../../lib/auth/bcrypt_pool.ts";
import { blowfishInit } from "../../lib/auth/blowfish_table.ts";
import { computeBlowfishInit, piFractionHex } from "../../lib/auth/blowfish_pi.ts";

Deno.test("shipped Blowfish table equals π computed with BigInt", () => {
  const shipped = blowfishInit();
  const computed = computeBlowfishInit();
  assert.equal(shipped.length, 1042);
  assert.deepEqual(shipped, computed);
  // Well-known words: P[0], P[17], S0[0], S3[255].
  assert.equal(shipped[0] >>> 0, 0x243f6a88);
  assert.equal(shipped[17] >>> 0, 0x8979fb1b);
  assert.equal(shipped[18] >>> 0, 0xd1310ba6);
  assert.equal(shipped[1041] >>> 0, 0x3ac372e6);
  assert.equal(piFractionHex(16), "243F6A8885A308D3");
});

// Known-answer vectors: [password, hash, expected]
const VECTORS: [string, string, boolean][] = [
  // OpenBSD vector (from the platform notes)
  ["U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", true],
  ["U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", false],
  // golang.org/x/crypto/bcrypt tests
  ["allmine", "$2a$10$XajjQvNhvvRt5GSeFk1xFeyqRrsxkhBkUiQeg0dt.wU1qD4aFDcga", true],
  [
    "012345678901234567890123456789012345678901234567890123456",
    "$2a$10$XajjQvNhvvRt5GSeFk1xFe5l47dONXg781AmZtd869sO8zfsHuw7C",
    true,
  ],
  // nats-server test/configs/authorization.conf ("foo")
  ["foo", "$2a$10$UHR6GhotWhpLsKtVP0/i6.Nh9.fuY73cWjLoJjb2sKT8KISBcUW5q", true],
  ["bar", "$2a$10$UHR6GhotWhpLsKtVP0/i6.Nh9.fuY73cWjLoJjb2sKT8KISBcUW5q", false],
  // Same hash under the other accepted minor versions ($2b$/$2y$/$2x$ compute the same).
  ["U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", true],
  ["U*U", "$2y$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", true],
  ["U*U", "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", true],
  // Trailing characters after 60 are ignored by Go's comparison.
  ["U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeWxyz", true],
  // Malformed: too short, bad cost, bad salt char, unsupported minor.
  ["U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe", false],
  ["U*U", "$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", false],
  ["U*U", "$2a$32$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", false],
  ["U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCC!.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", false],
  ["U*U", "$2c$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", false],
  ["U*U", "", false],
  ["", "", false],
];

Deno.test("bcrypt known-answer vectors", () => {
  for (const [pw, hash, expected] of VECTORS) {
    assert.equal(bcryptVerifySync(hash, pw), expected, `${pw} vs ${hash}`);
  }
});

Deno.test("isBcrypt uses the reference's prefix regexp", () => {
  const cases: [string, boolean][] = [
    ["$2a$11$abc", true],
    ["$2b$04$", true],
    ["$2x$10$", true],
    ["$2y$31$whatever", true],
    ["$2c$10$", false],
    ["$2a$1$", false],
    ["$2a$100$", false],
    ["2a$10$", false],
    ["plain", false],
    ["", false],
  ];
  for (const [s, want] of cases) assert.equal(isBcrypt(s), want, s);
});

Deno.test("bcrypt base64 round trip and parse", () => {
  for (let n = 0; n < 40; n++) {
    const b = crypto.getRandomValues(new Uint8Array(n));
    assert.deepEqual(bcryptBase64Decode(bcryptBase64Encode(b), n), b);
  }
  const p = parseBcrypt("$2y$12$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW")!;
  assert.equal(p.prefix, "$2y$");
  assert.equal(p.cost, 12);
  assert.equal(p.saltText, "CCCCCCCCCCCCCCCCCCCCC.");
  assert.equal(p.hashText, "E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW");
});

const PASSWORDS = [
  "",
  "a",
  "password",
  "pässwörd",
  "日本語のパスワード",
  "emoji 🔐🔑 and \u0000 nul",
  "x".repeat(71),
  "y".repeat(72),
  "z".repeat(73),
  "0123456789".repeat(10),
];

Deno.test("cross-check: our hashes verify with bcryptjs", () => {
  for (const pw of PASSWORDS) {
    for (const minor of ["a", "b"] as const) {
      const h = bcryptHash(pw, 4, { minor });
      assert.ok(h.startsWith(`$2${minor}$04$`));
      assert.equal(h.length, 60);
      assert.ok(bcryptjs.compareSync(pw, h), `bcryptjs accepts our ${minor} hash of ${pw}`);
      assert.ok(!bcryptjs.compareSync(pw + "!", h) || new TextEncoder().encode(pw).length >= 72);
    }
  }
});

Deno.test("cross-check: bcryptjs hashes verify with ours", () => {
  for (const pw of PASSWORDS) {
    const h = bcryptjs.hashSync(pw, 5);
    assert.ok(bcryptVerifySync(h, pw), `ours accepts bcryptjs hash of ${JSON.stringify(pw)}`);
    assert.ok(bcryptVerifySync("$2b$" + h.slice(4), pw), "$2b$ variant");
    assert.ok(bcryptVerifySync("$2y$" + h.slice(4), pw), "$2y$ variant");
    const longEnough = new TextEncoder().encode(pw).length >= 72;
    assert.equal(bcryptVerifySync(h, pw + "!"), longEnough, "one extra char");
  }
});

Deno.test("same salt gives the same hash as bcryptjs", () => {
  for (const pw of PASSWORDS) {
    const salt = bcryptjs.genSaltSync(4);
    const theirs = bcryptjs.hashSync(pw, salt);
    const saltBytes = bcryptBase64Decode(salt.slice(7), 16)!;
    assert.equal(bcryptHash(pw, 4, { salt: saltBytes }), theirs, JSON.stringify(pw));
  }
});

Deno.test("only the first 72 bytes count", () => {
  const base = "k".repeat(72);
  const h = bcryptHash(base, 4);
  assert.ok(bcryptVerifySync(h, base + "anything"));
  assert.ok(!bcryptVerifySync(h, base.slice(0, 71)));
});

Deno.test("BcryptPool: workers, cache, coalescing, close", async () => {
  const pool = new BcryptPool({ size: 2, cacheSize: 2, idleMs: 0 });
  try {
    const h1 = bcryptHash("one", 5);
    const h2 = bcryptHash("two", 5);
    const h3 = bcryptHash("three", 5);
    // malformed → synchronous false
    assert.equal(pool.verify("$2a$05$short", "x"), false);
    assert.equal(pool.verify("plain", "plain"), false);
    // first verification goes to a worker
    const p = pool.verify(h1, "one");
    assert.ok(p instanceof Promise);
    // identical in-flight request is coalesced
    assert.equal(pool.verify(h1, "one"), p);
    assert.equal(await p, true);
    assert.equal(pool.stats().computed, 1);
    // now a synchronous cache hit
    assert.equal(pool.verify(h1, "one"), true);
    assert.equal(pool.stats().cacheHits, 1);
    // wrong password: computed, false, not cached
    assert.equal(await pool.verify(h1, "ONE"), false);
    assert.ok(pool.verify(h1, "ONE") instanceof Promise);
    await pool.verify(h1, "ONE");
    // concurrent verifications on two workers
    const results = await Promise.all([
      pool.verifyAsync(h2, "two"),
      pool.verifyAsync(h3, "three"),
      pool.verifyAsync(h2, "nope"),
      pool.verifyAsync(h3, "nope"),
    ]);
    assert.deepEqual(results, [true, true, false, false]);
    assert.equal(pool.stats().workers, 2);
    // cache is bounded (LRU of 2): h1 was evicted by h2, h3
    assert.equal(pool.stats().cacheEntries, 2);
    assert.ok(pool.verify(h1, "one") instanceof Promise);
    assert.equal(await pool.verify(h1, "one"), true);
    // close resolves queued work with false
    const slow = bcryptHash("slow", 10);
    const pending = pool.verifyAsync(slow, "slow");
    pool.close();
    assert.equal(await pending, false);
    assert.equal(pool.stats().workers, 0);
    // and the pool restarts lazily
    assert.equal(await pool.verifyAsync(slow, "slow"), true);
  } finally {
    pool.close();
  }
});

Deno.test("BcryptPool: the event loop keeps running during a verification", async () => {
  const pool = new BcryptPool({ size: 1, idleMs: 0 });
  try {
    // warm up the worker (start-up + module load) so the measurement is the verification
    await pool.verifyAsync(bcryptHash("w", 4), "w");
    const h = bcryptHash("slow", 4);
    const slowHash = "$2a$12$" + h.slice(7); // cost 12 with the same salt: ~0.3-0.6 s
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    const ok = await pool.verifyAsync(slowHash, "slow");
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    assert.equal(ok, false, "cost changed, so the hash doesn't match");
    // An inline (blocking) verification would let no timer tick at all.
    assert.ok(ticks >= 5, `timers ran ${ticks} times during ${elapsed.toFixed(0)} ms`);
  } finally {
    pool.close();
  }
});

Deno.test("BcryptPool inline mode", async () => {
  const pool = new BcryptPool({ inline: true });
  const h = bcryptHash("x", 4);
  assert.equal(await pool.verify(h, "x"), true);
  assert.equal(pool.verify(h, "x"), true);
  assert.equal(await pool.verify(h, "y"), false);
  assert.equal(pool.stats().workers, 0);
});
