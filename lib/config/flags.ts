/**
 * Command-line overrides. nats-server parses its flags again after the config file, so every
 * flag given on the command line wins over the file (`-D=false` included).
 */
import type { ServerOptions } from "./options.ts";
import { deepClone, deepFreeze, getMeta, setMeta } from "./freeze.ts";

/** The CLI's parsed values; a key that is absent (or undefined) was not given. */
export interface CliFlags {
  /** `-p, --port` (-1 = random, 0 = default 4222). */
  port?: number | string;
  /** `-a, --addr, --net`. */
  host?: string;
  /** `-n, --name, --server_name`. */
  name?: string;
  /** `-P, --pid`. */
  pid?: string;
  /** `-l, --log`. */
  log?: string;
  /** `-D, --debug`. */
  debug?: boolean;
  /** `-V, --trace`. */
  trace?: boolean;
  /** `--user`. */
  user?: string;
  /** `--pass`. */
  pass?: string;
  /** `--auth` (token). */
  auth?: string;
  /** `--ports_file_dir`. */
  ports_file_dir?: string;
  /** `-m, --http_port`. */
  http_port?: number | string;
  /** `-T, --logtime`. */
  logtime?: boolean;
  /** `--client_advertise`. */
  client_advertise?: string;
  /** Other flags of the CLI are accepted and ignored here. */
  [other: string]: unknown;
}

function toPort(flag: string, v: number | string): number {
  if (typeof v === "number" && Number.isInteger(v)) return v;
  if (typeof v === "string" && /^[+-]?[0-9]+$/.test(v.trim())) return Number(v.trim());
  throw new TypeError(`invalid value ${JSON.stringify(String(v))} for flag -${flag}: parse error`);
}

/**
 * Returns new (deep-frozen) options with the given flags applied over `opts`. Derived values
 * follow the reference: port 0 means 4222, an empty host means 0.0.0.0, and the monitoring host
 * follows the client host unless the config set it explicitly.
 */
export function applyFlags(opts: ServerOptions, flags: CliFlags): ServerOptions {
  const o = deepClone(opts);
  const meta = getMeta(opts);
  const given = (k: string) => flags[k] !== undefined;
  if (given("host")) {
    const h = String(flags.host);
    o.host = h === "" ? "0.0.0.0" : h;
    if (!meta.monitorHostExplicit) o.monitor.host = o.host;
  }
  if (given("port")) {
    const p = toPort("port", flags.port!);
    o.port = p === 0 ? 4222 : p;
  }
  if (given("name")) o.serverName = String(flags.name);
  if (given("pid")) o.pidFile = String(flags.pid);
  if (given("log")) o.logFile = String(flags.log);
  if (given("debug")) o.debug = Boolean(flags.debug);
  if (given("trace")) o.trace = Boolean(flags.trace);
  if (given("user")) o.auth.user = String(flags.user);
  if (given("pass")) o.auth.password = String(flags.pass);
  if (given("auth")) o.auth.token = String(flags.auth);
  if (given("ports_file_dir")) o.portsFileDir = String(flags.ports_file_dir);
  if (given("http_port")) o.monitor.port = toPort("http_port", flags.http_port!);
  if (given("logtime")) o.logtime = Boolean(flags.logtime);
  if (given("client_advertise")) o.clientAdvertise = String(flags.client_advertise);
  setMeta(o, meta);
  return deepFreeze(o);
}
