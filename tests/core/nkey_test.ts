import assert from "node:assert/strict";
import { haveNatsServer } from "../helpers/reference.ts";
import {
  isValidPublicAccountKey,
  isValidPublicKey,
  isValidPublicUserKey,
  PREFIX,
} from "../../lib/core/nkey.ts";

// The old lib/auth copy also demanded a 32-byte payload; the reference's nkeys.Decode (used by
// IsValidPublicUserKey) checks base32, CRC and prefix only. [key, valid user key]
const SHORT_KEYS: [string, boolean][] = [
  ["UAAV6DI", true], // prefix U + one byte + CRC
  ["UDVLK", false], // prefix + CRC only: fewer than 4 bytes
  ["UAAV6DA", false], // bad CRC
  ["AADQO4HJ", false], // valid CRC, account prefix
];

Deno.test("nkey: public-key validity is the reference's Decode (no length check)", () => {
  for (const [key, want] of SHORT_KEYS) {
    assert.equal(isValidPublicUserKey(key), want, key);
    assert.equal(isValidPublicKey(key, PREFIX.user), want, key);
  }
  assert.equal(isValidPublicAccountKey("AADQO4HJ"), true);
});

Deno.test("nkey: nats-server -t agrees on short user keys", async (t) => {
  if (!haveNatsServer()) {
    console.log("skipped: nats-server not on PATH");
    return;
  }
  const dir = await Deno.makeTempDir();
  try {
    for (const [key, want] of SHORT_KEYS) {
      await t.step(key, async () => {
        const conf = `${dir}/k.conf`;
        await Deno.writeTextFile(conf, `authorization { users = [ {nkey: "${key}"} ] }\n`);
        const run = async (cmd: string, args: string[]) =>
          (await new Deno.Command(cmd, { args, stdout: "null", stderr: "null" }).output()).code;
        const ref = await run("nats-server", ["-t", "-c", conf]);
        const ours = await run(Deno.execPath(), [
          "run",
          "-A",
          new URL("../../main.ts", import.meta.url).pathname,
          "-t",
          "-c",
          conf,
        ]);
        assert.equal(ref === 0, want, "reference");
        assert.equal(ours, ref);
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
