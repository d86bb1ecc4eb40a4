/**
 * Runs this project's server as a separate process (`deno run main.ts -c <file>`), so a test can
 * observe what an in-process server hides: a crash (the process exits), its resident memory
 * (`/proc/<pid>/status`), and its timing undisturbed by the test's own event loop.
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const PERMS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env"];

/** A running server process. */
export interface ServerProcess {
  pid: number;
  port: number;
  /** The config file it was started with (rewrite it, then SIGHUP, to test a reload). */
  configFile: string;
  /** Sends a signal to the process. */
  kill(signal: Deno.Signal): void;
  /** Websocket port, when the config has a `websocket {}` block. */
  wsPort?: number;
  /** Monitoring port, when enabled. */
  monitorPort?: number;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /**
   * Resolves true once `pred(stderr)` holds (checked now and on every new stderr chunk), false
   * after `timeoutMs` or when the process is gone without it.
   */
  waitForLog(pred: (log: string) => boolean, timeoutMs: number): Promise<boolean>;
  /** Exit status once the process has ended, else null. */
  exited(): Deno.CommandStatus | null;
  /** Resolves with the exit status once the process ends, or null after `timeoutMs`. */
  waitForExit(timeoutMs: number): Promise<Deno.CommandStatus | null>;
  /**
   * Resident set size in bytes, or null when it cannot be measured (process gone, no way to read
   * it). Deno only lets `--allow-all` read `/proc` directly, so without it `cat /proc/<pid>/status`
   * or `ps` is run (`--allow-run`).
   */
  rss(): Promise<number | null>;
  /** SIGINT, then SIGKILL when it is not gone within 5 s; resolves with the exit status. */
  stop(): Promise<Deno.CommandStatus>;
}

/** Which server a process runs: this project's `main.ts`, or the reference binary. */
export type ServerProgram = "ours" | "nats-server";

/**
 * Starts `main.ts -c <config> -a 127.0.0.1 -p -1 ...extraArgs` (or `nats-server` with the same
 * arguments) and waits for "Server is ready".
 */
export async function startServerProcess(
  config: string,
  extraArgs: string[] = [],
  program: ServerProgram = "ours",
): Promise<ServerProcess> {
  const dir = await Deno.makeTempDir({ prefix: "natsproc" });
  const file = `${dir}/nats.conf`;
  await Deno.writeTextFile(file, config);
  const serverArgs = ["-c", file, "-a", "127.0.0.1", "-p", "-1", ...extraArgs];
  return spawnServerProcess(
    program === "ours" ? Deno.execPath() : "nats-server",
    program === "ours" ? ["run", ...PERMS, MAIN, ...serverArgs] : serverArgs,
    { cleanup: () => Deno.remove(dir, { recursive: true }), configFile: file },
  );
}

/** How {@link spawnServerProcess} runs the command. */
export interface SpawnOptions {
  cwd?: string;
  /** Environment; with `clearEnv` the only variables the process sees. */
  env?: Record<string, string>;
  clearEnv?: boolean;
  /** Run when the process is stopped or fails to start (e.g. removes its temp dir). */
  cleanup?: () => Promise<void>;
  /** The config file the command line names (reported as `configFile`). */
  configFile?: string;
}

/**
 * Runs any server command line (main.ts, deploy.ts, a bundle, the container's entrypoint) and
 * waits for "Server is ready"; `port` is 0 when no client port was opened.
 */
export async function spawnServerProcess(
  command: string,
  args: string[],
  opts: SpawnOptions = {},
): Promise<ServerProcess> {
  const cleanup = opts.cleanup ?? (() => Promise.resolve());
  const child = new Deno.Command(command, {
    args,
    cwd: opts.cwd,
    env: opts.env,
    clearEnv: opts.clearEnv,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let status: Deno.CommandStatus | null = null;
  const statusP = child.status.then((s) => status = s);
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  const deadline = Date.now() + 20_000;
  try {
    while (!log.includes("Server is ready")) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`server did not start:\n${log}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        reader.read(),
        new Promise<"late">((res) => timer = setTimeout(() => res("late"), left)),
      ]);
      clearTimeout(timer);
      if (r === "late") continue;
      if (r.done) throw new Error(`server exited:\n${log}`);
      log += r.value;
    }
  } catch (err) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await statusP;
    await cleanup();
    throw err;
  }
  // Keep draining stderr so the child never blocks on a full pipe.
  const waiters = new Set<() => void>();
  const drained = (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        log += value;
        for (const w of waiters) w();
      }
    } catch { /* closed */ }
    for (const w of waiters) w();
  })();
  let ended = false;
  drained.then(() => ended = true);
  const port = Number(/Listening for client connections on [^\s]*:(\d+)/.exec(log)?.[1] ?? 0);
  const ws = /Listening for websocket clients on wss?:\/\/[^\s]*:(\d+)/.exec(log);
  const mon = /Starting http monitor on [^\s]*:(\d+)/.exec(log);
  let stopped: Promise<Deno.CommandStatus> | undefined;
  return {
    pid: child.pid,
    port,
    configFile: opts.configFile ?? "",
    kill: (signal) => child.kill(signal),
    wsPort: ws ? Number(ws[1]) : undefined,
    monitorPort: mon ? Number(mon[1]) : undefined,
    stderr: () => log,
    async waitForLog(pred, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      while (!pred(log)) {
        const left = deadline - performance.now();
        if (left <= 0 || ended) return pred(log);
        let wake!: () => void;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((r) => {
          wake = r;
          waiters.add(wake);
          timer = setTimeout(r, left);
        });
        clearTimeout(timer);
        waiters.delete(wake);
      }
      return true;
    },
    exited: () => status,
    async waitForExit(timeoutMs) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<null>((r) => timer = setTimeout(() => r(null), timeoutMs));
      const r = await Promise.race([statusP, late]);
      clearTimeout(timer);
      return r;
    },
    async rss(): Promise<number | null> {
      if (status) return null;
      const vmRss = (text: string) => {
        const m = /^VmRSS:\s+(\d+) kB$/m.exec(text);
        return m ? Number(m[1]) * 1024 : null;
      };
      try {
        return vmRss(await Deno.readTextFile(`/proc/${child.pid}/status`));
      } catch { /* not --allow-all, or no /proc */ }
      for (
        const [cmd, args] of [["cat", [`/proc/${child.pid}/status`]], ["ps", [
          "-o",
          "rss=",
          "-p",
          `${child.pid}`,
        ]]] as const
      ) {
        try {
          const out = await new Deno.Command(cmd, {
            args: [...args],
            stdout: "piped",
            stderr: "null",
          })
            .output();
          if (!out.success) continue;
          const text = new TextDecoder().decode(out.stdout);
          const v = cmd === "cat" ? vmRss(text) : Number(text.trim()) * 1024;
          if (v !== null && v > 0) return v;
        } catch { /* not there */ }
      }
      return null;
    },
    stop(): Promise<Deno.CommandStatus> {
      stopped ??= (async () => {
        if (!status) {
          try {
            child.kill("SIGINT");
          } catch { /* gone */ }
          let timer: ReturnType<typeof setTimeout> | undefined;
          await Promise.race([statusP, new Promise((r) => timer = setTimeout(r, 5000))]);
          clearTimeout(timer);
          if (!status) {
            try {
              child.kill("SIGKILL");
            } catch { /* gone */ }
          }
        }
        await statusP;
        await drained;
        await cleanup();
        return status!;
      })();
      return stopped;
    },
  };
}
