/**
 * Where an idle WebSocket (or TCP) connection's memory goes in this server: a child process runs
 * the server in-process (mod.ts, `--expose-gc`), this process opens N idle connections with the
 * bench client (CONNECT + SUB + PING, as `mem-ws-2k`) and asks the child for RSS and V8 heap
 * numbers after a full GC, before and after. `--snap DIR` also writes heap snapshots (before and
 * after) for a by-constructor diff in DevTools.
 *
 * ```sh
 * deno run -A bench/experiments/ws_conn_memory.ts [--n 2000] [--engines native,codec,tcp] [--snap DIR]
 *   (engines also: floor-native, floor-listen-ws, floor-listen-tcp: the holders of
 *   ws_native_floor.ts)
 *   [--spaces] [--maps] [--v8 "--flag=value"] [--gc gc|reduce|none] [--gcs COUNT] [--wait SECONDS]
 *
 * `--gc`: before each reading, three full collections (`gc`, default), three memory-reducing
 * ones (`reduce`, what lib/server/memory_reclaim.ts runs) or none (`none`, as the bench reads).
 * ```
 */
import { encoder } from "../loadgen/proto.ts";
import { tcpDialer } from "../loadgen/stream.ts";
import { wsDialer } from "../loadgen/ws.ts";
import { openIdleClients } from "../loadgen/idle.ts";
import { flagValue } from "./args.ts";

interface Mem {
  rssKiB: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  /** V8 heap space sizes (bytes committed per space). */
  spaces: Record<string, number>;
}

async function readMem(how = "gc", count = 3): Promise<Mem> {
  const g = (globalThis as { gc?: (o?: unknown) => void }).gc;
  for (let i = 0; i < count && how !== "none"; i++) {
    g?.(how === "reduce" ? { type: "major", execution: "sync", flavor: "last-resort" } : undefined);
    await new Promise((r) => setTimeout(r, 50));
  }
  const status = await Deno.readTextFile("/proc/self/status");
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  const m = Deno.memoryUsage();
  const { getHeapSpaceStatistics } = await import("node:v8");
  const spaces: Record<string, number> = {};
  for (const s of getHeapSpaceStatistics()) spaces[s.space_name] = s.space_size;
  return { rssKiB, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, spaces };
}

/**
 * Resident KiB by mapping kind from /proc/self/smaps: `brk` ([heap], malloc's main arena),
 * `anon` (anonymous mappings: V8 heap pages, malloc arenas of other threads, thread stacks),
 * `file` (the deno binary and libraries).
 */
async function mapsKiB(): Promise<Record<string, number>> {
  const text = await Deno.readTextFile("/proc/self/smaps");
  const out: Record<string, number> = { brk: 0, anon: 0, file: 0 };
  let kind = "anon";
  for (const line of text.split("\n")) {
    const m = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (m) {
      const name = m[1];
      kind = name === "[heap]" ? "brk" : name.startsWith("/") ? "file" : "anon";
    } else if (line.startsWith("Rss:")) out[kind] += Number(/(\d+)/.exec(line)![1]);
  }
  return out;
}

/** Child: a server on random ports; answers "mem" and "snap FILE" lines on stdin. */
async function serve(engine: string, v8flags?: string): Promise<void> {
  if (v8flags) (await import("node:v8")).setFlagsFromString(v8flags);
  if (engine.startsWith("floor-")) {
    // The runtime floor holders of ws_native_floor.ts, on random ports.
    const { nativeWs, listenHolder } = await import("./ws_native_floor.ts");
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    if (engine === "floor-native") nativeWs(port);
    else listenHolder(port, engine === "floor-listen-ws");
    console.log(JSON.stringify({ port, wsPort: port }));
    await commands();
    Deno.exit(0);
  }
  const { startServer } = await import("../../mod.ts");
  const ws = engine === "tcp" ? undefined : {
    host: "127.0.0.1",
    port: -1,
    noTls: true,
    engine: engine as "native" | "codec",
    compression: engine === "codec",
  };
  const server = await startServer({ host: "127.0.0.1", port: -1, websocket: ws });
  console.log(JSON.stringify({ port: server.ports.client, wsPort: server.ports.websocket }));
  await commands();
  await server.close();
}

/** Answers "mem [gc|reduce|none]" and "snap FILE" lines on stdin until it closes. */
async function commands(): Promise<void> {
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
  let buf = "";
  for await (const chunk of lines) {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const cmd = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (cmd.startsWith("mem")) {
        const [how, count] = cmd.slice(4).split(" ");
        console.log(JSON.stringify(await readMem(how || "gc", Number(count || 3))));
      } else if (cmd === "maps") {
        console.log(JSON.stringify(await mapsKiB()));
      } else if (cmd.startsWith("snap ")) {
        const { writeHeapSnapshot } = await import("node:v8");
        (globalThis as { gc?: () => void }).gc?.();
        writeHeapSnapshot(cmd.slice(5));
        console.log(JSON.stringify({ ok: true }));
      }
    }
  }
}

class Child {
  readonly proc: Deno.ChildProcess;
  readonly #w: WritableStreamDefaultWriter<Uint8Array>;
  readonly #r: ReadableStreamDefaultReader<string>;
  #buf = "";
  constructor(engine: string, v8flags?: string) {
    this.proc = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--v8-flags=--expose-gc",
        import.meta.filename!,
        "--serve",
        engine,
        ...(v8flags ? ["--v8", v8flags] : []),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#w = this.proc.stdin.getWriter();
    this.#r = this.proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }
  async line(): Promise<string> {
    while (!this.#buf.includes("\n")) {
      const { value, done } = await this.#r.read();
      if (done) throw new Error("child exited");
      this.#buf += value;
    }
    const nl = this.#buf.indexOf("\n");
    const l = this.#buf.slice(0, nl);
    this.#buf = this.#buf.slice(nl + 1);
    return l;
  }
  async ask<T>(cmd: string): Promise<T> {
    await this.#w.write(encoder.encode(cmd + "\n"));
    return JSON.parse(await this.line()) as T;
  }
  async stop(): Promise<void> {
    await this.#w.close();
    await this.proc.status;
  }
}

async function main(): Promise<void> {
  const args = Deno.args;
  const at = (flag: string) => flagValue(flag, args);
  const serveEngine = at("--serve");
  if (serveEngine) return await serve(serveEngine, at("--v8"));
  const n = Number(at("--n") ?? 2000);
  const engines = (at("--engines") ?? "native,codec,tcp").split(",");
  const snap = at("--snap");
  const kib = (b: number) => (b / 1024 / n).toFixed(2);
  console.log(
    `engine  N     RSS KiB/conn  heapUsed KiB/conn  heapTotal KiB/conn  external KiB/conn`,
  );
  for (const engine of engines) {
    const child = new Child(engine, at("--v8"));
    const ports = JSON.parse(await child.line()) as { port: number; wsPort?: number };
    await new Promise((r) => setTimeout(r, 1000));
    if (snap) await child.ask(`snap ${snap}/${engine}-before.heapsnapshot`);
    const before = await child.ask<Mem>(`mem ${at("--gc") ?? "gc"} ${at("--gcs") ?? 3}`);
    const mapsBefore = args.includes("--maps")
      ? await child.ask<Record<string, number>>("maps")
      : null;
    const dial = engine === "tcp" || engine === "floor-listen-tcp"
      ? tcpDialer(ports.port)
      : wsDialer(ports.wsPort!, { readBufSize: 4096, timeoutMs: 20_000 });
    const clients = await openIdleClients(dial, n);
    await new Promise((r) => setTimeout(r, 1000));
    const ok = (await Promise.all(clients.map((c) => c.ping(5000)))).every(Boolean);
    const gcMode = at("--gc") ?? "gc";
    if (at("--wait")) await new Promise((r) => setTimeout(r, Number(at("--wait")) * 1000));
    const after = await child.ask<Mem>(`mem ${gcMode} ${at("--gcs") ?? 3}`);
    if (snap) await child.ask(`snap ${snap}/${engine}-after.heapsnapshot`);
    console.log(
      `${engine.padEnd(7)} ${String(n).padEnd(5)} ${
        ((after.rssKiB - before.rssKiB) / n).toFixed(2).padStart(12)
      }  ${kib(after.heapUsed - before.heapUsed).padStart(17)}  ${
        kib(after.heapTotal - before.heapTotal).padStart(18)
      }  ${kib(after.external - before.external).padStart(17)}${ok ? "" : "  (some PINGs failed)"}`,
    );
    if (mapsBefore) {
      const m = await child.ask<Record<string, number>>("maps");
      for (const k of Object.keys(m)) {
        console.log(`  rss ${k}: ${((m[k] - mapsBefore[k]) / n).toFixed(2)} KiB/conn`);
      }
    }
    if (args.includes("--spaces")) {
      for (const k of Object.keys(after.spaces)) {
        const d = (after.spaces[k] - (before.spaces[k] ?? 0)) / 1024;
        if (d !== 0) {
          console.log(`  ${k}: ${kib(d * 1024)} KiB/conn (${(d / 1024).toFixed(1)} MiB)`);
        }
      }
    }
    await Promise.all(clients.map((c) => c.shutdown()));
    await child.stop();
  }
}

await main();
