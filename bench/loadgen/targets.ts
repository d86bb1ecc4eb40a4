/**
 * Servers under test. A `Target` knows how to start one server process on loopback (TCP port,
 * optionally a WebSocket port). The runner starts them one after the other; they stay up (idle)
 * while the others are measured.
 *
 * | target        | WebSocket block in its temporary config                        |
 * | ------------- | -------------------------------------------------------------- |
 * | `ours`        | `listen`, `no_tls: true` → the native engine (the default)     |
 * | `ours-codec`  | + `engine: codec`, `compression: true` (WebSocket rows only)   |
 * | `nats-server` | + `compression: true`                                          |
 *
 * `compression: true` only lets a server accept permessage-deflate when a client offers it; the
 * plain `ws-*` rows do not offer it, so they run uncompressed on every target.
 */
import { RUN_FLAGS } from "../../tools/permissions.ts";

/** Ports handed to a target when it starts. */
export interface TargetPorts {
  port: number;
  /** Present when WebSocket scenarios are selected. */
  wsPort?: number;
  /** Certificate files: the client port then requires TLS (a `tls { }` block). */
  tls?: TlsFiles;
}

/** PEM files of the server certificate and key used for a TLS client port. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
}

/** A running server process. */
export interface RunningServer {
  name: string;
  pid: number;
  port: number;
  wsPort?: number;
  /** Last lines of the server's stdout/stderr (for failure messages). */
  outputTail(): string;
  /**
   * Resolves with the first output line matching `re` (searching what was printed so far, then
   * each new chunk), or null after `ms`.
   */
  waitOutput(re: RegExp, ms: number): Promise<string | null>;
  /** Exit status if the process has ended, else null. */
  exitStatus(): Deno.CommandStatus | null;
  /** SIGTERM, then SIGKILL after a grace period; resolves when the process is gone. */
  stop(): Promise<void>;
}

/** A way to start a server under test. */
export interface Target {
  name: string;
  /** Whether it can serve WebSocket on `ports.wsPort`. */
  websocket: boolean;
  /** Runs only WebSocket scenarios (a variant whose TCP path is another target's). */
  wsOnly?: boolean;
  /** Accepts permessage-deflate (the `ws-z-*` scenarios), with its WebSocket config. */
  wsCompression?: boolean;
  /** Why it does not (printed when it sits out the `ws-z-*` rows). */
  wsNoCompressionWhy?: string;
  /**
   * A line the server must print once its WebSocket listener is up (e.g. the engine it chose),
   * checked after start so a target never silently measures something else.
   */
  wsExpectOutput?: RegExp;
  /** Why the target cannot run at all (e.g. binary missing), or null. */
  unavailable(): Promise<string | null>;
  start(ports: TargetPorts): Promise<RunningServer>;
}

/** A free loopback TCP port (bind to 0, read it, release it). */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Poll until something accepts TCP connections on `port`, for at most `ms`. */
export async function portOpen(port: number, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  // Bounded by `ms`.
  while (performance.now() < end) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.close();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

/** Find an executable on PATH. */
export function which(cmd: string): string | null {
  const path = Deno.env.get("PATH") ?? "";
  for (const dir of path.split(":")) {
    if (dir === "") continue;
    const full = `${dir}/${cmd}`;
    try {
      const st = Deno.statSync(full);
      if (st.isFile && ((st.mode ?? 0o111) & 0o111) !== 0) return full;
    } catch {
      // not here
    }
  }
  return null;
}

/** Keeps the last `max` bytes of a child's output. */
class Tail {
  #chunks: Uint8Array[] = [];
  #len = 0;
  /** Called after every chunk (output waiters). */
  readonly listeners = new Set<() => void>();
  constructor(private readonly max = 8192) {}
  push(b: Uint8Array): void {
    this.#chunks.push(b.slice());
    this.#len += b.length;
    // Bounded by the number of chunks.
    while (this.#len - this.#chunks[0].length > this.max && this.#chunks.length > 1) {
      this.#len -= this.#chunks.shift()!.length;
    }
    for (const l of this.listeners) l();
  }
  text(): string {
    const all = new Uint8Array(this.#len);
    let off = 0;
    for (const c of this.#chunks) {
      all.set(c, off);
      off += c.length;
    }
    return new TextDecoder().decode(all.subarray(Math.max(0, all.length - this.max)));
  }
}

async function drain(rs: ReadableStream<Uint8Array>, tail: Tail): Promise<void> {
  try {
    for await (const chunk of rs) tail.push(chunk);
  } catch {
    // child gone
  }
}

/** Try to connect and read an INFO line; true when the server is ready. */
async function probeInfo(port: number, timeoutMs: number): Promise<boolean> {
  let conn: Deno.TcpConn | null = null;
  const timer = setTimeout(() => conn?.close(), timeoutMs);
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const buf = new Uint8Array(4096);
    let got = "";
    // At most a few reads: INFO arrives in the first segment.
    for (let i = 0; i < 8 && got.length < 5; i++) {
      const n = await conn.read(buf);
      if (n === null) return false;
      got += new TextDecoder().decode(buf.subarray(0, n));
    }
    return got.startsWith("INFO ");
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    try {
      conn?.close();
    } catch {
      // closed by the timer
    }
  }
}

/** First line of `tail` matching `re`, waiting for new output at most `ms`. */
function waitOutput(tail: Tail, re: RegExp, ms: number): Promise<string | null> {
  const find = () => tail.text().replace(ANSI, "").split("\n").find((l) => re.test(l)) ?? null;
  const now = find();
  if (now !== null) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = (v: string | null) => {
      clearTimeout(timer);
      tail.listeners.delete(check);
      resolve(v);
    };
    const check = () => {
      const hit = find();
      if (hit !== null) done(hit);
    };
    const timer = setTimeout(() => done(null), ms);
    tail.listeners.add(check);
  });
}

/** Wait for `p`, but at most `ms`. */
async function settle(p: Promise<unknown>, ms: number): Promise<void> {
  let t: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise((r) => t = setTimeout(r, ms))]);
  clearTimeout(t);
}

/** Live child processes, so Ctrl-C can clean them up. */
export const liveChildren = new Set<Deno.ChildProcess>();

/**
 * Spawn `cmd args`, then poll until the TCP port answers with INFO, the process exits, or
 * `readyTimeoutMs` passes (then it is killed and the error carries the output tail).
 */
export async function spawnServer(
  name: string,
  cmd: string,
  args: string[],
  ports: TargetPorts,
  readyTimeoutMs: number,
  cleanup: () => void = () => {},
): Promise<RunningServer> {
  const child = new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  liveChildren.add(child);
  const tail = new Tail();
  const drained = Promise.all([drain(child.stdout, tail), drain(child.stderr, tail)]);
  let exited: Deno.CommandStatus | null = null;
  const statusP = child.status.then((s) => {
    exited = s;
    liveChildren.delete(child);
    return s;
  });

  const stop = async () => {
    if (exited === null) {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          if (exited === null) child.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, 3000);
      await statusP;
      clearTimeout(t);
    }
    await settle(drained, 1000); // a grandchild may hold the pipes open
    cleanup();
  };

  const deadline = Date.now() + readyTimeoutMs;
  // Bounded by the deadline.
  while (Date.now() < deadline) {
    if (exited !== null) {
      await settle(drained, 1000);
      cleanup();
      const s = exited as Deno.CommandStatus;
      throw new Error(
        `${name} exited during startup (code ${s.code}${s.signal ? `, ${s.signal}` : ""})\n` +
          indent(tail.text()),
      );
    }
    if (await probeInfo(ports.port, 500)) {
      return {
        name,
        pid: child.pid,
        port: ports.port,
        wsPort: ports.wsPort,
        outputTail: () => tail.text(),
        waitOutput: (re, ms) => waitOutput(tail, re, ms),
        exitStatus: () => exited,
        stop,
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await stop();
  throw new Error(
    `${name} did not accept connections on 127.0.0.1:${ports.port} within ${readyTimeoutMs} ms\n` +
      indent(tail.text()),
  );
}

const ANSI = new RegExp(String.fromCharCode(27) + "\\[[0-9;]*[A-Za-z]", "g");

/** Indent the last 20 lines of a process's output for an error message (colours removed). */
export function indent(s: string): string {
  const t = s.replace(ANSI, "").trim();
  if (t === "") return "    (no output)";
  return t.split("\n").slice(-20).map((l) => "    " + l).join("\n");
}

/**
 * A config file holding a websocket block and/or a client-port tls block (command-line flags
 * carry the rest), or null when neither is wanted; `wsExtra` are more lines for the websocket
 * block, e.g. `compression: true`.
 */
export function targetConfig(ports: TargetPorts, wsExtra: readonly string[] = []): string | null {
  const blocks: string[] = [];
  const block = (name: string, lines: string[]) =>
    blocks.push(`${name} {\n${lines.map((l) => `  ${l}\n`).join("")}}\n`);
  if (ports.wsPort !== undefined) {
    block("websocket", [`listen: "127.0.0.1:${ports.wsPort}"`, "no_tls: true", ...wsExtra]);
  }
  if (ports.tls) {
    block("tls", [`cert_file: "${ports.tls.certFile}"`, `key_file: "${ports.tls.keyFile}"`]);
  }
  if (blocks.length === 0) return null;
  const path = Deno.makeTempFileSync({ prefix: "natsbench-", suffix: ".conf" });
  Deno.writeTextFileSync(path, blocks.join(""));
  return path;
}

export function removeFile(path: string | null): () => void {
  return () => {
    if (path === null) return;
    try {
      Deno.removeSync(path);
    } catch {
      // already gone
    }
  };
}

/**
 * The reference server, if `nats-server` is on PATH (or `NATS_SERVER_BIN` points to it). Its
 * WebSocket block has `compression: true` (used only by clients that offer it: `ws-z-*`).
 */
export function natsServerTarget(): Target {
  const bin = Deno.env.get("NATS_SERVER_BIN") ?? which("nats-server");
  return {
    name: "nats-server",
    websocket: true,
    wsCompression: true,
    unavailable: () =>
      Promise.resolve(bin === null ? "nats-server not found on PATH (set NATS_SERVER_BIN)" : null),
    start: (ports) => {
      const conf = targetConfig(ports, ["compression: true"]);
      const args = [...(conf ? ["-c", conf] : []), "-a", "127.0.0.1", "-p", String(ports.port)];
      return spawnServer("nats-server", bin!, args, ports, 10_000, removeFile(conf));
    },
  };
}

/** This project's server, `deno run ... main.ts` (path resolved from this file). */
function denoMainTarget(
  name: string,
  wsExtra: readonly string[],
  more: Pick<Target, "wsOnly" | "wsCompression" | "wsNoCompressionWhy" | "wsExpectOutput">,
  checkout?: string,
): Target {
  const mainPath = checkout !== undefined
    ? `${checkout.replace(/\/+$/, "")}/main.ts`
    : decodeURIComponent(new URL("../../main.ts", import.meta.url).pathname);
  return {
    name,
    websocket: true,
    ...more,
    unavailable: async () => {
      try {
        await Deno.stat(mainPath);
        return null;
      } catch {
        return `${mainPath} does not exist yet`;
      }
    },
    start: (ports) => {
      const conf = targetConfig(ports, wsExtra);
      const args = [
        "run",
        // As `deno task start` starts the server (tools/permissions.ts).
        ...RUN_FLAGS,
        ...denoFlags(),
        mainPath,
        ...(conf ? ["-c", conf] : []),
        "-a",
        "127.0.0.1",
        "-p",
        String(ports.port),
      ];
      return spawnServer(name, Deno.execPath(), args, ports, 10_000, removeFile(conf));
    },
  };
}

/**
 * Extra `deno run` flags for the ours targets from `BENCH_DENO_FLAGS` (space separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile a server inside a real bench run.
 */
function denoFlags(): string[] {
  return (Deno.env.get("BENCH_DENO_FLAGS") ?? "").split(/\s+/).filter((f) => f !== "");
}

/**
 * "ours": this project's server with the default WebSocket engine (native); `checkout` runs the
 * main.ts of another checkout of the project instead (e.g. a "before" worktree).
 */
export function oursTarget(checkout?: string): Target {
  return denoMainTarget("ours", [], {
    wsExpectOutput: /Websocket engine: native/,
    wsNoCompressionWhy: "the native engine has no permessage-deflate; ours-codec covers them",
  }, checkout);
}

/**
 * "ours-codec": the same server with `engine: codec` and `compression: true`; WebSocket rows
 * only (its TCP path is the same as "ours").
 */
export function oursCodecTarget(checkout?: string): Target {
  return denoMainTarget("ours-codec", ["engine: codec", "compression: true"], {
    wsOnly: true,
    wsCompression: true,
    wsExpectOutput: /Websocket engine: codec/,
  }, checkout);
}

/**
 * Read a /proc file. Deno only allows that with --allow-all, so fall back to `cat` (needs just
 * --allow-run; for /proc/self/* the child's view is fine, it inherits our limits).
 */
export async function readProc(path: string): Promise<string | null> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    // NotCapable without --allow-all
  }
  try {
    const out = await new Deno.Command("cat", { args: [path], stdout: "piped", stderr: "null" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout) : null;
  } catch {
    return null;
  }
}

/** Resident set size of a process in KiB (VmRSS from /proc/<pid>/status), or null. */
export async function rssKiB(pid: number): Promise<number | null> {
  const s = await readProc(`/proc/${pid}/status`);
  const m = s?.match(/^VmRSS:\s+(\d+)\s+kB/m);
  return m ? Number(m[1]) : null;
}

/** The soft limit on open files of this process (children inherit it), or null. */
export async function openFileLimit(): Promise<number | null> {
  const s = await readProc("/proc/self/limits");
  const m = s?.match(/^Max open files\s+(\d+|unlimited)/m);
  if (!m) return null;
  return m[1] === "unlimited" ? Infinity : Number(m[1]);
}

async function cpuTimes(): Promise<{ idle: number; total: number } | null> {
  const stat = await readProc("/proc/stat");
  if (stat === null) return null;
  try {
    const line = stat.split("\n")[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    let total = 0;
    for (const x of f.slice(0, 8)) total += x;
    return { idle, total };
  } catch {
    return null;
  }
}

/**
 * Fraction (0..1) of all CPUs busy over `ms` while nothing of ours runs: other processes
 * competing with the benchmark. Null where /proc/stat is unreadable.
 */
export async function backgroundCpuBusy(ms = 500): Promise<number | null> {
  const a = await cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = await cpuTimes();
  if (a === null || b === null || b.total === a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}
