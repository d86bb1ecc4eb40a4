/**
 * `nats-server`-compatible command line:
 * `deno run --allow-net --allow-read main.ts -c nats.conf`.
 * @module
 */
import {
  applyFlags,
  checkConfigFile,
  type ConfigError,
  formatConfigError,
  loadConfigFile,
  type LoadResult,
  optionsFromText,
  validateOptions,
} from "./lib/config/mod.ts";
import { DEFAULT_CONFIG } from "./lib/server/default_config.ts";
import { deployOptions } from "./lib/server/deploy.ts";
import { type CliFlags, FlagError, parseFlags, USAGE } from "./lib/server/flags.ts";
import { createLogger } from "./lib/server/log.ts";
import { NatsServer, VERSION } from "./lib/server/server.ts";
import { installSignalHandlers, sendSignalCommand, SignalError } from "./lib/server/signals.ts";

const encoder = new TextEncoder();

function stderr(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}

function stdout(text: string): void {
  Deno.stdout.writeSync(encoder.encode(text));
}

/** Prints errors as the reference: `nats-server: ` before the first, one per line. */
function printErrors(lines: string[]): void {
  stderr(`nats-server: ${lines.join("\n")}\n`);
}

/**
 * Positioned option errors print like a Go error list (a trailing blank line); a lexer or file
 * error is a single error line.
 */
function configProblemsEnd(problems: ConfigError[]): string {
  return problems.some((e) => e.showPosition) ? "\n\n" : "\n";
}

function load(flags: CliFlags): LoadResult {
  return flags.config !== undefined
    ? loadConfigFile(flags.config)
    : optionsFromText(DEFAULT_CONFIG);
}

/** How {@link main} runs: the nats-server command line, or deploy mode (see deploy.ts). */
export interface RunMode {
  /** Deploy mode: serve WebSocket (plain, native engine) on this port and open no TCP port. */
  deployPort?: number;
}

/** `--signal <verb>[=<pid>]`: sends the signal and exits 0, or prints the reference's error. */
function signalCommand(flags: CliFlags): number {
  try {
    sendSignalCommand(flags.signal!, { pidFile: flags.pid });
    return 0;
  } catch (err) {
    if (!(err instanceof SignalError)) throw err;
    printErrors([err.message]);
    return 1;
  }
}

async function main(args: string[], mode: RunMode): Promise<number> {
  let flags: CliFlags;
  try {
    flags = parseFlags(args);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    stderr(`${err.message}\n`);
    stdout(USAGE);
    return 0;
  }
  if (flags.help) {
    stdout(USAGE);
    return 0;
  }
  if (flags.version) {
    stdout(`nats-server: v${VERSION}\n`);
    return 0;
  }
  if (flags.signal !== undefined) return signalCommand(flags);
  if (flags.checkConfig) {
    if (flags.config === undefined) {
      printErrors(["must specify [-c, --config] option to check configuration file syntax"]);
      return 1;
    }
    const r = checkConfigFile(flags.config);
    stderr(r.lines.join("\n") + (r.ok ? "\n" : configProblemsEnd([...r.warnings, ...r.errors])));
    return r.exitCode;
  }

  const r = load(flags);
  if (r.errors.length) {
    const problems = [...r.warnings, ...r.errors];
    stderr(
      `nats-server: ${problems.map(formatConfigError).join("\n")}${configProblemsEnd(problems)}`,
    );
    return 1;
  }
  for (const w of r.warnings) stderr(`${formatConfigError(w)}\n`);
  const flagged = applyFlags(r.options, flags);
  const deploy = mode.deployPort !== undefined;
  const options = deploy ? deployOptions(flagged, mode.deployPort!) : flagged;
  const problems = validateOptions(options);
  if (problems.length) {
    printErrors(problems);
    return 1;
  }

  const log = createLogger({
    debug: options.debug,
    trace: options.trace,
    logtime: options.logtime,
    logFile: options.logFile,
  });
  const server = new NatsServer(options, log, !deploy);
  // A reload reads the file again and applies the command-line flags over it; without -c the
  // server refuses to reload, as the reference does.
  if (flags.config !== undefined) {
    server.reloadSource = () => {
      const again = load(flags);
      if (again.errors.length) {
        return { options: again.options, errors: again.errors.map(formatConfigError) };
      }
      const reflagged = applyFlags(again.options, flags);
      return {
        options: deploy ? deployOptions(reflagged, mode.deployPort!) : reflagged,
        errors: [],
      };
    };
  }
  // Handlers go in before "Server is ready": a reload sent right after it must not kill us.
  let exitCode = 0;
  const removeHandlers = installSignalHandlers(server, (code, now) => {
    if (now) Deno.exit(code);
    exitCode = code;
  });
  try {
    await server.start();
  } catch (err) {
    if (isPermissionError(err)) {
      removeHandlers();
      throw err;
    }
    removeHandlers();
    printErrors([String(err instanceof Error ? err.message : err)]);
    return 1;
  }
  // Signals, lame-duck mode and shutdown all end here.
  await server.finished;
  return exitCode;
}

function isPermissionError(err: unknown): err is Error {
  return err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied;
}

/** One line naming the flag; Deno's own text already ends with "run again with the --allow-x flag". */
function permissionHint(err: Error): string {
  const text = err.message.split("\n")[0];
  const m = /Requires (\w+) access/.exec(text);
  const flag = m && !text.includes(`--allow-${m[1]}`) ? ` (run with --allow-${m[1]})` : "";
  return `missing permission: ${text}${flag}`;
}

/** Runs the server with command-line `args`; resolves to the exit code. */
export async function run(args: string[], mode: RunMode = {}): Promise<number> {
  try {
    return await main(args, mode);
  } catch (err) {
    if (!isPermissionError(err)) throw err;
    printErrors([permissionHint(err)]);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await run(Deno.args));
