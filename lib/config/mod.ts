/**
 * Config loading for a nats-server 2.9.10 compatible server.
 *
 * - `parseConfigText` / `parseConfigFile`: the generic layer (positioned value tree).
 * - `loadConfigFile` / `optionsFromText`: parse + turn into one typed, deep-frozen
 *   `ServerOptions` with every parse-time error/warning collected.
 * - `validateOptions`: the startup checks the reference makes in NewServer.
 * - `applyFlags`: command-line overrides.
 * - `checkConfigFile`: what `nats-server -t -c <file>` does.
 */
import { buildOptions } from "./build.ts";
import { type ConfigError, formatConfigError } from "./errors.ts";
import { deepFreeze, setMeta } from "./freeze.ts";
import { defaultOptions, type ServerOptions } from "./options.ts";
import { type EnvLookup, parseConfigFile, parseConfigText, type ParseResult } from "./parser.ts";

export { ConfigError, formatConfigError } from "./errors.ts";
export { defaultOptions } from "./options.ts";
export type {
  LeafNodeAuthOptions,
  LeafNodeOptions,
  LeafNodeUser,
  LeafProxyOptions,
  MonitorOptions,
  RemoteLeafOptions,
  ServerOptions,
  TlsOptions,
  WebSocketOptions,
} from "./options.ts";
export { parseConfigFile, parseConfigText } from "./parser.ts";
export type {
  ConfigKind,
  ConfigMap,
  ConfigNode,
  EnvLookup,
  ParseOptions,
  ParseResult,
} from "./parser.ts";
export { validateOptions } from "./validate.ts";
export { applyFlags, type CliFlags } from "./flags.ts";

/** Result of loading: options are deep-frozen; use them only when `errors` is empty. */
export interface LoadResult {
  options: ServerOptions;
  errors: ConfigError[];
  warnings: ConfigError[];
}

function finish(parsed: ParseResult, file: string | undefined): LoadResult {
  if (parsed.errors.length > 0) {
    const options = defaultOptions();
    if (file !== undefined) options.configFile = file;
    setMeta(options, { monitorHostExplicit: false });
    return { options: deepFreeze(options), errors: parsed.errors, warnings: parsed.warnings };
  }
  const built = buildOptions(parsed.value, file);
  setMeta(built.options, built.meta);
  return {
    options: deepFreeze(built.options),
    errors: built.errors,
    warnings: [...parsed.warnings, ...built.warnings],
  };
}

/**
 * Loads a config file. A file that cannot be read gives one error whose message is the
 * reference's (`open /nonexistent.conf: no such file or directory`).
 */
export function loadConfigFile(path: string, opts: { env?: EnvLookup } = {}): LoadResult {
  return finish(parseConfigFile(path, opts), path);
}

/** Same as `loadConfigFile` for an in-memory config (includes resolve against `file`'s dir). */
export function optionsFromText(
  text: string,
  opts: { file?: string; env?: EnvLookup } = {},
): LoadResult {
  return finish(parseConfigText(text, opts), opts.file);
}

/**
 * The lines nats-server prints for a failed load, in its order (warnings first), without the
 * `nats-server: ` prefix the CLI puts in front of the first one.
 */
export function formatLoadProblems(
  r: { errors: ConfigError[]; warnings: ConfigError[] },
): string[] {
  return [...r.warnings, ...r.errors].map(formatConfigError);
}

export interface CheckResult {
  /** True when `nats-server -t` would exit 0. */
  ok: boolean;
  exitCode: 0 | 1;
  /** What to print on stderr, one line each (`nats-server: ` prefix included). */
  lines: string[];
  errors: ConfigError[];
  warnings: ConfigError[];
}

/**
 * `nats-server -t -c <file>`: parse only (no startup validation) and fail on warnings too.
 * Success prints `nats-server: configuration file <file> is valid`.
 */
export function checkConfigFile(path: string, opts: { env?: EnvLookup } = {}): CheckResult {
  const r = loadConfigFile(path, opts);
  const problems = formatLoadProblems(r);
  if (problems.length === 0) {
    return {
      ok: true,
      exitCode: 0,
      lines: [`nats-server: configuration file ${path} is valid`],
      errors: r.errors,
      warnings: r.warnings,
    };
  }
  return {
    ok: false,
    exitCode: 1,
    lines: problems.map((l, i) => (i === 0 ? `nats-server: ${l}` : l)),
    errors: r.errors,
    warnings: r.warnings,
  };
}
