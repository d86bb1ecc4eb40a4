/**
 * Operator-mode startup failures that only show when the server starts, against nats-server
 * 2.9.10: an operator without an account server URL and no `resolver` (the reference then
 * builds a URL resolver for "/accounts" and fails its reachability check), and an operator JWT
 * whose signature does not verify.
 */
import { assert, assertMatch } from "../helpers/assert.ts";
import { haveNatsServer } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { makeTrust } from "./jwt_fixture.ts";

async function referenceStartError(config: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "jwtstart" });
  try {
    await Deno.writeTextFile(`${dir}/n.conf`, config);
    const out = await new Deno.Command("nats-server", {
      args: ["-c", `${dir}/n.conf`, "-p", "-1", "-a", "127.0.0.1"],
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(10_000),
    }).output();
    assert(!out.success, "nats-server started");
    return new TextDecoder().decode(out.stderr).trim();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function oursStartError(config: string): Promise<string> {
  try {
    const s = await startOurs(config);
    await s.stop();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("ours started");
}

Deno.test("jwt startup: an operator without a resolver fails the /accounts URL check", async () => {
  const t = await makeTrust();
  const config = `operator: "${t.operatorJwt}"\n`;
  const want = `could not fetch <"/accounts/">: Get "/accounts/": unsupported protocol scheme ""`;
  assertMatch(await oursStartError(config), new RegExp(want.replace(/[()/."<>]/g, "\\$&")));
  if (haveNatsServer()) assert((await referenceStartError(config)).includes(want));
});

Deno.test("jwt startup: an operator JWT with a bad signature is refused", async () => {
  const t = await makeTrust();
  const [h, c, s] = t.operatorJwt.split(".");
  const tampered = `${h}.${c}.${s.slice(0, -4)}${s.slice(-4) === "AAAA" ? "BBBB" : "AAAA"}`;
  const config = `operator: "${tampered}"\nresolver: MEMORY\n`;
  const want = "error parsing operator JWT: claim failed V2 signature verification";
  assert((await oursStartError(config)).includes(want));
  if (haveNatsServer()) assert((await referenceStartError(config)).includes(want));
});

Deno.test("jwt startup: preloads need a writable resolver (not URL)", async () => {
  const t = await makeTrust();
  const http = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response(""),
  );
  try {
    const config = [
      `operator: "${t.operatorJwt}"`,
      `resolver: URL(http://127.0.0.1:${http.addr.port}/)`,
      `resolver_preload: { ${t.account.getPublicKey()}: "${t.accountJwt}" }`,
    ].join("\n");
    const want = "resolver preloads only available for writeable resolver types MEM/DIR/CACHE_DIR";
    assert((await oursStartError(config)).includes(want));
    if (haveNatsServer()) assert((await referenceStartError(config)).includes(want));
  } finally {
    await http.shutdown();
  }
});
