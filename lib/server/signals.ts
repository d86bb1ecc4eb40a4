import { goQuote } from "../core/gofmt.ts";
/**
 * Process signals as nats-server 2.9.10 handles them, and `--signal <verb>[=<pid>]`, which
 * sends one to a running server.
 *
 * | signal  | action                                                  |
 * | ------- | ------------------------------------------------------- |
 * | SIGINT  | shut down, exit 0                                       |
 * | SIGTERM | shut down, exit 1 (ignored while in lame-duck mode)     |
 * | SIGQUIT | exit 2 at once, as Go's runtime does (no shutdown)       |
 * | SIGUSR1 | reopen the log file                                     |
 * | SIGUSR2 | enter lame-duck mode                                    |
 * | SIGHUP  | reload the configuration file                           |
 *
 * @module
 */

/** What the signal handlers drive. */
export interface SignalTarget {
  /** Shuts down and resolves when done. */
  shutdown(): Promise<void>;
  /** Whether lame-duck mode is in progress (SIGTERM is then ignored). */
  readonly inLameDuckMode: boolean;
  lameDuck(): unknown;
  reload(): unknown;
  reopenLog(): void;
  /** `Trapped "<name>" signal` at debug level. */
  trapped(name: string): void;
}

/** Go's names for the signals in the `Trapped %q signal` debug line. */
const GO_SIGNAL_NAMES: Record<string, string> = {
  SIGINT: "interrupt",
  SIGTERM: "terminated",
  SIGQUIT: "quit",
  SIGUSR1: "user defined signal 1",
  SIGUSR2: "user defined signal 2",
  SIGHUP: "hangup",
};

/**
 * Installs the handlers. `exitWith(code, now)` tells the caller the process exit code: with
 * `now` the process must exit at once (SIGQUIT), otherwise once the shutdown the handler
 * started has finished (`target.shutdown()` resolves). Returns a function removing them.
 */
export function installSignalHandlers(
  target: SignalTarget,
  exitWith: (code: number, now: boolean) => void,
): () => void {
  const stopWith = (code: number) => {
    exitWith(code, false);
    void target.shutdown();
  };
  const actions: Partial<Record<Deno.Signal, () => void>> = {
    SIGINT: () => stopWith(0),
    SIGTERM: () => {
      if (!target.inLameDuckMode) stopWith(1);
    },
    SIGQUIT: () => {
      Deno.stderr.writeSync(new TextEncoder().encode("SIGQUIT: quit\n"));
      exitWith(2, true);
    },
    SIGUSR1: () => target.reopenLog(),
    SIGUSR2: () => void target.lameDuck(),
    SIGHUP: () => void target.reload(),
  };
  const installed: [Deno.Signal, () => void][] = [];
  for (const [sig, action] of Object.entries(actions) as [Deno.Signal, () => void][]) {
    const handler = () => {
      target.trapped(GO_SIGNAL_NAMES[sig]);
      action();
    };
    Deno.addSignalListener(sig, handler);
    installed.push([sig, handler]);
  }
  return () => {
    for (const [sig, handler] of installed) Deno.removeSignalListener(sig, handler);
  };
}

/** The `--signal` verbs and the signal each sends (`stop` is SIGKILL, as in the reference). */
export const SIGNAL_VERBS: Record<string, Deno.Signal> = {
  stop: "SIGKILL",
  quit: "SIGINT",
  reopen: "SIGUSR1",
  reload: "SIGHUP",
  ldm: "SIGUSR2",
  term: "SIGTERM",
};

/** A `--signal` failure, in the reference's words (printed as `nats-server: <message>`). */
export class SignalError extends Error {}

/** How `--signal` finds the process when no pid is given. */
export interface PidLookup {
  /** The `-P` pid file given with `--signal`, read when no `=<pid>` is given. */
  pidFile?: string;
  /** Pids of running servers (default: processes running this program, from /proc). */
  runningPids?: () => number[];
}

/**
 * `--signal <verb>[=<pid|pidfile>]`: resolves the pid as the reference does (a path to a
 * readable file is replaced by its content; without a pid, the `-P` file, else the one running
 * server) and sends the verb's signal. Throws {@link SignalError} with the reference's text.
 */
export function sendSignalCommand(arg: string, lookup: PidLookup = {}): void {
  const parts = arg.split("=");
  if (parts.length > 2) {
    throw new SignalError(`invalid signal parameters: [${parts.slice(2).join(" ")}]`);
  }
  const [verb] = parts;
  let pidText = parts.length === 2 ? readPidFileOr(parts[1]) : undefined;
  if (pidText === undefined && lookup.pidFile !== undefined) {
    pidText = readPidFileOr(lookup.pidFile);
  }
  const pid = pidText === undefined ? onlyRunningPid(lookup) : parsePid(pidText);
  const signal = SIGNAL_VERBS[verb];
  if (signal === undefined) throw new SignalError(`unknown signal ${goQuote(verb)}`);
  try {
    Deno.kill(pid, signal);
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new SignalError("no such process");
    if (err instanceof Deno.errors.PermissionDenied && !/Requires/.test(err.message)) {
      throw new SignalError("operation not permitted");
    }
    throw err;
  }
}

/** The reference's maybeReadPidFile: a readable file's content, else the text itself. */
/** Whether process `pid` with these arguments runs the program at `main` (absolute path). */
function runsProgram(pid: string, args: string[], main: string): boolean {
  if (!/deno/.test(args[0] ?? "")) return false;
  let cwd: string | undefined;
  for (const a of args.slice(1)) {
    if (a === main) return true;
    if (!a.endsWith(main.slice(main.lastIndexOf("/")))) continue;
    try {
      cwd ??= Deno.readLinkSync(`/proc/${pid}/cwd`);
    } catch {
      return false;
    }
    if (new URL(a, `file://${cwd}/`).pathname === main) return true;
  }
  return false;
}

function readPidFileOr(text: string): string {
  try {
    return Deno.readTextFileSync(text);
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable) throw err;
    return text;
  }
}

function parsePid(text: string): number {
  if (!/^[+-]?[0-9]+$/.test(text)) throw new SignalError(`invalid pid: ${text}`);
  return Number(text);
}

function onlyRunningPid(lookup: PidLookup): number {
  const pids = (lookup.runningPids ?? runningServerPids)().filter((p) => p !== Deno.pid);
  if (pids.length === 0) throw new SignalError("no nats-server processes running");
  if (pids.length > 1) {
    throw new SignalError(`multiple nats-server processes running:\n${pids.join("\n")}`);
  }
  return pids[0];
}

/**
 * Processes running this server's entry point (the reference runs `pgrep nats-server`; a Deno
 * server's process is `deno`, so its command line is matched against this program's path).
 */
export function runningServerPids(): number[] {
  const main = new URL(Deno.mainModule).pathname;
  const pids: number[] = [];
  try {
    for (const e of Deno.readDirSync("/proc")) {
      if (!/^\d+$/.test(e.name)) continue;
      let cmdline: string;
      try {
        cmdline = Deno.readTextFileSync(`/proc/${e.name}/cmdline`);
      } catch {
        continue;
      }
      if (runsProgram(e.name, cmdline.split("\0"), main)) pids.push(Number(e.name));
    }
  } catch {
    throw new SignalError("unable to resolve pid, try providing one");
  }
  return pids;
}
