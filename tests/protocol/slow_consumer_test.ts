/**
 * A subscriber that stops reading is cut off (max_pending or write_deadline), counted as a slow
 * consumer, and nobody else notices: the publisher and other subscribers keep working.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { startOurs } from "../helpers/server.ts";

const QUIET = 'CONNECT {"verbose":false,"pedantic":false}\r\n';

/** Publishes `count` messages of `size` bytes in batches, then waits for the PONG. */
async function flood(pub: RawClient, subject: string, size: number, count: number): Promise<void> {
  const payload = "x".repeat(size);
  const batch = `PUB ${subject} ${size}\r\n${payload}\r\n`.repeat(100);
  for (let i = 0; i < count / 100; i++) await pub.send(batch);
  await pub.send("PING\r\n");
  await pub.readUntil((t) => t.includes("PONG\r\n"), 20_000);
  pub.text = "";
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

for (
  const [name, config] of [
    ["max_pending", "max_pending: 262144\nmax_payload: 65536"],
    ["write_deadline", 'write_deadline: "300ms"'],
  ] as const
) {
  Deno.test(`slow consumer (${name}) is closed, counted, and isolated`, async () => {
    const s = await startOurs(config);
    const stuck = await RawClient.connect(s.port);
    const healthy = await RawClient.connect(s.port);
    const pub = await RawClient.connect(s.port);
    try {
      for (const c of [stuck, healthy, pub]) await c.info();
      await stuck.send(QUIET + "SUB big 1\r\nPING\r\n");
      await stuck.readUntil((t) => t.includes("PONG"));
      await healthy.send(QUIET + "SUB small 1\r\nPING\r\n");
      await healthy.readUntil((t) => t.includes("PONG"));
      healthy.text = "";
      await pub.send(QUIET);
      // `stuck` never reads again: kernel buffers fill, then the server must give up on it.
      await flood(pub, "big", 8192, 4000);
      await waitFor(() => s.handle.stats().slowConsumers === 1, 15_000);
      assertEquals(s.handle.stats().connections, 2);
      // The others are unaffected.
      await pub.send("PUB small 2\r\nok\r\nPING\r\n");
      await pub.readUntil((t) => t.includes("PONG"));
      await healthy.readUntil((t) => t.includes("MSG small 1 2\r\nok\r\n"));
      // The stuck client sees EOF once it drains what was already sent.
      await stuck.readUntil(() => false, 15_000).catch(() => {});
      assert(stuck.closed, "slow consumer connection should be closed");
    } finally {
      for (const c of [stuck, healthy, pub]) c.close();
      await s.stop();
    }
  });
}
