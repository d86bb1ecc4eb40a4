/**
 * WebSocket engines side by side: the own codec (`engine: codec`) against the native engine
 * (`engine: native`) and nats-server, for a simple 1→1 over ws, plus the per-message cost of
 * permessage-deflate.
 *
 * 1. Compression cost: `deflateMessage` / `inflateMessage` / `encodeBinaryFrames` in-process,
 *    µs per message for 100 B, 1 KiB and 10 KiB JSON-ish payloads.
 * 2. 1→1 throughput, no compression: the load generator's raw ws client (bench/loadgen), one
 *    publisher and one subscriber, each server its own process; median of `--reps`.
 * 3. 1→1 throughput with npm:ws clients that offer permessage-deflate: codec with `compression`
 *    on and off, and nats-server with it on (client-side inflate/deflate included).
 *
 * ```sh
 * deno run -A bench/ws_engines.ts [--count 200000] [--size 128] [--reps 3]
 * ```
 *
 * @module
 */
import WebSocket from "ws";
import { parseArgs } from "node:util";
import { deflateMessage, encodeBinaryFrames, inflateMessage } from "../lib/transport/ws/frames.ts";
import { throughputRun } from "./loadgen/scenarios.ts";
import { freePort, type RunningServer, spawnServer, which } from "./loadgen/targets.ts";
import { wsDialer } from "./loadgen/ws.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    count: { type: "string", default: "200000" },
    size: { type: "string", default: "128" },
    reps: { type: "string", default: "3" },
  },
});
const COUNT = Number(args.count);
const SIZE = Number(args.size);
const REPS = Number(args.reps);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

// ---------------------------------------------------------------------------------------------
// 1. Compression cost

function jsonish(n: number): Uint8Array {
  let s = "";
  for (let i = 0; s.length < n; i++) s += `{"id":${i},"name":"user-${i % 97}","ok":true},`;
  return new TextEncoder().encode(s.slice(0, n));
}

function perMessageUs(fn: () => void, minMs = 300): number {
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
  }
  return (performance.now() - t0) * 1000 / n;
}

function compressionCost(): void {
  console.log("\n## permessage-deflate cost per message (µs, in-process)\n");
  console.log(
    "| payload | compressed size | deflate | inflate | frame, plain | frame, compressed |",
  );
  console.log("|---|---|---|---|---|---|");
  for (const n of [100, 1024, 10240]) {
    const p = jsonish(n);
    const z = deflateMessage(p);
    const d = median([0, 1, 2].map(() => perMessageUs(() => deflateMessage(p))));
    const i = median([0, 1, 2].map(() => perMessageUs(() => inflateMessage(z))));
    const fp = median([0, 1, 2].map(() => perMessageUs(() => encodeBinaryFrames(p))));
    const fc = median(
      [0, 1, 2].map(() => perMessageUs(() => encodeBinaryFrames(p, { compress: true }))),
    );
    console.log(
      `| ${n} B | ${z.length} B | ${d.toFixed(1)} | ${i.toFixed(1)} | ${fp.toFixed(2)} | ${
        fc.toFixed(1)
      } |`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Servers

interface Srv {
  name: string;
  start(): Promise<RunningServer>;
}

function conf(ws: string): string {
  const path = Deno.makeTempFileSync({ prefix: "ws-engines-", suffix: ".conf" });
  Deno.writeTextFileSync(path, `websocket {\n${ws}\n}\n`);
  return path;
}

function ours(name: string, ws: string): Srv {
  const main = decodeURIComponent(new URL("../main.ts", import.meta.url).pathname);
  return {
    name,
    start() {
      const ports = { port: freePort(), wsPort: freePort() };
      const file = conf(`listen: "127.0.0.1:${ports.wsPort}"\nno_tls: true\n${ws}`);
      const a = ["run", "--allow-net", "--allow-read", "--allow-env", "--allow-sys", main];
      return spawnServer(
        name,
        Deno.execPath(),
        [...a, "-c", file, "-a", "127.0.0.1", "-p", String(ports.port)],
        ports,
        10_000,
        () => Deno.removeSync(file),
      );
    },
  };
}

function reference(ws: string): Srv | null {
  const bin = which("nats-server");
  if (!bin) return null;
  return {
    name: "nats-server",
    start() {
      const ports = { port: freePort(), wsPort: freePort() };
      const file = conf(`listen: "127.0.0.1:${ports.wsPort}"\nno_tls: true\n${ws}`);
      return spawnServer(
        "nats-server",
        bin,
        ["-c", file, "-a", "127.0.0.1", "-p", String(ports.port)],
        ports,
        10_000,
        () => Deno.removeSync(file),
      );
    },
  };
}

async function alternate(
  servers: Srv[],
  run: (s: RunningServer) => Promise<number>,
): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  for (let r = 0; r < REPS; r++) {
    const order = r % 2 === 0 ? servers : [...servers].reverse();
    for (const s of order) {
      const running = await s.start();
      try {
        out.get(s.name)!.push(await run(running));
      } finally {
        await running.stop();
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// 2. 1→1, loadgen raw ws client (no compression)

async function plainThroughput(): Promise<void> {
  const servers = [
    ours("ours native", "engine: native"),
    ours("ours codec", "engine: codec"),
    reference(""),
  ].filter((s): s is Srv => s !== null);
  const res = await alternate(servers, async (s) => {
    const r = await throughputRun(wsDialer(s.wsPort!), { subs: 1, size: SIZE, count: COUNT });
    if (r.problems.length) console.log(`  ${s.name}: ${r.problems.join("; ")}`);
    return r.sent / (r.elapsedMs / 1000);
  });
  console.log(
    `\n## 1→1 over ws, ${COUNT} × ${SIZE} B, no compression (msgs/s, median of ${REPS})\n`,
  );
  console.log("| server | msgs/s | MiB/s | runs |");
  console.log("|---|---|---|---|");
  for (const [name, xs] of res) {
    const m = median(xs);
    console.log(
      `| ${name} | ${Math.round(m).toLocaleString("en")} | ${(m * SIZE / 1048576).toFixed(1)} | ${
        xs.map((x) => Math.round(x / 1000) + "k").join(", ")
      } |`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// 3. 1→1 with npm:ws clients offering permessage-deflate

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: { threshold: 0 } });
    const t = setTimeout(() => reject(new Error("open timeout")), 5000);
    ws.once("open", () => {
      clearTimeout(t);
      resolve(ws);
    });
    ws.once("error", reject);
  });
}

async function npmWsRun(wsPort: number, count: number): Promise<{ rate: number; ext: string }> {
  const url = `ws://127.0.0.1:${wsPort}`;
  const sub = await open(url);
  const pub = await open(url);
  try {
    const payload = JSON.stringify({ v: "x".repeat(Math.max(0, SIZE - 8)) }).slice(0, SIZE);
    let got = 0;
    let carry = "";
    let wake = () => {};
    sub.on("message", (d: Uint8Array) => {
      const t = carry + new TextDecoder().decode(d);
      const parts = t.split("MSG ");
      got += parts.length - 1;
      carry = parts[parts.length - 1].slice(-3);
      wake();
    });
    const until = (cond: () => boolean, ms: number) =>
      new Promise<boolean>((resolve) => {
        if (cond()) return resolve(true);
        const t = setTimeout(() => resolve(cond()), ms);
        wake = () => {
          if (cond()) {
            clearTimeout(t);
            resolve(true);
          }
        };
      });
    sub.send("SUB s 1\r\nPING\r\n");
    await new Promise((r) => setTimeout(r, 100));
    const perBatch = Math.max(1, Math.floor(65536 / (payload.length + 20)));
    const batch = `PUB s ${payload.length}\r\n${payload}\r\n`.repeat(perBatch);
    const t0 = performance.now();
    let sent = 0;
    while (sent < count) {
      pub.send(batch);
      sent += perBatch;
      if (sent - got > perBatch * 16 && !await until(() => sent - got <= perBatch * 8, 10_000)) {
        throw new Error(`stalled at ${got}/${sent}`);
      }
    }
    if (!await until(() => got >= sent, 30_000)) throw new Error(`lost: ${got}/${sent}`);
    return { rate: sent / ((performance.now() - t0) / 1000), ext: sub.extensions };
  } finally {
    sub.terminate();
    pub.terminate();
  }
}

async function compressedThroughput(): Promise<void> {
  const servers = [
    ours("ours codec, compression", "compression: true"),
    ours("ours codec, no compression", "engine: codec"),
    ours("ours native (ignores the offer)", "engine: native"),
    reference("compression: true"),
  ].filter((s): s is Srv => s !== null);
  const count = Math.min(COUNT, 100_000);
  const exts = new Map<string, string>();
  const res = await alternate(servers, async (s) => {
    const r = await npmWsRun(s.wsPort!, count);
    exts.set(s.name, r.ext || "none");
    return r.rate;
  });
  console.log(
    `\n## 1→1 with npm:ws clients offering permessage-deflate, ${count} × ${SIZE} B JSON ` +
      `(msgs/s, median of ${REPS}; client inflate/deflate included)\n`,
  );
  console.log("| server | negotiated | msgs/s | runs |");
  console.log("|---|---|---|---|");
  for (const [name, xs] of res) {
    console.log(
      `| ${name} | ${exts.get(name)} | ${Math.round(median(xs)).toLocaleString("en")} | ${
        xs.map((x) => Math.round(x / 1000) + "k").join(", ")
      } |`,
    );
  }
}

compressionCost();
await plainThroughput();
await compressedThroughput();
