/**
 * `nats-server`-compatible command line:
 * `deno run --allow-net --allow-read main.ts -c nats.conf`.
 * @module
 */
import {
  applyFlags,
  checkConfigFile,
  formatConfigError,
  loadConfigFile,
  optionsFromText,
  validateOptions,
} from "./lib/config/mod.ts";
import type { ServerOptions } from "./lib/config/options.ts";
import { DEFAULT_CONFIG } from "./lib/server/default_config.ts";
import { type CliFlags, FlagError, parseFlags, USAGE } from "./lib/server/flags.ts";
import { createLogger, fileWriter } from "./lib/server/log.ts";
import { NatsServer, VERSION } from "./lib/server/server.ts";

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

/** Config problems print like a Go error list: one per line and a trailing blank line. */
function printConfigProblems(lines: string[]): void {
  stderr(`nats-server: ${lines.join("\n")}\n\n`);
}

function load(flags: CliFlags): { options: ServerOptions; errors: string[]; warnings: string[] } {
  const r = flags.config !== undefined
    ? loadConfigFile(flags.config)
    : optionsFromText(DEFAULT_CONFIG, { file: "<default>" });
  return {
    options: r.options,
    errors: r.errors.map(formatConfigError),
    warnings: r.warnings.map(formatConfigError),
  };
}

async function main(args: string[]): Promise<number> {
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
  if (flags.checkConfig) {
    if (flags.config === undefined) {
      printErrors(["must specify [-c, --config] option to check configuration file syntax"]);
      return 1;
    }
    const r = checkConfigFile(flags.config);
    stderr(r.lines.join("\n") + (r.ok ? "\n" : "\n\n"));
    return r.exitCode;
  }

  const r = load(flags);
  if (r.errors.length) {
    printConfigProblems([...r.warnings, ...r.errors]);
    return 1;
  }
  for (const w of r.warnings) stderr(`${w}\n`);
  const options = applyFlags(r.options, flags);
  const problems = validateOptions(options);
  if (problems.length) {
    printErrors(problems);
    return 1;
  }

  const log = createLogger({
    debug: options.debug,
    trace: options.trace,
    logtime: options.logtime,
    writer: options.logFile ? fileWriter(options.logFile) : undefined,
  });
  const server = new NatsServer(options, log);
  try {
    await server.start();
  } catch (err) {
    printErrors([String(err instanceof Error ? err.message : err)]);
    return 1;
  }
  const cleanups: string[] = [];
  if (options.pidFile) {
    Deno.writeTextFileSync(options.pidFile, String(Deno.pid));
    cleanups.push(options.pidFile);
  }
  if (options.portsFileDir) {
    const file = `${options.portsFileDir}/nats-server_${Deno.pid}.ports`;
    Deno.writeTextFileSync(file, JSON.stringify(server.portsInfo()));
    cleanups.push(file);
  }

  let exitCode = 0;
  const stop = (code: number) => () => {
    exitCode = code;
    server.shutdown();
  };
  Deno.addSignalListener("SIGINT", stop(0));
  Deno.addSignalListener("SIGTERM", stop(1));
  await server.finished;
  for (const f of cleanups) {
    try {
      Deno.removeSync(f);
    } catch { /* already gone */ }
  }
  return exitCode;
}

function permissionHint(err: Error): string {
  const m = /Requires (\w+) access/.exec(err.message);
  const flag = m ? ` (run with --allow-${m[1]})` : "";
  return `missing permission: ${err.message}${flag}`;
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(Deno.args);
  } catch (err) {
    if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
      printErrors([permissionHint(err)]);
      code = 1;
    } else throw err;
  }
  Deno.exit(code);
}
