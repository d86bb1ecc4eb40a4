/**
 * bcrypt hashes made by Apache's `htpasswd -B` (an independent implementation) verify with our
 * bcrypt, and a server configured with one accepts the password and refuses others.
 */
import { bcryptVerifySync } from "../../lib/auth/bcrypt.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { transcript } from "../helpers/raw.ts";
import { startOurs } from "../helpers/server.ts";

function haveHtpasswd(): boolean {
  try {
    new Deno.Command("htpasswd", { args: ["-h"], stdout: "null", stderr: "null" }).outputSync();
    return true;
  } catch {
    console.log("htpasswd not on PATH (Debian: apache2-utils): htpasswd cases are skipped");
    return false;
  }
}

/** `htpasswd -nbB -C cost user password` → the `$2y$...` hash. */
function htpasswd(password: string, cost: number): string {
  const out = new Deno.Command("htpasswd", {
    args: ["-nbB", "-C", String(cost), "user", password],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  assert(out.success, new TextDecoder().decode(out.stderr));
  const line = new TextDecoder().decode(out.stdout).trim();
  return line.slice(line.indexOf(":") + 1);
}

const PASSWORDS = ["s3cr3t", "", "pässwörd ✓", "x".repeat(71), "y".repeat(72), "z".repeat(80)];

Deno.test("htpasswd -B hashes verify with our bcrypt", () => {
  if (!haveHtpasswd()) return;
  for (const cost of [4, 5, 10]) {
    for (const pw of PASSWORDS) {
      const hash = htpasswd(pw, cost);
      assert(hash.startsWith(`$2y$${String(cost).padStart(2, "0")}$`), hash);
      assert(bcryptVerifySync(hash, pw), `cost ${cost}, ${JSON.stringify(pw)}`);
      // bcrypt reads at most 72 bytes, so alter the start, not the end.
      assert(!bcryptVerifySync(hash, "!" + pw), `wrong password accepted for ${hash}`);
      if (new TextEncoder().encode(pw).length >= 72) {
        assert(bcryptVerifySync(hash, pw + "ignored"), "bytes past 72 must not matter");
      }
    }
  }
});

Deno.test("a server with an htpasswd hash accepts the password and refuses others", async () => {
  if (!haveHtpasswd()) return;
  const hash = htpasswd("s3cr3t", 10);
  const s = await startOurs(`authorization { users: [ { user: alice, password: "${hash}" } ] }`);
  try {
    const ok = await transcript(s.port, [
      'CONNECT {"verbose":false,"user":"alice","pass":"s3cr3t"}\r\n',
    ], "pong");
    assertEquals(ok.text, "PONG\r\n");
    const bad = await transcript(s.port, [
      'CONNECT {"verbose":false,"user":"alice","pass":"wrong"}\r\n',
    ], "close");
    assertEquals(bad.text, "-ERR 'Authorization Violation'\r\n");
  } finally {
    await s.stop();
  }
});
