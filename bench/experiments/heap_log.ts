/**
 * Runs this server (main.ts, same arguments) and appends its memory every 2 s to a log file:
 * RSS, anon RSS, V8 heap total/used, and the size of the young generation (`new`) and old space.
 * Used with the bench to see what grows under load, e.g. the soak:
 *
 *     HEAP_LOG=/tmp/soak.log deno task bench --only mem-soak --targets ours \
 *       --ours-cmd "deno run -A bench/experiments/heap_log.ts"
 *
 * `HEAP_LOG_FLAGS="--max-semi-space-size=2"` applies V8 flags through `v8.setFlagsFromString`
 * before the server starts (to compare with the same flags given as `deno run --v8-flags=…`).
 * @module
 */
import v8 from "node:v8";
import { run } from "../../main.ts";

for (const f of (Deno.env.get("HEAP_LOG_FLAGS") ?? "").split(" ").filter(Boolean)) {
  v8.setFlagsFromString(f);
}
const log = Deno.openSync(Deno.env.get("HEAP_LOG") ?? "heap.log", {
  write: true,
  create: true,
  truncate: true,
});
const t0 = performance.now();
const mib = (b: number) => (b / 2 ** 20).toFixed(1);
setInterval(() => {
  const m = Deno.memoryUsage();
  const st = Deno.readTextFileSync("/proc/self/status");
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(st)?.[1] ?? NaN);
  const space = (name: string) =>
    mib(v8.getHeapSpaceStatistics().find((s) => s.space_name === name)?.space_size ?? NaN);
  const line = `${((performance.now() - t0) / 1000).toFixed(0)}s rss ${mib(kib("VmRSS") * 1024)}` +
    ` anon ${mib(kib("RssAnon") * 1024)} heapTotal ${mib(m.heapTotal)} heapUsed ${
      mib(m.heapUsed)
    }` + ` new ${space("new_space")} old ${space("old_space")}\n`;
  log.writeSync(new TextEncoder().encode(line));
}, 2000);
Deno.exit(await run(Deno.args));
