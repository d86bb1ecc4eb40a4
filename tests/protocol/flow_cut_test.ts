/**
 * Flow control does not protect a consumer that does not read: it is still cut, by
 * `write_deadline` (its writes make no progress) or by `max_pending` (its queue passes the limit
 * although its producers are stalled), with the reference's counters, close reasons and log
 * lines; the producer and everyone else keep being served. Ours and nats-server, same test.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { eachServer, monitor, openNats, publish, type Target, waitUntil } from "./_flow_harness.ts";

interface CutCase {
  name: string;
  config: string;
  size: number;
  count: number;
  reason: string;
  log: RegExp;
  /** A further log line both servers write. */
  stallLog?: RegExp;
  /** The cut must come within this long after the flood starts. */
  boundMs: number;
}

const CASES: CutCase[] = [
  {
    name: "write_deadline",
    config: 'write_deadline: "2s"',
    size: 1024,
    count: 150_000,
    reason: "Slow Consumer (Write Deadline)",
    log:
      /Slow Consumer Detected: WriteDeadline of 2s exceeded with \d+ chunks of \d+ total bytes\./,
    // The deadline, plus filling the socket and half of max_pending, plus the sweep.
    boundMs: 2000 + 3000,
  },
  {
    name: "max_pending",
    config: 'write_deadline: "60s"\nmax_pending: 512KB\nmax_payload: 128KB\ndebug: true',
    size: 64 * 1024,
    count: 2_000,
    reason: "Slow Consumer (Pending Bytes)",
    log: /Slow Consumer Detected: MaxPending of 524288 Exceeded/,
    // The producer waited for it first, each stall timing out (debug level).
    stallLog: /cid:\d+ - Timed out of fast producer stall \((\d+ms|[\d.]+s)\)/,
    // Stalls of 100 ms – 1 s for the few messages between half and all of max_pending.
    boundMs: 8000,
  },
];

async function bounded(p: Promise<unknown>, ms: number, what: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function closedReasons(t: Target): Promise<string[]> {
  const connz = await monitor(t, "/connz?state=closed");
  return ((connz.connections ?? []) as { reason: string }[]).map((c) => c.reason);
}

for (const c of CASES) {
  Deno.test(`flow: a consumer that never reads is cut by ${c.name}; others unaffected`, async () => {
    await eachServer(c.config, async (t) => {
      const stuck = await openNats(t, "tcp");
      const healthy = await openNats(t, "tcp");
      const pub = await openNats(t, "tcp");
      try {
        await stuck.send("SUB big 1\r\n");
        await stuck.flush();
        await healthy.send("SUB small 1\r\n");
        await healthy.flush();
        let got = 0;
        const hloop = healthy.readLoop(() => got++);
        await pub.flush();
        pub.readLoop(() => {});
        const t0 = performance.now();
        // `stuck` never reads again.
        const flood = publish(pub, "big", c.count, c.size).catch(() => 0);
        await waitUntil(
          async () => (await closedReasons(t)).includes(c.reason),
          c.boundMs + 5000,
          `${t.name}: ${c.reason}`,
        );
        const took = performance.now() - t0;
        assert(took < c.boundMs, `${t.name}: cut after ${Math.round(took)} ms`);
        const sc = (await monitor(t, "/varz")).slow_consumers as number;
        assert(sc >= 1, `${t.name}: slow_consumers ${sc}`);
        assertMatch(t.log(), c.log);
        if (c.stallLog) assertMatch(t.log(), c.stallLog);
        if (t.rss) {
          const rss = await t.rss();
          // max_pending (64MB by default) plus the runtime, not the flood.
          if (rss !== null) assert(rss < 300 * 1024 * 1024, `${t.name}: RSS ${rss}`);
        }
        // Everyone else is served as before.
        const other = await openNats(t, "tcp");
        await other.send("PUB small 2\r\nok\r\n");
        await other.flush();
        other.close();
        await waitUntil(() => got === 1, 5000, `${t.name}: healthy subscriber's message`);
        if (t.name === "ours") {
          // The producer goes on at full speed once the consumer is gone. (nats-server 2.9.10
          // keeps stalling it up to 1 s per message on the closed consumer until its
          // subscription is removed, and may count that consumer twice, so neither is compared.)
          await bounded(flood, 20_000, "the flood to finish");
          await pub.flush();
          assertEquals((await monitor(t, "/varz")).slow_consumers, 1);
        }
        healthy.close();
        await hloop;
      } finally {
        for (const x of [stuck, healthy, pub]) x.close();
      }
    });
  });
}
