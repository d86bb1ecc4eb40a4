import assert from "node:assert/strict";
import {
  createAccount,
  createOperator,
  createServer,
  createUser,
  fromPublic,
  fromSeed,
} from "@nats-io/nkeys";
import {
  base32Decode,
  base32Encode,
  crc16,
  decodePublicKey,
  decodeSeed,
  encodePublicKey,
  isValidPublicAccountKey,
  isValidPublicServerKey,
  isValidPublicUserKey,
  PREFIX,
} from "../../lib/core/nkey.ts";
import {
  base64Decode,
  createKeyPair,
  createNonce,
  createServerId,
  NONCE_LEN,
  verifyNonceSignature,
} from "../../lib/auth/nkeys.ts";

const enc = new TextEncoder();

function b64url(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}
function b64std(b: Uint8Array): string {
  return btoa(String.fromCharCode(...b));
}

Deno.test("crc16 xmodem check value", () => {
  assert.equal(crc16(enc.encode("123456789")), 0x31c3);
  assert.equal(crc16(new Uint8Array()), 0);
});

Deno.test("base32 round trip against RFC 4648 vectors", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "MY"],
    ["fo", "MZXQ"],
    ["foo", "MZXW6"],
    ["foob", "MZXW6YQ"],
    ["fooba", "MZXW6YTB"],
    ["foobar", "MZXW6YTBOI"],
  ];
  for (const [plain, coded] of vectors) {
    assert.equal(base32Encode(enc.encode(plain)), coded, plain);
    assert.deepEqual(base32Decode(coded), enc.encode(plain), coded);
  }
  assert.equal(base32Decode("MZXW6!"), null);
  assert.equal(base32Decode("mzxw6"), null, "lower case is not in the alphabet");
  assert.equal(base32Decode("M"), null, "impossible length");
});

Deno.test("public keys from npm nkeys decode and validate", () => {
  const cases: [string, () => { getPublicKey(): string }, number][] = [
    ["user", createUser, PREFIX.user],
    ["account", createAccount, PREFIX.account],
    ["server", createServer, PREFIX.server],
    ["operator", createOperator, PREFIX.operator],
  ];
  for (const [name, make, prefix] of cases) {
    for (let i = 0; i < 5; i++) {
      const kp = make();
      const pub = kp.getPublicKey();
      const d = decodePublicKey(pub);
      assert.ok(d, `${name} ${pub}`);
      assert.equal(d.prefix, prefix);
      assert.equal(d.key.length, 32);
      assert.equal(encodePublicKey(prefix, d.key), pub, "re-encoding gives the same text");
      assert.equal(decodePublicKey(pub, prefix)?.prefix, prefix);
      assert.equal(isValidPublicUserKey(pub), prefix === PREFIX.user, `${name} as user`);
      assert.equal(isValidPublicAccountKey(pub), prefix === PREFIX.account);
      assert.equal(isValidPublicServerKey(pub), prefix === PREFIX.server);
    }
  }
});

Deno.test("invalid public keys are rejected", () => {
  const user = createUser();
  const pub = user.getPublicKey();
  const seed = new TextDecoder().decode(user.getSeed());
  // flip one character (CRC must catch it)
  const flipped = pub.slice(0, 10) + (pub[10] === "A" ? "B" : "A") + pub.slice(11);
  const cases: [string, string][] = [
    ["bad CRC", flipped],
    ["truncated", pub.slice(0, 55)],
    ["extended", pub + "A"],
    ["lower case", pub.toLowerCase()],
    ["seed is not a public key", seed],
    ["empty", ""],
    ["garbage", "UABC!"],
  ];
  for (const [name, key] of cases) {
    assert.equal(decodePublicKey(key), null, name);
    assert.equal(isValidPublicUserKey(key), false, name);
  }
  // A valid CRC over a non-public prefix (seed prefix byte) is rejected.
  const raw = decodePublicKey(pub)!.key;
  const wrongPrefix = encodePublicKey(PREFIX.seed, raw);
  assert.equal(decodePublicKey(wrongPrefix), null, "wrong prefix");
  assert.equal(isValidPublicUserKey(encodePublicKey(PREFIX.account, raw)), false);
});

Deno.test("seed decoding matches npm nkeys", () => {
  for (let i = 0; i < 5; i++) {
    const u = createUser();
    const d = decodeSeed(new TextDecoder().decode(u.getSeed()));
    assert.ok(d);
    assert.equal(d.prefix, PREFIX.user);
    assert.equal(d.key.length, 32);
  }
});

Deno.test("nonce signature verification table (real npm nkeys signatures)", () => {
  const user = createUser();
  const other = createUser();
  const pub = user.getPublicKey();
  const nonce = createNonce();
  const sig = user.sign(enc.encode(nonce));
  const tampered = sig.slice();
  tampered[5] ^= 1;
  const otherSig = other.sign(enc.encode(nonce));
  const otherNonceSig = user.sign(enc.encode(nonce + "x"));
  const flipped = pub.slice(0, 20) + (pub[20] === "A" ? "B" : "A") + pub.slice(21);
  const asAccount = encodePublicKey(PREFIX.account, decodePublicKey(pub)!.key);

  const cases: { name: string; key: string; sig: string; ok: boolean }[] = [
    { name: "good sig base64url raw", key: pub, sig: b64url(sig), ok: true },
    { name: "good sig std base64 padded", key: pub, sig: b64std(sig), ok: true },
    { name: "tampered sig", key: pub, sig: b64url(tampered), ok: false },
    { name: "sig by another key", key: pub, sig: b64url(otherSig), ok: false },
    { name: "sig over another nonce", key: pub, sig: b64url(otherNonceSig), ok: false },
    { name: "wrong key", key: other.getPublicKey(), sig: b64url(sig), ok: false },
    { name: "bad CRC key", key: flipped, sig: b64url(sig), ok: false },
    {
      name: "wrong prefix, same key bytes (any public prefix verifies)",
      key: asAccount,
      sig: b64url(sig),
      ok: true,
    },
    { name: "empty sig", key: pub, sig: "", ok: false },
    { name: "not base64", key: pub, sig: "!!!!", ok: false },
    { name: "truncated sig", key: pub, sig: b64url(sig.slice(0, 63)), ok: false },
    // Unpadded std base64 only decodes when it happens to be valid raw base64url (no + or /),
    // exactly as Go's RawURLEncoding-then-StdEncoding fallback behaves.
    {
      name: "std base64 without padding",
      key: pub,
      sig: b64std(sig).replace(/=+$/, ""),
      ok: !/[+/]/.test(b64std(sig)),
    },
    { name: "std base64 with + and / chars, padded", key: pub, sig: b64std(sig), ok: true },
    // Padded base64url: raw url rejects '=', std accepts it only without '-'/'_' chars.
    {
      name: "base64url with padding",
      key: pub,
      sig: b64url(sig) + "==",
      ok: !/[-_]/.test(b64url(sig)),
    },
  ];
  for (const c of cases) {
    assert.equal(verifyNonceSignature(c.key, nonce, c.sig), c.ok, c.name);
  }
  // Uint8Array nonce works too.
  assert.equal(verifyNonceSignature(pub, enc.encode(nonce), b64url(sig)), true);
});

Deno.test("go base64 decoding rules", () => {
  // 64-byte signature: raw url is 86 chars; std is 88 with "==".
  assert.deepEqual(base64Decode("AQID", true), new Uint8Array([1, 2, 3]));
  assert.deepEqual(base64Decode("AQI", true), new Uint8Array([1, 2]));
  assert.equal(base64Decode("AQI=", true), null, "raw url rejects padding");
  assert.equal(base64Decode("AQI", false), null, "std needs padding");
  assert.deepEqual(base64Decode("AQI=", false), new Uint8Array([1, 2]));
  assert.deepEqual(base64Decode("-_-_", true), new Uint8Array([0xfb, 0xff, 0xbf]));
  assert.equal(base64Decode("+/+/", true), null);
  assert.deepEqual(base64Decode("+/+/", false), new Uint8Array([0xfb, 0xff, 0xbf]));
  assert.equal(base64Decode("A", true), null);
});

Deno.test("createServerId is a real, random server nkey", () => {
  const ids = new Set<string>();
  for (let i = 0; i < 20; i++) {
    const id = createServerId();
    assert.equal(id.length, 56);
    assert.equal(id[0], "N");
    assert.ok(isValidPublicServerKey(id));
    // npm nkeys accepts it as a public key
    assert.equal(fromPublic(id).getPublicKey(), id);
    ids.add(id);
  }
  assert.equal(ids.size, 20);
});

Deno.test("createKeyPair seeds are accepted by npm nkeys and sign verifiably", () => {
  for (const prefix of [PREFIX.server, PREFIX.user]) {
    const kp = createKeyPair(prefix);
    const npm = fromSeed(enc.encode(kp.seed));
    assert.equal(npm.getPublicKey(), kp.publicKey);
    const nonce = createNonce();
    assert.ok(verifyNonceSignature(kp.publicKey, nonce, b64url(npm.sign(enc.encode(nonce)))));
  }
});

Deno.test("createNonce: 15 base64url chars of 11 random bytes", () => {
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const n = createNonce();
    assert.equal(n.length, NONCE_LEN);
    assert.match(n, /^[A-Za-z0-9_-]{15}$/);
    assert.equal(base64Decode(n, true)?.length, 11);
    seen.add(n);
  }
  assert.equal(seen.size, 100);
});
