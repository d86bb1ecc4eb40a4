/**
 * Memory rows of `deno task bench`: each starts a fresh server per target and reads its VmRSS
 * (from /proc) around a load shape, reported like the throughput rows (lower is better).
 *
 * | id              | shape                                                                  |
 * | --------------- | ---------------------------------------------------------------------- |
 * | `mem-idle`      | RSS of a fresh process after 1 s                                       |
 * | `mem-conns-10k` | 10 000 idle TCP connections, one SUB each: RSS per connection          |
 * | `mem-ws-2k`     | 2 000 idle WebSocket connections (every engine): RSS per connection    |
 * | `mem-subs-100k` | 100 000 SUBs on one connection; RSS after UNSUB of all and after close |
 * | `mem-soak`      | 5 subscribers, 5k msgs/s, 200 churning connections for S seconds       |
 */
import { RawClient } from "./client.ts";
import { idleRun } from "./idle.ts";
import { encoder, pubFrame } from "./proto.ts";
import { type Dialer, tcpDialer } from "./stream.ts";
import type { Metric, ScenarioResult } from "./suite.ts";
import { rssKiB, type RunningServer, type Target } from "./targets.ts";
import { wsDialer } from "./ws.ts";

/** Sizes and duration of the memory rows. */
export interface MemoryConfig {
  conns: number;
  wsConns: number;
  subs: number;
  soakSec: number;
  log: (line: string) => void;
}

/** Starts a fresh server for one row (null: it did not start; the reason is logged). */
export type StartFresh = (t: Target, websocket: boolean) => Promise<RunningServer | null>;

interface MemoryRow {
  id: string;
  /** Needs a WebSocket listener (and runs on ws-only targets too). */
  websocket: boolean;
  /** Run every target at the same time (a long row; the load is light). */
  concurrent: boolean;
  measure(s: RunningServer, cfg: MemoryConfig): Promise<Measured>;
}

interface Measured {
  metrics: Metric[];
  problems: string[];
  detail: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const SETTLE_MS = 1000;
/** Wait before reading the RSS after load went away (both servers return memory lazily). */
const RELEASE_MS = 3000;
const mib = (kib: number | null) => kib === null ? NaN : kib / 1024;
const one = (name: string, value: number): Metric => ({
  name,
  better: "lower",
  value,
  runs: [value],
});

/** The ids of the memory rows, in table order. */
export function memoryRowIds(cfg: Pick<MemoryConfig, "conns" | "wsConns" | "subs">): string[] {
  return memoryRows(cfg).map((r) => r.id);
}

function short(n: number): string {
  return n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n);
}

function memoryRows(cfg: Pick<MemoryConfig, "conns" | "wsConns" | "subs">): MemoryRow[] {
  return [
    { id: "mem-idle", websocket: false, concurrent: false, measure: idleProcess },
    {
      id: `mem-conns-${short(cfg.conns)}`,
      websocket: false,
      concurrent: false,
      measure: (s, c) => idleConns(s, tcpDialer(s.port), c.conns, c),
    },
    {
      id: `mem-ws-${short(cfg.wsConns)}`,
      websocket: true,
      concurrent: false,
      measure: (s, c) =>
        idleConns(s, wsDialer(s.wsPort!, { readBufSize: 4096, timeoutMs: 20_000 }), c.wsConns, c),
    },
    { id: `mem-subs-${short(cfg.subs)}`, websocket: false, concurrent: false, measure: manySubs },
    { id: "mem-soak", websocket: false, concurrent: true, measure: soak },
  ];
}

/** Run the memory rows selected by `want` against fresh servers of `targets`. */
export async function runMemoryRows(
  want: (id: string) => boolean,
  targets: Target[],
  start: StartFresh,
  cfg: MemoryConfig,
): Promise<ScenarioResult[]> {
  const out: ScenarioResult[] = [];
  for (const row of memoryRows(cfg)) {
    if (!want(row.id)) continue;
    const ts = targets.filter((t) => row.websocket ? t.websocket : !t.wsOnly);
    const one = async (t: Target): Promise<ScenarioResult> => {
      const res: ScenarioResult = {
        scenario: row.id,
        target: t.name,
        metrics: [],
        problems: [],
        detail: {},
      };
      const s = await start(t, row.websocket);
      if (s === null) {
        res.problems.push("server did not start");
        return res;
      }
      try {
        if (row.websocket && s.wsPort === undefined) throw new Error("no websocket listener");
        cfg.log(`[${t.name}] ${row.id}: measuring`);
        const m = await row.measure(s, cfg);
        res.metrics = m.metrics.filter((x) => Number.isFinite(x.value));
        res.problems.push(...m.problems);
        res.detail = m.detail;
        cfg.log(
          `[${t.name}] ${row.id}: ` +
            res.metrics.map((x) => `${x.name} ${x.value.toFixed(1)}`).join(", "),
        );
        for (const p of m.problems.slice(0, 3)) cfg.log(`  problem: ${p}`);
      } catch (e) {
        res.problems.push((e as Error).message);
        cfg.log(`  error: ${(e as Error).message}`);
      } finally {
        await s.stop();
      }
      return res;
    };
    if (row.concurrent) out.push(...await Promise.all(ts.map(one)));
    else for (const t of ts) out.push(await one(t));
  }
  return out;
}

async function idleProcess(s: RunningServer): Promise<Measured> {
  await sleep(SETTLE_MS);
  const rss = await rssKiB(s.pid);
  return { metrics: [one("RSS MiB", mib(rss))], problems: [], detail: { rssKiB: rss } };
}

async function idleConns(
  s: RunningServer,
  dial: Dialer,
  n: number,
  cfg: MemoryConfig,
): Promise<Measured> {
  const r = await idleRun(s, dial, n, cfg.log);
  const problems = [...r.problems];
  if (r.opened < n) problems.push(`only ${r.opened} of ${n} connections opened`);
  return {
    metrics: [one("KiB/conn", r.perConnKiB ?? NaN), one("RSS MiB", mib(r.rssAfterKiB))],
    problems,
    detail: { ...r },
  };
}

/** SUB lines `first..first+count-1` (or UNSUB lines) in one buffer. */
function subLines(first: number, count: number, unsub: boolean): Uint8Array {
  let text = "";
  for (let i = first; i < first + count; i++) {
    text += unsub ? `UNSUB ${i + 1}\r\n` : `SUB mem.subs.${i}.x ${i + 1}\r\n`;
  }
  return encoder.encode(text);
}

async function manySubs(s: RunningServer, cfg: MemoryConfig): Promise<Measured> {
  const n = cfg.subs;
  const chunk = 2000;
  const problems: string[] = [];
  await sleep(SETTLE_MS);
  const before = await rssKiB(s.pid);
  const c = await RawClient.open(tcpDialer(s.port), { name: "mem-subs", readBufSize: 4096 });
  let afterSub: number | null = null;
  let afterUnsub: number | null = null;
  try {
    for (let i = 0; i < n; i += chunk) await c.write(subLines(i, Math.min(chunk, n - i), false));
    if (!(await c.ping(60_000))) problems.push(`no PONG after ${n} SUBs`);
    await sleep(SETTLE_MS);
    afterSub = await rssKiB(s.pid);
    for (let i = 0; i < n; i += chunk) await c.write(subLines(i, Math.min(chunk, n - i), true));
    if (!(await c.ping(60_000))) problems.push(`no PONG after ${n} UNSUBs`);
    await sleep(RELEASE_MS);
    afterUnsub = await rssKiB(s.pid);
    if (c.error) problems.push(c.error);
  } finally {
    await c.shutdown();
  }
  await sleep(RELEASE_MS);
  const afterClose = await rssKiB(s.pid);
  const perSub = before !== null && afterSub !== null ? (afterSub - before) / n : NaN;
  return {
    metrics: [
      one("KiB/sub", perSub),
      one("RSS subscribed MiB", mib(afterSub)),
      one("RSS unsubscribed MiB", mib(afterUnsub)),
      one("RSS closed MiB", mib(afterClose)),
    ],
    problems,
    detail: { subs: n, before, afterSub, afterUnsub, afterClose },
  };
}

/** Least-squares slope of `ys` over `xs`. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

const SOAK_SUBS = 5;
const SOAK_RATE = 5000;
const SOAK_CHURN_POOL = 200;
/** Connections replaced per churn tick (every 100 ms): the pool turns over every 2 s. */
const SOAK_CHURN_STEP = 10;

/**
 * 5 subscribers on one subject, a publisher at 5k msgs/s of 16 B, and a pool of 200 connections
 * (one SUB each) of which 10 are replaced every 100 ms. RSS is sampled every second; the slope is
 * fitted over the second half (after the warm-up).
 */
async function soak(s: RunningServer, cfg: MemoryConfig): Promise<Measured> {
  const dial = tcpDialer(s.port);
  const problems: string[] = [];
  const subs: RawClient[] = [];
  const pool: RawClient[] = [];
  let pub: RawClient | null = null;
  let churned = 0;
  let churnSeq = 0;
  const samples: { t: number; kib: number }[] = [];
  const t0 = performance.now();
  const endAt = t0 + cfg.soakSec * 1000;
  const openPooled = () =>
    RawClient.open(dial, {
      name: `churn-${churnSeq}`,
      readBufSize: 1024,
      afterConnect: encoder.encode(`SUB soak.churn.${churnSeq++} 1\r\n`),
    });
  try {
    for (let i = 0; i < SOAK_SUBS; i++) {
      subs.push(
        await RawClient.open(dial, {
          name: `soak-sub-${i}`,
          readBufSize: 64 * 1024,
          afterConnect: encoder.encode("SUB soak.msgs 1\r\n"),
        }),
      );
    }
    for (let i = 0; i < SOAK_CHURN_POOL; i++) pool.push(await openPooled());
    pub = await RawClient.open(dial, { name: "soak-pub", readBufSize: 4096 });
    const tickMs = 20;
    const perTick = SOAK_RATE * tickMs / 1000;
    const frame = pubFrame("soak.msgs", null, new Uint8Array(16).fill(120));
    const batch = new Uint8Array(frame.length * perTick);
    for (let i = 0; i < perTick; i++) batch.set(frame, i * frame.length);
    let sent = 0;
    let nextSample = t0;
    let nextChurn = t0;
    // Bounded by endAt; each tick sleeps.
    for (let tick = 0; performance.now() < endAt; tick++) {
      const due = t0 + tick * tickMs;
      const now = performance.now();
      if (due > now) await sleep(due - now);
      await pub.write(batch);
      sent += perTick;
      if (performance.now() >= nextChurn) {
        nextChurn += 100;
        const out = pool.splice(0, SOAK_CHURN_STEP);
        for (const c of out) c.close();
        const fresh = await Promise.allSettled(
          Array.from({ length: SOAK_CHURN_STEP }, openPooled),
        );
        for (const f of fresh) {
          if (f.status === "fulfilled") pool.push(f.value);
          else if (problems.length < 5) problems.push(`churn connect: ${f.reason}`);
        }
        churned += SOAK_CHURN_STEP;
      }
      if (performance.now() >= nextSample) {
        nextSample += 1000;
        const kib = await rssKiB(s.pid);
        if (kib !== null) samples.push({ t: (performance.now() - t0) / 1000, kib });
      }
    }
    if (!(await pub.ping(10_000))) problems.push("publisher: no PONG at the end");
    for (const sub of subs) {
      if (!(await sub.waitMsgs(sent, 10_000))) {
        problems.push(`subscriber got ${sub.reader.msgs} of ${sent} msgs`);
      }
    }
  } finally {
    await Promise.all([...subs, ...pool, ...(pub ? [pub] : [])].map((c) => c.shutdown()));
  }
  const end = await rssKiB(s.pid);
  const half = samples.filter((x) => x.t >= cfg.soakSec / 2);
  const perMin = slope(half.map((x) => x.t), half.map((x) => x.kib / 1024)) * 60;
  const peak = Math.max(...samples.map((x) => x.kib));
  return {
    metrics: [
      one("RSS end MiB", mib(end)),
      one("RSS peak MiB", mib(peak)),
      one("slope MiB/min", perMin),
    ],
    problems,
    detail: { seconds: cfg.soakSec, churned, samples },
  };
}
