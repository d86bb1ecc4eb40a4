/**
 * Scenario catalogue and the per-scenario procedure: calibrate (also the warm-up), size the run
 * so it takes about `runSec`, repeat, and reduce to medians.
 */
import type { Dialer } from "./stream.ts";
import { latencyRun, latencyStats, sum, throughputRun } from "./scenarios.ts";
import { slowReaderRun } from "./slow_reader.ts";

export type Transport = "tcp" | "ws" | "tls";
export type Kind = "pub-only" | "pubsub" | "reqrep" | "slow-reader";

export interface ScenarioSpec {
  /** Stable id, used by --only and in JSON, e.g. "fanout-1x5-128B", "ws-z-pubsub-1x1-16B". */
  id: string;
  transport: Transport;
  /** WebSocket with permessage-deflate offered by every client (and required of the server). */
  compress: boolean;
  /** Payload bytes: one repeated payload, or JSON-ish text that differs per message. */
  payload: "fixed" | "text";
  kind: Kind;
  /** Payload size in bytes. */
  size: number;
  /** Subscribers (pubsub only). */
  subs: number;
  /**
   * Leafnode rows: `down` = publisher on the hub (nats-server), subscriber on the edge; `up` =
   * the reverse. The edge is the target named in the column (ours or nats-server).
   */
  leaf?: "down" | "up";
}

/** All scenarios in table order. */
export function allScenarios(): ScenarioSpec[] {
  const out: ScenarioSpec[] = [];
  const add = (id: string, transport: Transport, kind: Kind, size: number, subs: number) => {
    const z = id.startsWith("ws-z-");
    out.push({ id, transport, compress: z, payload: z ? "text" : "fixed", kind, size, subs });
  };
  for (const transport of ["tcp", "ws"] as const) {
    const pre = transport === "ws" ? "ws-" : "";
    for (const size of [16, 128]) {
      add(`${pre}pub-only-${size}B`, transport, "pub-only", size, 0);
      add(`${pre}pubsub-1x1-${size}B`, transport, "pubsub", size, 1);
      if (transport === "tcp") {
        add(`fanout-1x5-${size}B`, transport, "pubsub", size, 5);
        add(`reqrep-${size}B`, transport, "reqrep", size, 0);
      }
    }
  }
  // WebSocket with permessage-deflate: the subscriber's batched MSG stream is always above the
  // servers' 64-byte compression threshold, so 16 B payloads are compressed too. The payloads
  // are JSON-ish text that differs per message: one repeated payload would make the MSG stream
  // a single repeated line that deflates to ~1 %, which flatters compression.
  for (const size of [16, 128]) add(`ws-z-pubsub-1x1-${size}B`, "ws", "pubsub", size, 1);
  for (const leaf of ["down", "up"] as const) {
    for (const size of [16, 128]) {
      const id = `leaf-${leaf}-1x1-${size}B`;
      out.push({
        id,
        transport: "tcp",
        compress: false,
        payload: "fixed",
        kind: "pubsub",
        size,
        subs: 1,
        leaf,
      });
    }
  }
  // Issue 10's second row: 300,000 × 1 KB to a subscriber that pauses 1 ms every 100 messages.
  add("slow-reader-1KB", "tcp", "slow-reader", 1024, 1);
  // TLS on the client port (servers started with a tls block, same certificates).
  for (const size of [16, 128]) add(`tls-pubsub-1x1-${size}B`, "tls", "pubsub", size, 1);
  return out;
}

export interface SuiteConfig {
  /** Repetitions per scenario (median is reported). */
  reps: number;
  /** Wanted duration of one throughput run, seconds. */
  runSec: number;
  /** Duration of the timed calibration/warm-up run, ms. */
  calibrateMs: number;
  /** Recorded requests per latency run, and their time bound. */
  latCount: number;
  latWarmup: number;
  latMaxMs: number;
  log: (line: string) => void;
}

export interface Metric {
  /** e.g. "msgs/s", "p50 µs". */
  name: string;
  better: "higher" | "lower";
  /** Median over the runs. */
  value: number;
  runs: number[];
}

export interface ScenarioResult {
  scenario: string;
  target: string;
  metrics: Metric[];
  /** Loss, errors, stalls; empty when the scenario ran clean. */
  problems: string[];
  /** Extra facts for the JSON (message counts, calibration rate). */
  detail: Record<string, unknown>;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function metric(name: string, better: "higher" | "lower", runs: number[]): Metric {
  return { name, better, value: median(runs), runs };
}

const MIN_COUNT = 10_000;
/** Messages per slow-reader run (issue 10's 300,000 × 1 KB). */
const SLOW_READER_COUNT = 300_000;
const MAX_COUNT = 50_000_000;

/** One server under test as seen by a scenario: its name and how to reach it. */
export interface Contestant {
  name: string;
  dial: Dialer;
  /** Where publishers connect when not to `dial`'s server (leafnode rows). */
  pubDial?: Dialer;
  /** False once its server process has gone away. */
  alive: () => boolean;
}

/** Per-contestant accumulation while a scenario runs. */
interface Lane {
  c: Contestant;
  res: ScenarioResult;
  count: number;
  failed: boolean;
  series: Record<string, number[]>;
  runs: unknown[];
}

const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/**
 * Run one scenario against every contestant. Repetitions are interleaved (A B, B A, A B ...) so
 * drifting background load on the machine hits every target alike.
 */
export async function runScenario(
  spec: ScenarioSpec,
  contestants: Contestant[],
  cfg: SuiteConfig,
): Promise<ScenarioResult[]> {
  const lanes: Lane[] = contestants.map((c) => ({
    c,
    res: { scenario: spec.id, target: c.name, metrics: [], problems: [], detail: {} },
    count: 0,
    failed: false,
    series: {},
    runs: [],
  }));
  const add = (l: Lane, key: string, v: number) => (l.series[key] ??= []).push(v);

  for (const l of lanes) {
    if (!l.c.alive()) {
      l.res.problems.push("server process exited before this scenario");
      l.failed = true;
    }
  }
  // Throughput scenarios: a timed run per target first (warm-up + rate estimate).
  if (spec.kind !== "reqrep" && spec.kind !== "slow-reader") {
    for (const l of lanes) {
      if (l.failed) continue;
      cfg.log(`[${l.c.name}] ${spec.id}: calibrating`);
      try {
        const cal = await throughputRun(l.c.dial, {
          pubDial: l.c.pubDial,
          subs: spec.subs,
          size: spec.size,
          payload: spec.payload,
          durationMs: cfg.calibrateMs,
        });
        if (cal.problems.length > 0) {
          // Subscriber loss is worth measuring on; a failed publisher is not.
          l.res.problems.push(...cal.problems.map((p) => `calibration: ${p}`));
          for (const p of cal.problems.slice(0, 3)) cfg.log(`  problem: ${p}`);
          if (cal.pubFailed || cal.sent === 0 || cal.elapsedMs <= 0) {
            l.failed = true;
            continue;
          }
        }
        const rate = cal.sent / (cal.elapsedMs / 1000);
        l.count = Math.round(Math.min(MAX_COUNT, Math.max(MIN_COUNT, rate * cfg.runSec)));
        l.res.detail.calibrationMsgsPerSec = rate;
        l.res.detail.count = l.count;
        cfg.log(`  ${fmtRate(rate)} msgs/s -> ${l.count.toLocaleString("en-US")} msgs per run`);
      } catch (e) {
        l.res.problems.push(`calibration: ${errText(e)}`);
        cfg.log(`  error: ${errText(e)}`);
        l.failed = true;
      }
    }
  }

  for (let r = 0; r < cfg.reps; r++) {
    const order = r % 2 === 0 ? lanes : [...lanes].reverse();
    for (const l of order) {
      if (l.failed) continue;
      if (!l.c.alive()) {
        l.res.problems.push("server process exited");
        l.failed = true;
        continue;
      }
      try {
        await oneRep(spec, l, r, cfg, add);
      } catch (e) {
        l.res.problems.push(`run ${r + 1}: ${errText(e)}`);
        cfg.log(`  error: ${errText(e)}`);
        l.failed = true;
      }
    }
  }

  for (const l of lanes) {
    const sr = l.series;
    if (spec.kind === "slow-reader") {
      l.res.metrics.push(metric("delivered/published", "higher", sr.ratio ?? []));
      l.res.metrics.push(metric("producer msgs/s", "higher", sr.rate ?? []));
      l.res.metrics.push(metric("other client PING p50 µs", "lower", sr.pingP50 ?? []));
      l.res.metrics.push(metric("other client PING p99 µs", "lower", sr.pingP99 ?? []));
      l.res.metrics.push(metric("other client req p50 µs", "lower", sr.reqP50 ?? []));
      l.res.metrics.push(metric("other client req p99 µs", "lower", sr.reqP99 ?? []));
    } else if (spec.kind === "reqrep") {
      l.res.metrics.push(metric("p50 µs", "lower", sr.p50 ?? []));
      l.res.metrics.push(metric("p99 µs", "lower", sr.p99 ?? []));
      l.res.metrics.push(metric("mean µs", "lower", sr.mean ?? []));
    } else if (spec.kind === "pub-only") {
      l.res.metrics.push(metric("msgs/s", "higher", sr.rate ?? []));
      l.res.metrics.push(metric("MB/s", "higher", sr.mbps ?? []));
    } else if (spec.subs === 1) {
      l.res.metrics.push(metric("msgs/s delivered", "higher", sr.perSub ?? []));
    } else {
      l.res.metrics.push(metric("msgs/s per sub", "higher", sr.perSub ?? []));
      l.res.metrics.push(metric("msgs/s total", "higher", sr.total ?? []));
    }
    // A metric with no successful run is dropped, so the table shows FAILED.
    l.res.metrics = l.res.metrics.filter((m) => m.runs.length > 0);
    l.res.detail.runs = l.runs;
  }
  return lanes.map((l) => l.res);
}

async function oneRep(
  spec: ScenarioSpec,
  l: Lane,
  r: number,
  cfg: SuiteConfig,
  add: (l: Lane, key: string, v: number) => void,
): Promise<void> {
  const tag = `[${l.c.name}] ${spec.id} run ${r + 1}:`;
  if (spec.kind === "slow-reader") {
    const run = await slowReaderRun(l.c.dial, SLOW_READER_COUNT, spec.size);
    l.runs.push(run);
    l.res.problems.push(...run.problems.map((p) => `run ${r + 1}: ${p}`));
    add(l, "ratio", run.delivered / run.sent);
    add(l, "rate", run.sent / (run.producerMs / 1000));
    add(l, "pingP50", run.ping.p50);
    add(l, "pingP99", run.ping.p99);
    add(l, "reqP50", run.reqrep.p50);
    add(l, "reqP99", run.reqrep.p99);
    cfg.log(
      `${tag} ${run.delivered}/${run.sent} delivered, producer ${
        fmtRate(run.sent / (run.producerMs / 1000))
      } msgs/s; other client PING p50/p99 ${run.ping.p50.toFixed(0)}/${
        run.ping.p99.toFixed(0)
      } µs (${run.ping.n}), req ${run.reqrep.p50.toFixed(0)}/${
        run.reqrep.p99.toFixed(0)
      } µs (${run.reqrep.n})`,
    );
    return;
  }
  if (spec.kind === "reqrep") {
    const run = await latencyRun(l.c.dial, spec.size, cfg.latCount, cfg.latWarmup, cfg.latMaxMs);
    const st = latencyStats(run.latUs);
    l.runs.push(st);
    l.res.problems.push(...run.problems.map((p) => `run ${r + 1}: ${p}`));
    if (st.n === 0) {
      l.failed = true;
      return;
    }
    add(l, "p50", st.p50);
    add(l, "p99", st.p99);
    add(l, "mean", st.mean);
    cfg.log(
      `${tag} ${st.n} requests  p50 ${st.p50.toFixed(1)} µs  p99 ${st.p99.toFixed(1)} µs  ` +
        `mean ${st.mean.toFixed(1)} µs`,
    );
    return;
  }
  const run = await throughputRun(l.c.dial, {
    pubDial: l.c.pubDial,
    subs: spec.subs,
    size: spec.size,
    payload: spec.payload,
    count: l.count,
  });
  const sec = run.elapsedMs / 1000;
  const got = sum(run.received);
  const lost = run.sent * spec.subs - got;
  l.runs.push({
    sent: run.sent,
    elapsedMs: run.elapsedMs,
    received: run.received,
    lost,
    subWire: run.subWire,
  });
  l.res.problems.push(...run.problems.map((p) => `run ${r + 1}: ${p}`));
  // Compression rows: the subscriber must really have received compressed frames.
  let wire = "";
  if (spec.compress && run.subWire) {
    const w = run.subWire;
    if (w.compressedMsgs === 0) {
      l.res.problems.push(`run ${r + 1}: no compressed message reached the subscriber`);
    }
    wire = `, subscriber wire ${(100 * w.wireBytes / Math.max(1, w.dataBytes)).toFixed(1)}% ` +
      `of protocol bytes (${w.compressedMsgs.toLocaleString("en-US")} compressed messages)`;
  }
  for (const p of run.problems.slice(0, 3)) cfg.log(`  problem: ${p}`);
  if (lost > 0) {
    l.res.problems.push(
      `run ${r + 1}: LOSS ${lost.toLocaleString("en-US")} of ${
        (run.sent * spec.subs).toLocaleString("en-US")
      } msgs`,
    );
  }
  if (spec.kind === "pub-only") {
    add(l, "rate", run.sent / sec);
    add(l, "mbps", (run.sent * spec.size) / sec / 1e6);
    cfg.log(`${tag} ${fmtRate(run.sent / sec)} msgs/s in ${sec.toFixed(2)} s`);
  } else {
    add(l, "perSub", got / spec.subs / sec);
    add(l, "total", got / sec);
    cfg.log(
      `${tag} ${fmtRate(got / spec.subs / sec)} msgs/s per sub, ${fmtRate(got / sec)} total` +
        ` in ${sec.toFixed(2)} s${lost > 0 ? `, LOST ${lost}` : ""}${wire}`,
    );
  }
}

export function fmtRate(x: number): string {
  if (!Number.isFinite(x)) return "-";
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)}k`;
  return x.toFixed(0);
}
