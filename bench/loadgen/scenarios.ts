/**
 * The measured workloads. Each works over any `Dialer`, so a transport (TCP, WebSocket) is just a
 * different dialer. Throughput runs publish pre-built batches of PUBs, each batch ending in PING;
 * the publisher keeps at most `tuning.pingWindow` batches un-PONGed and at most
 * `tuning.maxAheadChunks` batches ahead of the slowest subscriber, so no server is pushed into slow-consumer territory.
 */
import { RawClient } from "./client.ts";
import type { Dialer, WireStats } from "./stream.ts";
import { concat, encoder, makePayload, pubBatch, pubFrame, pubSize, recordsText } from "./proto.ts";

/** Flow-control knobs (exported so experiments can vary them). */
export const tuning = {
  /** Target size of one pre-built batch of PUBs, in bytes. */
  chunkBytes: 64 * 1024,
  /** Batches (each ending in PING) allowed in flight before waiting for a PONG. */
  pingWindow: 8,
  /** How many batches the publisher may run ahead of the slowest subscriber. */
  maxAheadChunks: 16,
};
/** A run is abandoned when nothing moves for this long. */
const STALL_MS = 5000;

let seq = 0;
function uniq(): string {
  seq++;
  return `${Date.now().toString(36)}${seq}`;
}

/** Outcome of one throughput run. */
export interface ThroughputRun {
  sent: number;
  elapsedMs: number;
  /** Messages each subscriber received. */
  received: number[];
  /** Problems seen: -ERR lines, stalls, closed sockets, loss. */
  problems: string[];
  /** The publisher side failed (stall, -ERR, closed): the rate means nothing. */
  pubFailed: boolean;
  /** Inbound bytes of the subscribers, summed, when the transport reports them (WebSocket). */
  subWire?: WireStats;
}

export interface ThroughputOptions {
  subs: number;
  size: number;
  /**
   * "fixed" (default): every message carries the same payload. "text": different JSON-ish bytes
   * in every message of a batch (see `recordsText`), for compression rows.
   */
  payload?: "fixed" | "text";
  /**
   * Where the publisher connects when it is not the subscribers' server (a leafnode row: the
   * publisher on the hub, the subscribers on the edge, or the reverse). The run then waits until
   * the subscription's interest has crossed the link before the clock starts.
   */
  pubDial?: Dialer;
  /** Publish exactly this many messages... */
  count?: number;
  /** ...or publish for this long (calibration). */
  durationMs?: number;
}

/** What went wrong with a client: its -ERR / socket error, or that the server closed it. */
function why(c: RawClient): string {
  return c.error ?? (c.closed ? "connection closed by the server" : "");
}

function sum(xs: number[]): number {
  let s = 0;
  for (const x of xs) s += x;
  return s;
}

/** One publisher, `subs` counting subscribers on the same subject. */
export async function throughputRun(dial: Dialer, o: ThroughputOptions): Promise<ThroughputRun> {
  const subject = `bench.t.${uniq()}`;
  const payload = makePayload(o.size);
  const perChunk = Math.max(1, Math.floor(tuning.chunkBytes / pubSize(subject, o.size)));
  // Twice a batch's payload bytes (and at least 64 KiB): no repeats within a batch.
  const text = o.payload === "text"
    ? recordsText(Math.max(64 * 1024, 2 * perChunk * o.size + o.size))
    : undefined;
  const count = o.count ?? Number.MAX_SAFE_INTEGER;
  const problems: string[] = [];
  const subs: RawClient[] = [];
  let pub: RawClient | null = null;
  try {
    for (let i = 0; i < o.subs; i++) {
      const s = await RawClient.open(dial, { name: `bench-sub-${i}` });
      subs.push(s);
      await s.write(encoder.encode(`SUB ${subject} ${i + 1}\r\n`));
    }
    for (const s of subs) {
      if (!(await s.ping(5000))) throw new Error(`subscriber: no PONG after SUB (${why(s)})`);
    }
    pub = await RawClient.open(o.pubDial ?? dial, { name: "bench-pub", readBufSize: 16 * 1024 });
    if (o.pubDial) await interestCrossed(pub, subs, subject);
    const chunk = pub.stream.prepare(pubBatch(subject, payload, perChunk, true, text));
    const maxAhead = perChunk * tuning.maxAheadChunks;
    const endBy = o.durationMs !== undefined ? performance.now() + o.durationMs : Infinity;

    const start = performance.now();
    let sent = 0;
    let chunks = 0;
    let pubProblem = false;
    // Bounded by `count` and, in timed mode, by `endBy`; every wait has a timeout.
    publish: while (sent < count) {
      const k = Math.min(perChunk, count - sent);
      if (k === perChunk) await pub.writePrepared(chunk);
      else await pub.write(pubBatch(subject, payload, k, true, text));
      pub.countPing();
      sent += k;
      chunks++;
      const behind = pub.pingsSent - tuning.pingWindow;
      if (pub.reader.pongs < behind && !(await pub.waitPongs(behind, STALL_MS))) {
        problems.push(`publisher: no PONG for ${STALL_MS} ms (${why(pub) || "stalled"})`);
        pubProblem = true;
        break;
      }
      for (const s of subs) {
        const need = sent - maxAhead;
        if (s.reader.msgs < need && !(await s.waitMsgs(need, STALL_MS))) {
          problems.push(
            `subscriber stalled at ${s.reader.msgs}/${sent} for ${STALL_MS} ms` +
              (why(s) ? ` (${why(s)})` : ""),
          );
          break publish;
        }
      }
      if ((chunks & 3) === 0 && performance.now() >= endBy) break;
    }
    // Flush: the last PONG means the server has processed every PUB.
    if (problems.length === 0 && !(await pub.waitPongs(pub.pingsSent, 10_000))) {
      problems.push(`publisher: final PONG missing (${why(pub) || "timeout"})`);
      pubProblem = true;
    }
    const pubDone = performance.now();
    // Bounded wait for every subscriber to get everything.
    const waitUntil = performance.now() + Math.max(STALL_MS, 2 * (performance.now() - start));
    let complete = true;
    for (const s of subs) {
      const left = waitUntil - performance.now();
      if (!(await s.waitMsgs(sent, Math.max(1, left)))) {
        complete = false;
        problems.push(
          `LOSS: subscriber got ${s.reader.msgs}/${sent}` + (why(s) ? ` (${why(s)})` : ""),
        );
      }
    }
    // With loss, the clock stops at the last byte any subscriber received, not at the timeout.
    let endAt = performance.now();
    if (!complete) endAt = Math.max(pubDone, ...subs.map((s) => s.lastReadAt));
    const elapsedMs = endAt - start;
    const pubFailed = pubProblem || why(pub) !== "";
    if (why(pub)) problems.push(`publisher: ${why(pub)}`);
    for (const s of subs) {
      if (s.reader.msgs > sent) problems.push(`subscriber got ${s.reader.msgs} > ${sent} sent`);
    }
    const res: ThroughputRun = {
      sent,
      elapsedMs,
      received: subs.map((s) => s.reader.msgs),
      problems,
      pubFailed,
    };
    for (const s of subs) {
      const w = s.stream.wireStats?.();
      if (!w) continue;
      res.subWire ??= { wireBytes: 0, dataBytes: 0, compressedMsgs: 0 };
      res.subWire.wireBytes += w.wireBytes;
      res.subWire.dataBytes += w.dataBytes;
      res.subWire.compressedMsgs += w.compressedMsgs;
    }
    return res;
  } finally {
    const all = pub ? [pub, ...subs] : subs;
    await Promise.all(all.map((c) => c.shutdown()));
  }
}

/**
 * Waits until messages the publisher sends on `subject` reach every subscriber (interest went
 * over a leafnode link), then zeroes their counters. Probes are empty messages; one every 20 ms,
 * at most 10 s.
 */
async function interestCrossed(pub: RawClient, subs: RawClient[], subject: string): Promise<void> {
  const probe = encoder.encode(`PUB ${subject} 0\r\n\r\n`);
  const deadline = performance.now() + 10_000;
  while (subs.some((s) => s.reader.msgs === 0)) {
    if (performance.now() > deadline) throw new Error("interest did not cross the leaf link");
    await pub.write(probe);
    await new Promise((r) => setTimeout(r, 20));
  }
  // Probes still in flight: let them land, then start from zero.
  if (!(await pub.ping(5000))) throw new Error("publisher: no PONG after the probes");
  for (const s of subs) if (!(await s.ping(5000))) throw new Error("subscriber: no PONG");
  await new Promise((r) => setTimeout(r, 100));
  for (const s of subs) s.reader.msgs = 0;
}

/** Per-request round-trip latencies in microseconds. */
export interface LatencyRun {
  latUs: number[];
  problems: string[];
}

/**
 * One responder (replies to each MSG with a PUB to its reply subject) and one requester doing
 * sequential requests: `warmup` unrecorded, then up to `count` recorded, within `maxMs` (and
 * while `going()`).
 */
export async function latencyRun(
  dial: Dialer,
  size: number,
  count: number,
  warmup: number,
  maxMs: number,
  /** Optional: keep requesting only while this returns true. */
  going: () => boolean = () => true,
): Promise<LatencyRun> {
  const id = uniq();
  const subject = `bench.req.${id}`;
  const inbox = `_INBOX.${id}`;
  const payload = makePayload(size);
  const tailBytes = concat([encoder.encode(` ${size}\r\n`), payload, encoder.encode("\r\n")]);
  const PUB_ = encoder.encode("PUB ");
  const problems: string[] = [];
  let responder: RawClient | null = null;
  let requester: RawClient | null = null;
  let watchdog: ReturnType<typeof setInterval> | undefined;
  try {
    let lastReply: Uint8Array | null = null;
    let lastFrame: Uint8Array | null = null;
    responder = await RawClient.open(dial, {
      name: "bench-responder",
      readBufSize: 64 * 1024,
      onMsg: (reply) => {
        if (reply === null || responder === null) return;
        // Requests all carry the same reply subject: reuse the reply frame when it matches.
        if (lastFrame === null || !sameBytes(lastReply!, reply)) {
          lastReply = reply;
          lastFrame = concat([PUB_, reply, tailBytes]);
        }
        responder.write(lastFrame).catch(() => {});
      },
    });
    await responder.write(encoder.encode(`SUB ${subject} 1\r\n`));
    if (!(await responder.ping(5000))) throw new Error("responder: no PONG after SUB");
    requester = await RawClient.open(dial, { name: "bench-requester", readBufSize: 64 * 1024 });
    await requester.write(encoder.encode(`SUB ${inbox} 1\r\n`));
    if (!(await requester.ping(5000))) throw new Error("requester: no PONG after SUB");
    const req = requester.stream.prepare(pubFrame(subject, inbox, payload));

    // One watchdog instead of a timer per request: closing the client fails the pending wait.
    let progress = performance.now();
    const rq = requester;
    watchdog = setInterval(() => {
      if (performance.now() - progress > 2000) {
        problems.push("no reply within 2 s");
        rq.close();
      }
    }, 250);

    const latUs: number[] = [];
    const end = performance.now() + maxMs;
    let got = 0;
    // Bounded by warmup + count and by `maxMs`.
    for (let i = 0; i < warmup + count; i++) {
      const t0 = performance.now();
      if (t0 > end || !going()) break;
      await rq.writePrepared(req);
      const ok = await rq.waitMsgs(got + 1, Infinity);
      const t1 = performance.now();
      if (!ok) {
        problems.push(`request ${i} failed (${rq.error ?? "closed"})`);
        break;
      }
      got++;
      progress = t1;
      if (i >= warmup) latUs.push((t1 - t0) * 1000);
    }
    return { latUs, problems };
  } finally {
    clearInterval(watchdog);
    await Promise.all([responder?.shutdown(), requester?.shutdown()]);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Summary statistics of latencies (µs). */
export interface LatencyStats {
  n: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  min: number;
  max: number;
}

export function latencyStats(xs: number[]): LatencyStats {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) =>
    s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return {
    n: s.length,
    mean: s.length === 0 ? NaN : sum(s) / s.length,
    p50: q(0.5),
    p90: q(0.9),
    p99: q(0.99),
    min: s.length === 0 ? NaN : s[0],
    max: s.length === 0 ? NaN : s[s.length - 1],
  };
}

export { sum };
