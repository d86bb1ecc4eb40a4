/**
 * `deno task bench`: throughput and latency of this server ("ours") against the reference
 * `nats-server`, using a raw-socket load generator (bench/loadgen/). See bench/README.md.
 *
 *   deno task bench [--quick] [--only a,b] [--json [file]] [--targets ours,ours-codec,nats-server]
 *                   [--reps N] [--duration S] [--ours-cmd "cmd args"]
 *   deno task bench --idle 1000
 */
import { type IdleResult, idleRun, renderIdle } from "./loadgen/idle.ts";
import { memoryRowIds, runMemoryRows } from "./loadgen/memory.ts";
import { renderProblems, renderTable } from "./loadgen/report.ts";
import { tcpDialer, tlsDialer } from "./loadgen/stream.ts";
import type { Dialer } from "./loadgen/stream.ts";
import {
  allScenarios,
  type Contestant,
  runScenario,
  type ScenarioResult,
  type ScenarioSpec,
  type SuiteConfig,
} from "./loadgen/suite.ts";
import {
  backgroundCpuBusy,
  freePort,
  indent,
  liveChildren,
  natsServerTarget,
  openFileLimit,
  oursCodecTarget,
  oursTarget,
  portOpen,
  removeFile,
  type RunningServer,
  spawnServer,
  type Target,
  targetConfig,
  type TlsFiles,
} from "./loadgen/targets.ts";
import { haveOpenssl, testPki } from "../tests/helpers/certs.ts";
import { wsDialer } from "./loadgen/ws.ts";
import { type LeafTopology, startLeafTopology } from "./loadgen/leaf.ts";

const USAGE = `usage: deno task bench [options]
  --quick              short runs (1 repetition, ~0.5 s each) to smoke-test the setup
  --only a,b           only scenarios whose id contains one of these (e.g. pub-only, 1x1,
                       fanout, reqrep, 16B, ws, ws-z)
  --json [file]        also write all results as JSON (default .tmp/bench-results.json)
  --targets a,b        targets to run (default: ours,ours-codec,nats-server; ours-codec runs
                       only the WebSocket rows; with --ours-cmd: ours,nats-server)
  --reps N             repetitions per scenario, median reported (default 3, quick 1)
  --duration S         seconds per throughput run (default 2.5, quick 0.5)
  --ours-cmd "cmd"     start "ours" with this command instead of deno run main.ts
                       ("-a 127.0.0.1 -p PORT" is appended)
  --ours-dir DIR       run ours / ours-codec from DIR/main.ts (another checkout, e.g. "before")
  --no-ws              skip WebSocket scenarios
  --no-mem             skip the memory rows (mem-*: fresh servers, RSS from /proc)
  --soak S             seconds of the mem-soak row (default 60, quick 10; 300 = the long soak)
  --conns N            idle TCP connections of mem-conns (default 10000; needs ulimit -n > N+200)
  --idle N             instead: open N idle connections (CONNECT + SUB) and report server RSS
  --list               list scenario ids
  --help`;

interface Cli {
  quick: boolean;
  only: string[];
  json: string | null;
  /** null: the default list (depends on --ours-cmd). */
  targets: string[] | null;
  reps: number | null;
  duration: number | null;
  oursCmd: string | null;
  /** Another checkout whose main.ts runs as ours / ours-codec. */
  oursDir?: string;
  ws: boolean;
  mem: boolean;
  soakSec: number | null;
  conns: number;
  idle: number | null;
  list: boolean;
}

function parseArgs(args: string[]): Cli {
  const cli: Cli = {
    quick: false,
    only: [],
    json: null,
    targets: null,
    reps: null,
    duration: null,
    oursCmd: Deno.env.get("BENCH_OURS_CMD") ?? null,
    ws: true,
    mem: true,
    soakSec: null,
    conns: 10_000,
    idle: null,
    list: false,
  };
  const value = (i: number, flag: string): string => {
    const v = args[i + 1];
    if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value`);
    return v;
  };
  const num = (s: string, flag: string): number => {
    const n = Number(s);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag}: not a positive number: ${s}`);
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    switch (a) {
      case "--quick":
        cli.quick = true;
        break;
      case "--only":
        cli.only.push(...value(i, a).split(",").map((s) => s.trim()).filter((s) => s !== ""));
        i++;
        break;
      case "--json":
        if (args[i + 1] !== undefined && !args[i + 1].startsWith("--")) {
          cli.json = args[++i];
        } else cli.json = ".tmp/bench-results.json";
        break;
      case "--targets":
        cli.targets = value(i, a).split(",").map((s) => s.trim()).filter((s) => s !== "");
        i++;
        break;
      case "--reps":
        cli.reps = Math.round(num(value(i, a), a));
        i++;
        break;
      case "--duration":
        cli.duration = num(value(i, a), a);
        i++;
        break;
      case "--ours-cmd":
        cli.oursCmd = value(i, a);
        i++;
        break;
      case "--no-ws":
        cli.ws = false;
        break;
      case "--ours-dir":
        cli.oursDir = value(i, a);
        i++;
        break;
      case "--no-mem":
        cli.mem = false;
        break;
      case "--soak":
        cli.soakSec = num(value(i, a), a);
        i++;
        break;
      case "--conns":
        cli.conns = Math.round(num(value(i, a), a));
        i++;
        break;
      case "--idle":
        cli.idle = Math.round(num(value(i, a), a));
        i++;
        break;
      case "--list":
        cli.list = true;
        break;
      case "--help":
      case "-h":
        console.log(USAGE);
        Deno.exit(0);
        break;
      default:
        throw new Error(`unknown argument: ${a}\n${USAGE}`);
    }
  }
  return cli;
}

function log(line: string): void {
  console.error(line);
}

/** "ours" from a custom command line (e.g. to exercise the runner against another binary). */
function customOurs(cmdline: string): Target {
  const [cmd, ...rest] = cmdline.split(/\s+/).filter((s) => s !== "");
  return {
    name: "ours",
    websocket: false,
    unavailable: () => Promise.resolve(cmd ? null : "empty --ours-cmd"),
    start: (ports) => {
      // WebSocket rows are not run for a custom command; TLS rows need its tls block.
      const conf = targetConfig({ port: ports.port, tls: ports.tls });
      return spawnServer(
        "ours",
        cmd,
        [...rest, ...(conf ? ["-c", conf] : []), "-a", "127.0.0.1", "-p", String(ports.port)],
        ports,
        10_000,
        removeFile(conf),
      );
    },
  };
}

/** The reference every ratio is computed against. */
const REF = "nats-server";

function pickTargets(cli: Cli): Target[] {
  const names = cli.targets ??
    (cli.oursCmd ? ["ours", "nats-server"] : ["ours", "ours-codec", "nats-server"]);
  const out: Target[] = [];
  for (const name of names) {
    if (name === "ours") out.push(cli.oursCmd ? customOurs(cli.oursCmd) : oursTarget(cli.oursDir));
    else if (name === "ours-codec" || name === "codec") out.push(oursCodecTarget(cli.oursDir));
    else if (name === "nats-server" || name === "nats") out.push(natsServerTarget());
    else throw new Error(`unknown target ${name} (known: ours, ours-codec, nats-server)`);
  }
  return out;
}

/** CPU busy fraction seen before each target started (other processes on the machine). */
const background: Record<string, number | null> = {};
/** The line each target printed about its WebSocket engine (checked at start). */
const wsEngineLine: Record<string, string> = {};
/** Why a target did not run. */
const notRun: Record<string, string> = {};

/** Start a target; on failure print why and return null. */
async function startTarget(
  t: Target,
  wantWs: boolean,
  tls?: TlsFiles,
): Promise<RunningServer | null> {
  const why = await t.unavailable();
  if (why !== null) {
    log(`[${t.name}] skipped: ${why}`);
    notRun[t.name] = why;
    return null;
  }
  const busy = await backgroundCpuBusy();
  background[t.name] = busy;
  if (busy !== null && busy > 0.2) {
    log(
      `[${t.name}] warning: ${(busy * 100).toFixed(0)}% of the CPUs are busy with other ` +
        `processes before starting; numbers will be noisy`,
    );
  }
  const ws = wantWs && t.websocket;
  const ports = { port: freePort(), wsPort: ws ? freePort() : undefined, tls };
  try {
    const s = await t.start(ports);
    if (s.wsPort !== undefined && !(await portOpen(s.wsPort, 2000))) {
      log(
        `[${t.name}] websocket port ${s.wsPort} is not accepting connections; ` +
          `its ws-* scenarios will be skipped`,
      );
      s.wsPort = undefined;
    }
    if (s.wsPort !== undefined && t.wsExpectOutput) {
      const line = await s.waitOutput(t.wsExpectOutput, 3000);
      if (line === null) {
        await s.stop();
        throw new Error(
          `${t.name} did not print ${t.wsExpectOutput} (wrong WebSocket engine?)\n` +
            indent(s.outputTail()),
        );
      }
      wsEngineLine[t.name] = line.slice(line.indexOf("Websocket")).trim();
      log(`[${t.name}] ${wsEngineLine[t.name]}`);
    }
    log(
      `[${t.name}] pid ${s.pid} listening on 127.0.0.1:${s.port}` +
        (s.wsPort ? ` (websocket ${s.wsPort})` : ""),
    );
    return s;
  } catch (e) {
    const msg = (e as Error).message;
    if (ws && msg.includes("exited during startup")) {
      // Maybe only the websocket config is the problem: try once more without it.
      log(`[${t.name}] failed to start with a websocket listener; retrying without:\n${msg}`);
      return startTarget(t, false, tls);
    }
    log(`[${t.name}] failed to start, continuing without it:\n${msg}`);
    notRun[t.name] = msg.split("\n")[0];
    return null;
  }
}

function dialerFor(spec: ScenarioSpec, s: RunningServer, caPem: string): Dialer | null {
  if (spec.transport === "tcp") return tcpDialer(s.port);
  if (spec.transport === "tls") return tlsDialer(s.port, caPem);
  return s.wsPort !== undefined ? wsDialer(s.wsPort, { compress: spec.compress }) : null;
}

/**
 * Why `t` does not take part in `spec` (null: it does, or `dialerFor` decides). "" for the TCP
 * rows of ws-only targets, which are skipped silently.
 */
function sitsOut(spec: ScenarioSpec, t: Target, s: RunningServer): string | null {
  if (spec.transport !== "ws" && t.wsOnly) return "";
  if (spec.compress && s.wsPort !== undefined && !t.wsCompression) {
    return t.wsNoCompressionWhy ?? "it does not negotiate permessage-deflate";
  }
  return null;
}

async function benchMode(cli: Cli): Promise<number> {
  const selected = (id: string) => cli.only.length === 0 || cli.only.some((f) => id.includes(f));
  const specs = allScenarios().filter((s) => (cli.ws || s.transport !== "ws") && selected(s.id));
  const memCfg = {
    conns: cli.conns,
    wsConns: 2000,
    subs: 100_000,
    soakSec: cli.soakSec ?? (cli.quick ? 10 : 60),
    log,
  };
  const memIds = cli.mem ? memoryRowIds(memCfg).filter(selected) : [];
  if (specs.length === 0 && memIds.length === 0) {
    log(`no scenario matches --only ${cli.only.join(",")}; use --list`);
    return 2;
  }
  const cfg: SuiteConfig = {
    reps: cli.reps ?? (cli.quick ? 1 : 3),
    runSec: cli.duration ?? (cli.quick ? 0.5 : 2.5),
    calibrateMs: cli.quick ? 300 : 700,
    latCount: cli.quick ? 1000 : 5000,
    latWarmup: cli.quick ? 100 : 500,
    latMaxMs: cli.quick ? 3000 : 10_000,
    log,
  };
  const wantWs = specs.some((s) => s.transport === "ws");
  const wantTls = specs.some((s) => s.transport === "tls");
  log(
    `scenarios: ${[...specs.map((s) => s.id), ...memIds].join(", ")}\n` +
      `reps ${cfg.reps}, ~${cfg.runSec} s per throughput run, ${cfg.latCount} requests per latency run`,
  );
  const results: ScenarioResult[] = [];
  let leaf: LeafTopology | null = null;
  const ran = new Set<string>();
  // All targets are started up front (an idle server costs no CPU) so repetitions can be
  // interleaved between them. TLS rows get a second set with a client-port tls block.
  const targets = pickTargets(cli);
  const servers: RunningServer[] = [];
  const tlsServers: RunningServer[] = [];
  const targetOf = new Map<RunningServer, Target>();
  const reported = new Set<string>();
  const satOut = new Map<string, string>();
  let caPem = "";
  try {
    const wantPlain = specs.some((s) => s.transport !== "tls");
    for (const t of targets) {
      if (t.wsOnly && !wantWs) {
        if (specs.length > 0) {
          log(`[${t.name}] not started: it runs only WebSocket scenarios and none is selected`);
        }
        continue;
      }
      if (!wantPlain) continue;
      const s = await startTarget(t, wantWs);
      if (s === null) continue;
      servers.push(s);
      ran.add(s.name);
      targetOf.set(s, t);
    }
    if (wantTls && !haveOpenssl()) log("tls-* rows skipped: openssl not found (certificates)");
    else if (wantTls) {
      const pki = await testPki();
      caPem = pki.ca.certPem;
      const files = { certFile: pki.server.certFile, keyFile: pki.server.keyFile };
      for (const t of targets) {
        if (t.wsOnly) continue;
        const s = await startTarget(t, false, files);
        if (s === null) continue;
        log(`[${t.name}] (tls) serves the tls-* rows`);
        tlsServers.push(s);
        targetOf.set(s, t);
      }
    }
    if (specs.some((s) => s.leaf)) {
      const names = targets.map((t) => t.name).filter((n) => n === "ours" || n === REF);
      leaf = await startLeafTopology(log, names);
    }
    for (const spec of specs) {
      const contestants: Contestant[] = [];
      if (spec.leaf) {
        if (leaf === null) continue;
        for (const [name, edge] of leaf.edges) {
          const hub = tcpDialer(leaf.hub.port);
          const near = tcpDialer(edge.port);
          contestants.push({
            name,
            dial: spec.leaf === "down" ? near : hub,
            pubDial: spec.leaf === "down" ? hub : near,
            alive: () => edge.exitStatus() === null && leaf!.hub.exitStatus() === null,
          });
        }
        if (contestants.length > 0) results.push(...(await runScenario(spec, contestants, cfg)));
        continue;
      }
      for (const s of spec.transport === "tls" ? tlsServers : servers) {
        const out = sitsOut(spec, targetOf.get(s)!, s);
        if (out !== null) {
          if (out !== "") {
            log(`[${s.name}] ${spec.id}: skipped (${out})`);
            satOut.set(s.name, out);
          }
          continue;
        }
        const dial = dialerFor(spec, s, caPem);
        if (dial === null) {
          log(`[${s.name}] ${spec.id}: skipped (no websocket listener)`);
          continue;
        }
        contestants.push({ name: s.name, dial, alive: () => s.exitStatus() === null });
      }
      if (contestants.length > 0) results.push(...(await runScenario(spec, contestants, cfg)));
      for (const s of [...servers, ...tlsServers]) {
        const dead = s.exitStatus();
        if (dead !== null && !reported.has(s.name)) {
          reported.add(s.name);
          log(
            `[${s.name}] server exited during ${spec.id} (code ${dead.code}):\n` +
              indent(s.outputTail()),
          );
          notRun[s.name] = `server exited during ${spec.id} (code ${dead.code})`;
        }
      }
    }
  } finally {
    await Promise.all([...servers, ...tlsServers].map((s) => s.stop()));
    await leaf?.stop();
  }
  if (memIds.length > 0) {
    await warnFileLimit(memCfg.conns);
    results.push(
      ...await runMemoryRows((id) => memIds.includes(id), targets, startTarget, memCfg),
    );
  }
  for (const r of results) if (r.metrics.length > 0) ran.add(r.target);
  // Columns: every selected target that has a result (ours and the reference always).
  const columns = targets.map((t) => t.name).filter((n) =>
    n === "ours" || n === REF || results.some((r) => r.target === n)
  );
  if (!columns.includes(REF)) columns.push(REF);

  console.log("");
  console.log(renderTable(results, [...specs.map((s) => s.id), ...memIds], columns, REF));
  console.log(
    "\nmsgs/s = messages per second (per subscriber where it says so); MB/s = payload bytes / 1e6 / s;" +
      "\nlatency = request->reply round trip in µs; values are medians of the repetitions." +
      `\nratio X/${REF}: for throughput >1 means X is faster; for latency <1 means X is faster.` +
      "\nleaf-* = nats-server hub, the column's server as the edge: down = publisher on the hub," +
      " subscriber on the edge; up = the reverse.",
  );
  if (columns.includes("ours-codec")) {
    console.log(
      "ours = default WebSocket engine (native); ours-codec = engine: codec (WebSocket rows only)." +
        "\nws-z-* = the load generator offers permessage-deflate and every message > 64 B is" +
        " compressed both ways.",
    );
  }
  for (const [name, why] of satOut) console.log(`${name}: ws-z-* rows not run: ${why}`);
  const problems = renderProblems(results);
  if (problems !== "") console.log(`\nproblems:\n${problems}`);
  printNotRun();
  if (cli.json !== null) {
    writeJson(cli.json, {
      kind: "throughput-latency",
      date: new Date().toISOString(),
      host: hostFacts(),
      config: { ...cfg, log: undefined },
      targets: [...ran],
      wsEngines: wsEngineLine,
      backgroundCpuBusy: background,
      results,
    });
  }
  return ran.size === 0 ? 1 : 0;
}

/** Print `ulimit -n` and a hint when it is too low for `n` connections. */
async function warnFileLimit(n: number): Promise<void> {
  const limit = await openFileLimit();
  const need = n + 200;
  if (limit === null) return;
  log(`open-file limit (ulimit -n): ${limit}`);
  if (limit < need) {
    log(
      `hint: ${n} connections need about ${need} descriptors in this process (the server has ` +
        `its own limit); raise it in the shell first, e.g. 'ulimit -n ${need * 2}' ` +
        `(Deno cannot change it).`,
    );
  }
}

async function idleMode(cli: Cli, n: number): Promise<number> {
  await warnFileLimit(n);
  const results: IdleResult[] = [];
  for (const t of pickTargets(cli)) {
    if (t.wsOnly) continue; // its idle TCP connections are those of "ours"
    const server = await startTarget(t, false);
    if (server === null) continue;
    try {
      log(`[${t.name}] opening ${n} idle connections`);
      const r = await idleRun(server, tcpDialer(server.port), n, log);
      results.push(r);
      for (const p of r.problems) log(`  problem: ${p}`);
    } catch (e) {
      log(`  error: ${(e as Error).message}`);
    } finally {
      await server.stop();
    }
  }
  console.log("");
  console.log(renderIdle(results));
  console.log(
    "\nRSS = VmRSS of the server process from /proc/<pid>/status; per connection =" +
      " (after - before) / connections.",
  );
  if (cli.json !== null) {
    writeJson(cli.json, {
      kind: "idle",
      date: new Date().toISOString(),
      host: hostFacts(),
      connections: n,
      backgroundCpuBusy: background,
      results,
    });
  }
  return results.length === 0 ? 1 : 0;
}

function printNotRun(): void {
  for (const [name, why] of Object.entries(notRun)) {
    console.log(`\nnote: '${name}': ${why} (details in the log above)`);
  }
}

function hostFacts(): Record<string, unknown> {
  return {
    deno: Deno.version.deno,
    cpus: navigator.hardwareConcurrency,
    os: Deno.build.os,
    arch: Deno.build.arch,
  };
}

function writeJson(path: string, data: unknown): void {
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : "";
  if (dir !== "") Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(path, JSON.stringify(data, null, 2) + "\n");
  log(`results written to ${path}`);
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parseArgs(Deno.args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  if (cli.list) {
    for (const s of allScenarios()) console.log(s.id);
    return 0;
  }
  const onSignal = () => {
    for (const c of liveChildren) {
      try {
        c.kill("SIGKILL");
      } catch {
        // gone
      }
    }
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    return cli.idle !== null ? await idleMode(cli, cli.idle) : await benchMode(cli);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

if (import.meta.main) {
  Deno.exit(await main());
}
