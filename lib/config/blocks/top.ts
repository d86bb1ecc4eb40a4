/** Top-level keys: server identity, listen address, limits, logging, lame duck. */
import { formatGoDuration, parseGoDuration } from "../../core/gofmt.ts";
import type { ConfigNode } from "../parser.ts";
import {
  type BuildContext,
  nsToMs,
  refuseKey,
  type TopLevelHandler,
  type TopLevelHandlers,
} from "./context.ts";
import { goType } from "./go_values.ts";

type Setter<T> = (ctx: BuildContext, v: T) => void;

const str = (set: Setter<string>): TopLevelHandler => (n, _k, ctx) => {
  const s = ctx.str(n);
  if (s !== undefined) set(ctx, s);
};
const num = (set: Setter<number>): TopLevelHandler => (n, _k, ctx) => {
  const v = ctx.num(n);
  if (v !== undefined) set(ctx, v);
};
const bool = (set: Setter<boolean>): TopLevelHandler => (n, _k, ctx) => {
  const b = ctx.bool(n);
  if (b !== undefined) set(ctx, b);
};

/** max_control_line / max_payload: an int32 that must fit. */
const int32 = (field: "maxControlLine" | "maxPayload"): TopLevelHandler => (n, k, ctx) => {
  const v = ctx.int(n);
  if (v === undefined) return;
  if (v > 0x7fffffffn) {
    ctx.err(n, `${k} value is too big`);
    return;
  }
  ctx.draft[field] = Number(BigInt.asIntN(32, v));
};

const duration =
  (field: string, key: "pingIntervalMs" | "writeDeadlineMs"): TopLevelHandler => (n, _k, ctx) => {
    const ms = ctx.duration(field, n);
    if (ms !== undefined) ctx.draft[key] = ms;
  };

/** lame_duck_duration / lame_duck_grace_period: a Go duration string with a lower bound. */
function lameDuck(field: string, key: "lameDuckMs" | "lameDuckGraceMs"): TopLevelHandler {
  return (n, _k, ctx) => {
    const s = ctx.str(n);
    if (s === undefined) return;
    let ns: bigint;
    try {
      ns = parseGoDuration(s);
    } catch (e) {
      ctx.err(n, `error parsing ${field}: ${(e as Error).message}`);
      return;
    }
    if (key === "lameDuckMs" && ns < 30_000_000_000n) {
      ctx.err(n, `invalid lame_duck_duration of ${formatGoDuration(ns)}, minimum is 30 seconds`);
      return;
    }
    if (key === "lameDuckGraceMs" && ns < 0n) {
      ctx.err(n, "invalid lame_duck_grace_period, needs to be positive");
      return;
    }
    ctx.draft[key] = nsToMs(ns);
  };
}

/** A descriptive key: type-checked like the reference, then accepted with a warning. */
const ignoredAfter =
  (check: (n: ConfigNode, ctx: BuildContext) => void): TopLevelHandler => (n, k, ctx) => {
    const before = ctx.errors.length;
    check(n, ctx);
    if (ctx.errors.length === before) ctx.ignore(n, k);
  };
const ignoredBool = ignoredAfter((n, ctx) => ctx.bool(n));
const ignoredInt = ignoredAfter((n, ctx) => ctx.int(n));

function checkTags(n: ConfigNode, ctx: BuildContext): void {
  if (n.kind === "array") {
    for (const t of n.value) {
      if (t.kind !== "string") {
        ctx.err(n, `error parsing tags: unsupported type *conf.token where string is expected`);
        break;
      }
    }
  } else if (n.kind !== "string") {
    ctx.err(n, `error parsing tags: unsupported type ${goType(n)}`);
  }
}

/** `server_tags`: a string or a list of strings, kept as the reference's TagList.Add does. */
const serverTags: TopLevelHandler = (n, _k, ctx) => {
  const before = ctx.errors.length;
  checkTags(n, ctx);
  if (ctx.errors.length !== before) return;
  const given = n.kind === "array" ? n.value : [n];
  const tags = ctx.o.tags ?? [];
  for (const t of given) {
    const tag = t.kind === "string" ? t.value.trim().toLowerCase() : "";
    if (tag !== "" && !tags.includes(tag)) tags.push(tag);
  }
  ctx.o.tags = tags;
};

const raw = (key: "port" | "maxPending" | "maxConn" | "pingMax") =>
  num((ctx, v) => ctx.draft[key] = v);

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"top"> = {
  listen: (n, _k, ctx) => {
    const hp = ctx.listen(n);
    if (hp) {
      ctx.draft.host = hp.host;
      ctx.draft.port = hp.port;
    }
  },
  client_advertise: str((ctx, s) => ctx.o.clientAdvertise = s),
  port: raw("port"),
  server_name: str((ctx, s) => ctx.o.serverName = s),
  host: str((ctx, s) => ctx.draft.host = s),
  debug: bool((ctx, b) => ctx.o.debug = b),
  trace: bool((ctx, b) => ctx.o.trace = b),
  trace_verbose: bool((ctx, b) => ctx.o.trace = ctx.o.traceVerbose = b),
  logtime: bool((ctx, b) => ctx.o.logtime = b),
  no_header_support: bool((ctx, b) => ctx.o.noHeaderSupport = b),
  disable_sublist_cache: ignoredBool,
  logfile: str((ctx, s) => ctx.o.logFile = s),
  logfile_size_limit: ignoredInt,
  syslog: ignoredBool,
  remote_syslog: ignoredAfter((n, ctx) => ctx.str(n)),
  pidfile: str((ctx, s) => ctx.o.pidFile = s),
  ports_file_dir: str((ctx, s) => ctx.o.portsFileDir = s),
  prof_port: ignoredInt,
  max_control_line: int32("maxControlLine"),
  max_payload: int32("maxPayload"),
  max_pending: raw("maxPending"),
  max_connections: raw("maxConn"),
  max_traced_msg_len: ignoredInt,
  max_subscriptions: num((ctx, v) => ctx.o.maxSubscriptions = v),
  max_sub_tokens: refuseKey,
  ping_interval: duration("ping_interval", "pingIntervalMs"),
  ping_max: raw("pingMax"),
  write_deadline: duration("write_deadline", "writeDeadlineMs"),
  lame_duck_duration: lameDuck("lame_duck_duration", "lameDuckMs"),
  lame_duck_grace_period: lameDuck("lame_duck_grace_period", "lameDuckGraceMs"),
  connect_error_reports: ignoredInt,
  reconnect_error_reports: ignoredInt,
  server_tags: serverTags,
};

/** setBaselineOptions for the values of this module: the reference's defaults for zeros. */
export function finishTopLevel(ctx: BuildContext): void {
  const o = ctx.o;
  const d = ctx.draft;
  o.host = d.host === "" ? "0.0.0.0" : d.host;
  o.port = d.port === 0 ? 4222 : d.port;
  if (d.maxConn !== 0) o.maxConnections = d.maxConn;
  if (d.pingIntervalMs !== 0) o.pingIntervalMs = d.pingIntervalMs;
  if (d.pingMax !== 0) o.pingMax = d.pingMax;
  if (d.maxControlLine !== 0) o.maxControlLine = d.maxControlLine;
  if (d.maxPayload !== 0) o.maxPayload = d.maxPayload;
  if (d.maxPending !== 0) o.maxPending = d.maxPending;
  if (d.writeDeadlineMs !== 0) o.writeDeadlineMs = d.writeDeadlineMs;
  if (d.lameDuckMs !== 0) o.lameDuckDurationMs = d.lameDuckMs;
  if (d.lameDuckGraceMs !== 0) o.lameDuckGracePeriodMs = d.lameDuckGraceMs;
}
