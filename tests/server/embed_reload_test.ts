/**
 * Reload and lame duck through the embedding API (`handle.reload(config)`, `handle.lameDuck()`):
 * the same decisions as SIGHUP/SIGUSR2 on the command line.
 */
import { connect } from "nats";
import { assert, assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { startOurs } from "../helpers/server.ts";
import { ServerConfigError } from "../../mod.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };

async function maxPayload(port: number): Promise<unknown> {
  const c = await RawClient.connect(port);
  const info = await c.info();
  c.close();
  return info.max_payload;
}

Deno.test("embedding: reload(config) applies what reloads and refuses the rest", opts, async () => {
  const s = await startOurs("max_payload: 100");
  try {
    await s.handle.reload("max_payload: 200");
    assertEquals(await maxPayload(s.port), 200);
    assertEquals(s.handle.options.maxPayload, 200);
    let refused: unknown;
    try {
      await s.handle.reload("max_payload: 300\nmax_subscriptions: 5");
    } catch (err) {
      refused = err;
    }
    assert(refused instanceof ServerConfigError, "refused with a ServerConfigError");
    assertEquals(
      (refused as ServerConfigError).errors,
      ["config reload not supported for MaxSubs: old=0, new=5"],
    );
    assertEquals(await maxPayload(s.port), 200, "nothing changed");
  } finally {
    await s.stop();
  }
});

Deno.test("embedding: lameDuck() tells clients and shuts down", opts, async () => {
  const s = await startOurs('lame_duck_duration: "30s"\nlame_duck_grace_period: "1s"');
  const nc = await connect({ port: s.port, reconnect: false });
  await nc.flush();
  const sawLdm = (async () => {
    for await (const st of nc.status()) if (st.type === "ldm") return true;
    return false;
  })();
  const done = s.handle.lameDuck();
  assert(await sawLdm, "the client saw ldm before the server closed it");
  await done;
  await nc.closed();
});

Deno.test(
  "embedding: the native WebSocket engine refuses a certificate change on reload",
  opts,
  async () => {
    const fixtures = new URL("../fixtures/config/tls/", import.meta.url).pathname;
    const dir = await Deno.makeTempDir({ prefix: "natswsnat" });
    const cert = `${dir}/cert.pem`;
    const key = `${dir}/key.pem`;
    await Deno.copyFile(`${fixtures}server-cert.pem`, cert);
    await Deno.copyFile(`${fixtures}server-key.pem`, key);
    const config = `websocket {
    listen: "127.0.0.1:-1"
    engine: native
    tls { cert_file: "${cert}", key_file: "${key}" }
  }`;
    const s = await startOurs(config);
    try {
      await s.handle.reload(config); // unchanged files: nothing to refuse
      await Deno.writeTextFile(cert, (await Deno.readTextFile(cert)) + "\n");
      let refused: unknown;
      try {
        await s.handle.reload(config);
      } catch (err) {
        refused = err;
      }
      assert(refused instanceof ServerConfigError, "refused");
      const [text] = (refused as ServerConfigError).errors;
      assert(
        /^config reload not supported for Websocket: old=\{tls: certificates [0-9a-f]{8}\}, new=\{tls: certificates [0-9a-f]{8}\}$/
          .test(text),
        text,
      );
    } finally {
      await s.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
);
