/**
 * Command-line flags with Go `flag` semantics, as nats-server parses them: `-x` and `--x` are
 * the same, values as `-x v` or `-x=v`, booleans take `=false`, multi-letter single-dash names
 * (`-DV`, `-ms`) are names, not bundles. (node:util parseArgs bundles single-dash letters,
 * which would misread `-DV`, so this is a small table-driven parser of its own.)
 */
import type { CliFlags as ConfigFlags } from "../config/flags.ts";

/** The parsed flags (only those given are set); config overrides use the config's names. */
export interface CliFlags extends ConfigFlags {
  config?: string;
  port?: number;
  logtime?: boolean;
  client_advertise?: string;
  checkConfig?: boolean;
  version?: boolean;
  help?: boolean;
  /** `-sl, --signal <verb>[=<pid>]`: send a signal to a running server and exit. */
  signal?: string;
}

type Kind = "string" | "int" | "bool";
interface FlagDef {
  key: keyof CliFlags;
  kind: Kind;
  /** For -DV style combos: extra keys set to true. */
  also?: (keyof CliFlags)[];
}

const FLAGS: Record<string, FlagDef> = {};
function def(names: string[], key: keyof CliFlags, kind: Kind, also?: (keyof CliFlags)[]) {
  for (const n of names) FLAGS[n] = { key, kind, also };
}
def(["c", "config"], "config", "string");
def(["p", "port"], "port", "int");
def(["a", "addr", "net"], "host", "string");
def(["n", "name", "server_name"], "name", "string");
def(["P", "pid"], "pid", "string");
def(["l", "log"], "log", "string");
def(["T", "logtime"], "logtime", "bool");
def(["D", "debug"], "debug", "bool");
def(["V", "trace", "VV"], "trace", "bool");
def(["DV", "DVV"], "debug", "bool", ["trace"]);
def(["user"], "user", "string");
def(["pass"], "pass", "string");
def(["auth"], "auth", "string");
def(["ports_file_dir"], "ports_file_dir", "string");
def(["m", "http_port"], "http_port", "int");
def(["client_advertise"], "client_advertise", "string");
def(["t"], "checkConfig", "bool");
def(["sl", "signal"], "signal", "string");
def(["v", "version"], "version", "bool");
def(["h", "help"], "help", "bool");

/** A flag error in Go's wording (the caller prints it with the usage and exits 0). */
export class FlagError extends Error {}

/** Parses argv (without the program name). Bare `version`/`help` args work as in the reference. */
export function parseFlags(args: string[]): CliFlags {
  const out: CliFlags = {};
  const set = out as Record<string, unknown>;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (!arg.startsWith("-") || arg === "-") {
      if (arg === "version") out.version = true;
      else if (arg === "help") out.help = true;
      continue;
    }
    if (arg === "--") break;
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf("=");
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const flag = FLAGS[name];
    if (!flag) throw new FlagError(`flag provided but not defined: -${name}`);
    if (flag.kind === "bool") {
      let v = true;
      if (eq >= 0) {
        const text = body.slice(eq + 1);
        const parsed = parseGoBool(text);
        if (parsed === undefined) {
          throw new FlagError(`invalid boolean value "${text}" for -${name}: parse error`);
        }
        v = parsed;
      }
      set[flag.key] = v;
      for (const k of flag.also ?? []) set[k] = v;
      continue;
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new FlagError(`flag needs an argument: -${name}`);
      value = args[++i];
    }
    if (flag.kind === "int") {
      if (!/^[+-]?\d+$/.test(value)) {
        throw new FlagError(`invalid value "${value}" for flag -${name}: parse error`);
      }
      set[flag.key] = Number(value);
    } else set[flag.key] = value;
  }
  return out;
}

function parseGoBool(s: string): boolean | undefined {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return undefined;
}

/** Usage text, the reference's layout for the flags this server has. */
export const USAGE = `
Usage: nats-server [options]

Server Options:
    -a, --addr, --net <host>         Bind to host address (default: 0.0.0.0)
    -p, --port <port>                Use port for clients (default: 4222)
    -n, --name
        --server_name <server_name>  Server name (default: auto)
    -P, --pid <file>                 File to store PID
    -m, --http_port <port>           Use port for http monitoring
    -c, --config <file>              Configuration file
    -t                               Test configuration and exit
    -sl,--signal <signal>[=<pid>]    Send signal to nats-server process (ldm, stop, quit, term, reopen, reload)
                                     pid> can be either a PID (e.g. 1) or the path to a PID file (e.g. /var/run/nats-server.pid)
        --client_advertise <string>  Client URL to advertise to other servers
        --ports_file_dir <dir>       Creates a ports file in the specified directory (<executable_name>_<pid>.ports).

Logging Options:
    -l, --log <file>                 File to redirect log output
    -T, --logtime                    Timestamp log entries (default: true)
    -D, --debug                      Enable debugging output
    -V, --trace                      Trace the raw protocol
    -DV                              Debug and trace

Authorization Options:
        --user <user>                User required for connections
        --pass <password>            Password required for connections
        --auth <token>               Authorization token required for connections

Common Options:
    -h, --help                       Show this message
    -v, --version                    Show version
`;
