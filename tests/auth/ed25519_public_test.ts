import assert from "node:assert/strict";
import { createHash, createPrivateKey, createPublicKey } from "node:crypto";
import { ed25519PublicKey, sha512 } from "../../lib/auth/ed25519_public.ts";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const unhex = (s: string) => new Uint8Array(s.match(/../g)!.map((x) => parseInt(x, 16)));

Deno.test("ed25519PublicKey: RFC 8032 §7.1 test vectors", () => {
  const vectors = [
    [
      "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
      "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
    ],
    [
      "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
      "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
    ],
    [
      "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
      "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
    ],
  ];
  for (const [seed, pub] of vectors) assert.equal(hex(ed25519PublicKey(unhex(seed))), pub);
});

Deno.test("ed25519PublicKey: the same key as node:crypto for random seeds", () => {
  const pkcs8 = unhex("302e020100300506032b657004220420");
  for (let i = 0; i < 100; i++) {
    const seed = crypto.getRandomValues(new Uint8Array(32));
    const der = new Uint8Array(48);
    der.set(pkcs8);
    der.set(seed, 16);
    const key = createPrivateKey({ key: der as never, format: "der", type: "pkcs8" });
    const spki = createPublicKey(key).export({ format: "der", type: "spki" });
    assert.equal(hex(ed25519PublicKey(seed)), hex(new Uint8Array(spki.subarray(12))));
  }
});

Deno.test("ed25519PublicKey: refuses a seed that is not 32 bytes", () => {
  assert.throws(() => ed25519PublicKey(new Uint8Array(31)), /32 bytes/);
});

Deno.test("sha512: matches node:crypto for lengths 0..300 (block boundaries included)", () => {
  for (let n = 0; n <= 300; n++) {
    const data = crypto.getRandomValues(new Uint8Array(n));
    assert.equal(hex(sha512(data)), createHash("sha512").update(data).digest("hex"), `len ${n}`);
  }
});
