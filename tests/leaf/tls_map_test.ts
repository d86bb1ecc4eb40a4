/**
 * `leafnodes { tls { verify_and_map } }`: the leaf's client certificate picks the leafnode user
 * (here by its email SAN), and so the account; no certificate match, no link. Ours next to
 * nats-server 2.9.10 as the hub of the same nats-server leaf, read from `/leafz`.
 */
import { assertEquals } from "../helpers/assert.ts";
import { haveOpenssl, testPki } from "../helpers/certs.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { freePort, leafConfig, leafPortOf } from "./harness.ts";

async function leafAccount(impl: "ours" | "ref", user: string): Promise<string | null> {
  const pki = await testPki();
  const conf = `http: "127.0.0.1:-1"\naccounts { A {} }\nleafnodes {\n listen: "127.0.0.1:-1"\n` +
    ` tls { cert_file: "${pki.server.certFile}", key_file: "${pki.server.keyFile}",` +
    ` ca_file: "${pki.ca.certFile}", verify_and_map: true }\n` +
    ` authorization { users: [ { user: "${user}", account: A } ] }\n}\n`;
  const hub = impl === "ours" ? await startOurs(conf) : await startReference(conf);
  const mon = impl === "ours"
    ? (hub as Awaited<ReturnType<typeof startOurs>>).monitorPort!
    : (hub as Awaited<ReturnType<typeof startReference>>).monitorPort!;
  const leafPort = impl === "ours"
    ? (hub as Awaited<ReturnType<typeof startOurs>>).handle.ports.leafnode!
    : leafPortOf((hub as Awaited<ReturnType<typeof startReference>>).stderr());
  const leaf = await startReference(
    leafConfig([
      `{ url: "tls://127.0.0.1:${leafPort}", tls { cert_file: "${pki.client.certFile}",` +
      ` key_file: "${pki.client.keyFile}", ca_file: "${pki.ca.certFile}" } }`,
    ]),
    ["-p", String(freePort())],
  );
  try {
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      const z = await (await fetch(`http://127.0.0.1:${mon}/leafz`)).json();
      if (z.leafnodes > 0) return z.leafs[0].account;
      await new Promise((r) => setTimeout(r, 50));
    }
    return null;
  } finally {
    await leaf.stop();
    await hub.stop();
  }
}

for (const [user, want] of [["alice@example.com", "A"], ["bob@example.com", null]] as const) {
  Deno.test({
    name: `leaf tls verify_and_map: leafnode user ${user} → ${want ?? "refused"}, as nats-server`,
    ignore: !haveNatsServer() || !haveOpenssl(),
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      assertEquals(await leafAccount("ref", user), want, "nats-server");
      assertEquals(await leafAccount("ours", user), want, "ours");
    },
  });
}
