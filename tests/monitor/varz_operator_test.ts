/** `/varz` in operator mode carries the operator JWTs, their claims and the system account. */
import { assertEquals } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { makeTrust, operatorConfig } from "../auth/jwt_fixture.ts";

Deno.test("varz: trusted_operators_jwt, trusted_operators_claim, system_account as nats-server", async () => {
  const t = await makeTrust();
  const cfg = operatorConfig(t, [], "http: '127.0.0.1:-1'");
  const pick = (v: Record<string, unknown>) => ({
    jwt: v.trusted_operators_jwt,
    claim: JSON.stringify(v.trusted_operators_claim),
    sys: v.system_account,
  });
  const ours = await startOurs(cfg);
  let mine: ReturnType<typeof pick>;
  try {
    mine = pick(await (await fetch(`http://127.0.0.1:${ours.monitorPort}/varz`)).json());
  } finally {
    await ours.stop();
  }
  assertEquals(mine.jwt, [t.operatorJwt]);
  assertEquals(mine.sys, t.sys.getPublicKey());
  if (!haveNatsServer()) return;
  const ref = await startReference(cfg);
  try {
    const theirs = pick(await (await fetch(`http://127.0.0.1:${ref.monitorPort}/varz`)).json());
    assertEquals(mine, theirs);
  } finally {
    await ref.stop();
  }
});
