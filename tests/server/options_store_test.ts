/**
 * The options store: options are a frozen copy (an embedder mutating what it passed, or
 * `handle.options`, cannot change a running server), and a swap rebuilds the derived pieces
 * (authenticator, INFO) while keeping the accounts when their config is unchanged.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { startOurs } from "../helpers/server.ts";
import { defaultOptions, type ServerOptions } from "../../lib/config/options.ts";
import { OptionsStore } from "../../lib/server/options_store.ts";
import { deriveServerState, NatsServer } from "../../lib/server/server.ts";
import { silentLogger } from "../../lib/server/log.ts";

async function infoOf(port: number): Promise<Record<string, unknown>> {
  const c = await RawClient.connect(port);
  try {
    return await c.info();
  } finally {
    c.close();
  }
}

Deno.test("options: handle.options is frozen and the caller's objects are copied", async () => {
  const auth: ServerOptions["auth"] = { ...defaultOptions().auth, token: "s3cret" };
  const s = await startOurs("", { maxPayload: 1000, auth });
  try {
    // The caller's own objects are not the server's: mutating them changes nothing.
    (auth as { token?: string }).token = "changed";
    let threw = false;
    try {
      (s.handle.options as { maxPayload: number }).maxPayload = 5;
    } catch (err) {
      threw = err instanceof TypeError;
    }
    assert(threw, "assigning to handle.options throws (frozen)");
    assert(Object.isFrozen(s.handle.options.auth), "nested objects are frozen too");
    assertEquals(s.handle.options.maxPayload, 1000);
    assertEquals((await infoOf(s.port)).max_payload, 1000);
    const c = await RawClient.connect(s.port);
    await c.info();
    await c.send('CONNECT {"verbose":false,"auth_token":"s3cret"}\r\nPING\r\n');
    const got = await c.readUntil((t) => t.includes("PONG") || t.includes("-ERR"));
    c.close();
    assert(got.includes("PONG"), `the original token still works: ${got}`);
  } finally {
    await s.stop();
  }
});

Deno.test("options store: swap rebuilds the derived state and bumps the generation", () => {
  const base = { ...defaultOptions(), host: "127.0.0.1" };
  const store = new OptionsStore(base, deriveServerState);
  assert(Object.isFrozen(store.options), "the stored options are frozen");
  assert(store.options !== base, "a copy is stored, not the caller's object");
  const first = store.current;
  const seen: number[] = [];
  store.onSwap((prev, cur) => seen.push(prev === first && cur === store.current ? 1 : 0));
  const previous = store.swap({ ...base, maxPayload: 2048 });
  assertEquals(previous, first);
  assertEquals(store.generation, 2);
  assertEquals(store.options.maxPayload, 2048);
  assert(store.current.authenticator !== first.authenticator, "authenticator rebuilt");
  assert(store.current.accounts === first.accounts, "same accounts config keeps the registry");
  assertEquals(seen, [1]);
  first.authenticator.close?.();
  store.current.authenticator.close?.();
  store.current.accounts.close();
});

Deno.test("options store: a failing derive leaves the state in force", () => {
  let fail = false;
  const store = new OptionsStore(defaultOptions(), (options) => {
    if (fail) throw new Error("bad");
    return { options };
  });
  const before = store.current;
  fail = true;
  let threw = false;
  try {
    store.swap({ ...defaultOptions(), maxPayload: 1 });
  } catch {
    threw = true;
  }
  assert(threw, "swap rethrows");
  assertEquals(store.current, before);
  assertEquals(store.generation, 1);
});

Deno.test("options: INFO is rebuilt after a swap (not cached forever)", async () => {
  const server = new NatsServer({ ...defaultOptions(), host: "127.0.0.1", port: -1 }, silentLogger);
  await server.start();
  try {
    assertEquals((await infoOf(server.ports.client)).max_payload, 1048576);
    server.store.swap({ ...server.options, maxPayload: 4096 });
    assertEquals((await infoOf(server.ports.client)).max_payload, 4096);
  } finally {
    await server.shutdown();
  }
});
