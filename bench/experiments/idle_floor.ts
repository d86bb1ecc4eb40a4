/**
 * Idle RSS floor: what a Deno process costs before any of our code runs, next to this server and
 * nats-server, in one run. Each variant is a fresh process; after it is ready (a `ready` line, or
 * `INFO` on its client port) it idles 1 s and its `/proc/<pid>/status` is read: `RssFile` (pages
 * of the deno binary and shared libraries), `RssAnon` (heap, stacks, V8), VmRSS (their sum plus
 * shmem). Median of `--reps` (default 3) per variant.
 *
 *     deno run -A bench/experiments/idle_floor.ts [--reps N] [--ours-dir DIR]
 *
 * | variant         | what runs                                                          |
 * | --------------- | ------------------------------------------------------------------ |
 * | `bare`          | `setInterval(() => {}, 1000)`                                      |
 * | `node-modules`  | bare + import node:tls, net, crypto, zlib, v8, vm, buffer          |
 * | `listen+serve`  | bare + one `Deno.listen` and one `Deno.serve`                      |
 * | `import-graph`  | bare + import `lib/server/server.ts` (our modules, nothing starts) |
 * | `ours`          | `main.ts -a 127.0.0.1 -p PORT` (as the bench starts it)            |
 * | `nats-server`   | `nats-server -a 127.0.0.1 -p PORT`                                 |
 * @module
 */
import { freePort } from "../loadgen/targets.ts";
import { flagValue } from "./args.ts";

const reps = Number(flagValue("--reps") ?? 3);
const oursDir = (flagValue("--ours-dir") ?? new URL("../..", import.meta.url).pathname).replace(
  /\/$/,
  "",
);
const DENO = Deno.execPath();
const RUN = ["run", "--allow-net", "--allow-read", "--allow-env"];

const tmp = await Deno.makeTempDir({ prefix: "idle_floor_" });
async function script(name: string, body: string): Promise<string> {
  const path = `${tmp}/${name}.ts`;
  await Deno.writeTextFile(path, `${body}\nsetInterval(() => {}, 1000);\nconsole.log("ready");\n`);
  return path;
}

interface Variant {
  name: string;
  cmd: (port: number) => string[];
  /** Ready when this is printed; otherwise when the port sends INFO. */
  readyLine?: string;
}

const variants: Variant[] = [
  { name: "bare", cmd: () => [DENO, ...RUN, "%bare"], readyLine: "ready" },
  { name: "node-modules", cmd: () => [DENO, ...RUN, "%node"], readyLine: "ready" },
  { name: "listen+serve", cmd: () => [DENO, ...RUN, "%listen"], readyLine: "ready" },
  { name: "import-graph", cmd: () => [DENO, ...RUN, "%graph"], readyLine: "ready" },
  {
    name: "ours",
    cmd: (p) => [DENO, ...RUN, `${oursDir}/main.ts`, "-a", "127.0.0.1", "-p", String(p)],
  },
  { name: "nats-server", cmd: (p) => ["nats-server", "-a", "127.0.0.1", "-p", String(p)] },
];

const scripts: Record<string, string> = {
  "%bare": await script("bare", ""),
  "%node": await script(
    "node",
    ["tls", "net", "crypto", "zlib", "v8", "vm", "buffer"]
      .map((m) => `import "node:${m}";`).join("\n"),
  ),
  "%listen": await script(
    "listen",
    `Deno.listen({ hostname: "127.0.0.1", port: 0 });\n` +
      `Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response("x"));`,
  ),
  "%graph": await script("graph", `import "${oursDir}/lib/server/server.ts";`),
};

async function untilInfo(port: number, deadline: number): Promise<boolean> {
  while (performance.now() < deadline) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      const buf = new Uint8Array(16);
      const n = await c.read(buf);
      c.close();
      if (n !== null && new TextDecoder().decode(buf.subarray(0, n)).startsWith("INFO")) {
        return true;
      }
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  return false;
}

async function untilLine(out: ReadableStream<Uint8Array>, line: string): Promise<boolean> {
  const dec = new TextDecoder();
  let text = "";
  for await (const chunk of out) {
    text += dec.decode(chunk);
    if (text.includes(line)) return true;
  }
  return false;
}

interface Sample {
  rss: number;
  anon: number;
  file: number;
}

async function sample(pid: number): Promise<Sample> {
  const s = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, "m").exec(s)?.[1] ?? NaN);
  return { rss: kib("VmRSS"), anon: kib("RssAnon"), file: kib("RssFile") };
}

async function measure(v: Variant): Promise<Sample> {
  const port = freePort();
  const argv = v.cmd(port).map((a) => scripts[a] ?? a);
  const child = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const ok = v.readyLine
      ? await untilLine(child.stdout, v.readyLine)
      : await untilInfo(port, performance.now() + 10_000);
    if (!ok) throw new Error(`${v.name} did not get ready`);
    if (!v.readyLine) child.stdout.cancel();
    await new Promise((r) => setTimeout(r, 1000));
    return await sample(child.pid);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const mib = (k: number) => (k / 1024).toFixed(1).padStart(8);

console.log(`deno ${Deno.version.deno}, ours from ${oursDir}, median of ${reps}`);
console.log(
  `${"variant".padEnd(14)}${"RSS MiB".padStart(9)}${"anon".padStart(9)}${"file".padStart(9)}`,
);
for (const v of variants) {
  const runs: Sample[] = [];
  for (let i = 0; i < reps; i++) runs.push(await measure(v));
  const rss = median(runs.map((r) => r.rss));
  const anon = median(runs.map((r) => r.anon));
  const file = median(runs.map((r) => r.file));
  console.log(`${v.name.padEnd(14)} ${mib(rss)} ${mib(anon)} ${mib(file)}`);
}
await Deno.remove(tmp, { recursive: true });
