import { assertEquals } from "../helpers/assert.ts";
import { throws } from "node:assert/strict";

function assertThrows(fn: () => unknown, _t: unknown, text: string): void {
  throws(fn, (e: Error) => e.message.includes(text));
}
import { createAccount, createUser, encodeUser, fmtCreds } from "@nats-io/jwt";
import { formatCreds, parseCreds, signNonce } from "../../lib/auth/creds.ts";
import { verifyNonceSignature } from "../../lib/auth/nkeys.ts";

Deno.test("creds: a file written by @nats-io/jwt fmtCreds parses to its JWT and seed", async () => {
  const akp = createAccount();
  const ukp = createUser();
  const jwt = await encodeUser("u", ukp, akp);
  const text = new TextDecoder().decode(fmtCreds(jwt, ukp));
  const c = parseCreds(text);
  assertEquals(c.jwt, jwt);
  assertEquals(c.seed, new TextDecoder().decode(ukp.getSeed()));
  assertEquals(c.publicKey, ukp.getPublicKey());
  const sig = signNonce(c.seed, "abcdefghijklmno");
  assertEquals(verifyNonceSignature(c.publicKey, "abcdefghijklmno", sig), true);
  assertEquals(parseCreds(formatCreds(jwt, c.seed)).jwt, jwt);
});

Deno.test("creds: missing seed, missing JWT and a non-user seed are errors", async () => {
  const akp = createAccount();
  const jwt = await encodeUser("u", createUser(), akp);
  assertThrows(
    () => parseCreds(`-----BEGIN NATS USER JWT-----\n${jwt}\n------END NATS USER JWT------\n`),
    Error,
    "no nkey seed found",
  );
  assertThrows(() => parseCreds("nothing here"), Error, "no user JWT found");
  const aseed = new TextDecoder().decode(akp.getSeed());
  assertThrows(() => parseCreds(formatCreds(jwt, aseed)), Error, "user seed");
});
