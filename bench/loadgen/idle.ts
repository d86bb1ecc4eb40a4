/**
 * Idle-connection footprint: open N connections that each send CONNECT + one SUB + PING, wait
 * for every PONG, and compare the server's VmRSS before and after.
 */
import { RawClient } from "./client.ts";
import { encoder } from "./proto.ts";
import type { Dialer } from "./stream.ts";
import { rssKiB, type RunningServer } from "./targets.ts";

export interface IdleResult {
  target: string;
  requested: number;
  opened: number;
  rssBeforeKiB: number | null;
  rssAfterKiB: number | null;
  /** (after - before) / opened, in KiB. */
  perConnKiB: number | null;
  problems: string[];
}

const BATCH = 50;
const OPEN_BUDGET_MS = 90_000;
const SETTLE_MS = 1000;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Opens `n` idle clients, 50 at a time, each with CONNECT, one `SUB idle.<i>` and a PING answered
 * (the connections of the memory rows and experiments). Rejects when one cannot be opened.
 */
export async function openIdleClients(dial: Dialer, n: number): Promise<RawClient[]> {
  const out: RawClient[] = [];
  for (let i = 0; i < n; i += BATCH) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + BATCH); j++) batch.push(openIdleClient(dial, j));
    out.push(...await Promise.all(batch));
  }
  return out;
}

function openIdleClient(dial: Dialer, j: number): Promise<RawClient> {
  return RawClient.open(dial, {
    name: `idle-${j}`,
    readBufSize: 1024,
    afterConnect: encoder.encode(`SUB idle.${j} 1\r\n`),
  });
}

export async function idleRun(
  server: RunningServer,
  dial: Dialer,
  n: number,
  log: (s: string) => void,
): Promise<IdleResult> {
  const problems: string[] = [];
  await sleep(SETTLE_MS);
  const before = await rssKiB(server.pid);
  const clients: RawClient[] = [];
  const end = performance.now() + OPEN_BUDGET_MS;
  try {
    // Bounded by n and by the time budget.
    for (let i = 0; i < n && performance.now() < end; i += BATCH) {
      const batch = [];
      for (let j = i; j < Math.min(n, i + BATCH); j++) {
        batch.push(openIdleClient(dial, j));
      }
      const settled = await Promise.allSettled(batch);
      for (const s of settled) {
        if (s.status === "fulfilled") clients.push(s.value);
        else if (problems.length < 5) problems.push(String(s.reason));
      }
      if (problems.length > 0 && clients.length === 0) break;
    }
    log(`  ${clients.length}/${n} connections open with one SUB each; settling ${SETTLE_MS} ms`);
    await sleep(SETTLE_MS);
    // Check they are all still served (the server may drop connections it cannot keep).
    const alive = await Promise.all(clients.map((c) => c.ping(5000)));
    const dead = alive.filter((ok) => !ok).length;
    if (dead > 0) problems.push(`${dead} connections did not answer PING after settling`);
    const after = await rssKiB(server.pid);
    const opened = clients.length;
    const perConn = before !== null && after !== null && opened > 0
      ? (after - before) / opened
      : null;
    return {
      target: server.name,
      requested: n,
      opened,
      rssBeforeKiB: before,
      rssAfterKiB: after,
      perConnKiB: perConn,
      problems,
    };
  } finally {
    await Promise.all(clients.map((c) => c.shutdown()));
  }
}

export function renderIdle(results: IdleResult[]): string {
  const kib = (v: number | null) => v === null ? "-" : `${(v / 1024).toFixed(1)} MiB`;
  const lines = [
    "target        conns   RSS before   RSS after    RSS per connection",
    "-----------   -----   ----------   ----------   ------------------",
  ];
  for (const r of results) {
    lines.push(
      `${r.target.padEnd(11)}   ${String(r.opened).padStart(5)}   ${
        kib(r.rssBeforeKiB).padStart(10)
      }` +
        `   ${kib(r.rssAfterKiB).padStart(10)}   ${
          r.perConnKiB === null ? "-" : `${r.perConnKiB.toFixed(1)} KiB`
        }`,
    );
  }
  return lines.join("\n");
}
