/**
 * The "slow reader" workload: one publisher floods a subscriber that reads, but pauses 1 ms
 * every 100 messages, far faster than it reads (no pacing on the publisher: the server must slow
 * it down, or cut the subscriber). Meanwhile an unrelated client measures PING/PONG and
 * request/reply round trips, which a stalled producer must not delay.
 */
import { RawClient } from "./client.ts";
import { latencyRun, type LatencyStats, latencyStats } from "./scenarios.ts";
import type { Dialer } from "./stream.ts";
import { encoder, makePayload, PING, pubBatch, pubSize } from "./proto.ts";

/** Outcome of one slow-reader run. */
export interface SlowReaderRun {
  sent: number;
  delivered: number;
  /** From the first PUB to the publisher's final PONG. */
  producerMs: number;
  ping: LatencyStats;
  reqrep: LatencyStats;
  problems: string[];
}

/** How the subscriber lags: 1 ms every 100 messages, as in issue 10. */
export const SLOW_PACE = { every: 100, ms: 1 };
/** A run is abandoned when nothing arrives for this long. */
const IDLE_MS = 15_000;

/** Runs one flood of `count` messages of `size` bytes; see the module text. */
export async function slowReaderRun(
  dial: Dialer,
  count: number,
  size: number,
): Promise<SlowReaderRun> {
  const subject = `bench.slow.${Date.now().toString(36)}`;
  const problems: string[] = [];
  const clients: RawClient[] = [];
  try {
    const sub = await RawClient.open(dial, {
      name: "bench-slow-sub",
      afterConnect: encoder.encode(`SUB ${subject} 1\r\n`),
      pace: SLOW_PACE,
    });
    clients.push(sub);
    const pub = await RawClient.open(dial, { name: "bench-slow-pub", readBufSize: 16 * 1024 });
    clients.push(pub);
    const pinger = await RawClient.open(dial, { name: "bench-pinger", readBufSize: 16 * 1024 });
    clients.push(pinger);
    const perChunk = Math.max(1, Math.floor(64 * 1024 / pubSize(subject, size)));
    const chunk = pub.stream.prepare(pubBatch(subject, makePayload(size), perChunk, false));
    let flooding = true;
    // The unrelated client: sequential PINGs and requests for as long as the flood runs.
    const pings: number[] = [];
    const pingLoop = (async () => {
      while (flooding && !pinger.closed) {
        const t0 = performance.now();
        if (!(await pinger.ping(5000))) {
          problems.push("unrelated client: no PONG within 5 s");
          break;
        }
        pings.push((performance.now() - t0) * 1000);
      }
    })();
    const req = latencyRun(dial, 16, 1_000_000, 0, 60_000, () => flooding);
    const start = performance.now();
    let sent = 0;
    while (sent + perChunk <= count) {
      await pub.writePrepared(chunk);
      sent += perChunk;
    }
    if (sent < count) {
      await pub.write(pubBatch(subject, makePayload(size), count - sent, false));
      sent = count;
    }
    pub.countPing();
    await pub.write(PING);
    if (!(await pub.waitPongs(pub.pingsSent, 60_000))) problems.push("publisher: no final PONG");
    const producerMs = performance.now() - start;
    // Every message, or nothing more for a while (cut or lost).
    while (sub.reader.msgs < sent && !sub.closed) {
      const had = sub.reader.msgs;
      if (!(await sub.waitMsgs(sent, IDLE_MS)) && sub.reader.msgs === had) break;
    }
    flooding = false;
    await pingLoop;
    const rr = await req;
    problems.push(...rr.problems.map((p) => `unrelated request/reply: ${p}`));
    if (sub.closed) problems.push(`subscriber closed: ${sub.error ?? "by the server"}`);
    const delivered = sub.reader.msgs;
    if (delivered < sent) problems.push(`LOSS: ${delivered}/${sent} delivered`);
    return {
      sent,
      delivered,
      producerMs,
      ping: latencyStats(pings),
      reqrep: latencyStats(rr.latUs),
      problems,
    };
  } finally {
    await Promise.all(clients.map((c) => c.shutdown()));
  }
}
