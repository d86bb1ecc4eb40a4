/**
 * What a config reload changes, decided as nats-server 2.9.10's `diffOptions` does: the options
 * are compared field by field in the order of Go's `Options` struct; each changed field either
 * has a reload action (and its `Reloaded: ...` log line) or refuses the whole reload with
 * `config reload not supported for <Field>: old=<v>, new=<v>` (the first such field wins).
 * `Users` and `Accounts` always count as changed (the reference cannot compare them), so
 * every reload re-checks the connected clients' credentials and permissions.
 *
 * @module
 */
import { formatGoDuration, goFloat } from "../core/gofmt.ts";
import { allKeyRows } from "../config/keys.ts";
import type { ServerOptions, TlsOptions } from "../config/options.ts";

/** What applying a change involves beyond swapping the options in. */
export type ReloadEffect =
  | "logging"
  | "auth"
  | "tls"
  | "maxConnections"
  | "pidFile"
  | "portsFile"
  | "clientLimits"
  | "wsTls";

/** One changed, reloadable field. */
export interface ReloadChange {
  /** Go's field name (`MaxPayload`). */
  field: string;
  /** The reference's log line (`Reloaded: max_payload = 2000`); empty when it logs none. */
  line: string;
  effect?: ReloadEffect;
}

/** The outcome of a diff: the changes in order, or the reference's refusal text. */
export type ReloadDiff = { ok: true; changes: ReloadChange[] } | { ok: false; error: string };

/** Reads a file for the TLS comparison (certificates are compared by content). */
export type FileReader = (path: string) => string | undefined;

/** What the server has loaded (certificates are files: the path alone says nothing). */
export interface LoadedMaterial {
  /** {@link tlsIdentity} of the client-port TLS material in use. */
  tls: string;
  /** {@link tlsIdentity} of the WebSocket listener's TLS material in use. */
  wsTls: string;
  /** Whether the WebSocket engine can swap certificates (the codec engine can). */
  wsTlsSwappable?: boolean;
}

interface Field {
  /** Go's field name. */
  name: string;
  /** The value to compare; `loaded` is set for the options in force, unset for new ones. */
  value(o: ServerOptions, read: FileReader, loaded?: LoadedMaterial): unknown;
  /** How the old and new values print in a refusal (`%v`); default String(). */
  show?(v: unknown): string;
  /** The log line when reloadable; absent = not reloadable. */
  line?(v: unknown, next: ServerOptions): string;
  effect?: ReloadEffect;
  /** Compared as always changed (Users, Accounts). */
  always?: boolean;
  /** A special rule deciding the change (replaces the default comparison). */
  decide?(old: ServerOptions, next: ServerOptions): "same" | "reload" | "refuse";
}

const duration = (ms: unknown) => formatGoDuration(BigInt(Math.round(Number(ms) * 1e6)));
const seconds = (ms: unknown) => goFloat(Number(ms) / 1000);
const reloaded = (key: string, show: (v: unknown) => string = String) => (v: unknown) =>
  `Reloaded: ${key} = ${show(v)}`;
const fixed = (text: string) => () => text;

/** Go's `Options` fields this server has, in struct order. */
const FIELDS: Field[] = [
  { name: "ServerName", value: (o) => o.serverName ?? "" },
  { name: "Host", value: (o) => o.host },
  {
    name: "Port",
    value: (o) => o.port,
    // -1/0 (random or default) on reload means the port already bound.
    decide: (old, next) =>
      next.port === -1 || next.port === 0 || next.port === old.port ? "same" : "refuse",
  },
  {
    name: "ClientAdvertise",
    value: (o) => o.clientAdvertise ?? "",
    line: (v) => `Reload: client_advertise = ${v}`,
  },
  { name: "Trace", value: (o) => o.trace, line: reloaded("trace"), effect: "logging" },
  { name: "Debug", value: (o) => o.debug, line: reloaded("debug"), effect: "logging" },
  {
    name: "TraceVerbose",
    value: (o) => o.traceVerbose ?? false,
    line: reloaded("trace_verbose"),
    effect: "logging",
  },
  { name: "NoHeaderSupport", value: (o) => o.noHeaderSupport },
  { name: "Logtime", value: (o) => o.logtime, line: reloaded("logtime"), effect: "logging" },
  {
    name: "MaxConn",
    value: (o) => o.maxConnections,
    line: reloaded("max_connections"),
    effect: "maxConnections",
  },
  { name: "MaxSubs", value: (o) => o.maxSubscriptions },
  {
    name: "Nkeys",
    value: (o) => JSON.stringify(o.auth.users.filter((u) => u.nkey)),
    line: fixed("Reloaded: authorization nkey users"),
    effect: "auth",
  },
  {
    name: "Users",
    value: () => null,
    always: true,
    line: fixed("Reloaded: authorization users"),
    effect: "auth",
  },
  {
    name: "Accounts",
    value: () => null,
    always: true,
    line: fixed("Reloaded: accounts"),
    effect: "auth",
  },
  {
    name: "NoAuthUser",
    value: (o) => o.auth.noAuthUser ?? "",
    // Only dropping no_auth_user together with that user reloads (silently).
    decide: (old, next) => {
      const was = old.auth.noAuthUser ?? "";
      const now = next.auth.noAuthUser ?? "";
      if (was === now) return "same";
      if (was !== "" && now === "" && !next.auth.users.some((u) => u.user === was)) return "same";
      return "refuse";
    },
  },
  {
    name: "Username",
    value: (o) => o.auth.user ?? "",
    line: fixed("Reloaded: authorization username"),
    effect: "auth",
  },
  {
    name: "Password",
    value: (o) => o.auth.password ?? "",
    line: fixed("Reloaded: authorization password"),
    effect: "auth",
  },
  {
    name: "Authorization",
    value: (o) => o.auth.token ?? "",
    line: fixed("Reloaded: authorization token"),
    effect: "auth",
  },
  {
    name: "PingInterval",
    value: (o) => o.pingIntervalMs,
    show: duration,
    line: reloaded("ping_interval", duration),
  },
  { name: "MaxPingsOut", value: (o) => o.pingMax, line: reloaded("ping_max") },
  { name: "HTTPHost", value: (o) => (o.monitor.port === 0 ? "" : o.monitor.host) },
  { name: "HTTPPort", value: (o) => o.monitor.port },
  { name: "HTTPBasePath", value: (o) => o.monitor.basePath },
  { name: "HTTPSPort", value: (o) => o.monitor.httpsPort ?? 0 },
  {
    name: "AuthTimeout",
    value: (o) => o.authTimeoutMs,
    show: seconds,
    line: reloaded("authorization timeout", seconds),
    effect: "auth",
  },
  {
    name: "MaxControlLine",
    value: (o) => o.maxControlLine,
    line: reloaded("max_control_line"),
    effect: "clientLimits",
  },
  {
    name: "MaxPayload",
    value: (o) => o.maxPayload,
    line: reloaded("max_payload"),
    effect: "clientLimits",
  },
  { name: "MaxPending", value: (o) => o.maxPending },
  { name: "Cluster", value: (o) => o.clusterName ?? "", line: fixed("Reloaded: cluster") },
  { name: "LeafNode", value: (o) => JSON.stringify({ ...o.leafnodes, tls: undefined }) },
  {
    name: "Websocket",
    value: (o) => JSON.stringify({ ...o.websocket, tls: undefined }),
  },
  {
    // The reference reloads WebSocket certificates (silently). The codec engine swaps them for
    // new handshakes; Deno.serve (native engine) cannot, so there a change is refused.
    name: "Websocket",
    value: (o, read, loaded) => loaded?.wsTls ?? tlsIdentity(o.websocket.tls, read),
    show: (v) => (v === "" ? "{tls: none}" : `{tls: certificates ${fingerprint(String(v))}}`),
    effect: "wsTls",
  },
  {
    name: "PidFile",
    value: (o) => o.pidFile ?? "",
    line: reloaded("pid_file"),
    effect: "pidFile",
  },
  {
    name: "PortsFileDir",
    value: (o) => o.portsFileDir ?? "",
    line: reloaded("ports_file_dir"),
    effect: "portsFile",
  },
  { name: "LogFile", value: (o) => o.logFile ?? "", line: reloaded("log_file"), effect: "logging" },
  {
    name: "TLSTimeout",
    value: (o) => (o.tls ? o.tls.timeoutMs : 0),
    show: seconds,
    line: reloaded("tls timeout", seconds),
  },
  { name: "TLSMap", value: (o) => o.tls?.verifyAndMap ?? false },
  {
    name: "TLSConfig",
    value: (o, read, loaded) => loaded?.tls ?? tlsIdentity(o.tls, read),
    show: (v) => (v === "" ? "<nil>" : "&{...}"),
    line: (_v, next) => `Reloaded: tls = ${next.tls ? "enabled" : "disabled"}`,
    effect: "tls",
  },
  {
    name: "TLSPinnedCerts",
    value: (o) => JSON.stringify(o.tls?.pinnedCerts ?? null),
    line: (_v, next) => `Reloaded: ${next.tls?.pinnedCerts?.length ?? 0} pinned_certs`,
    effect: "tls",
  },
  { name: "AllowNonTLS", value: (o) => o.allowNonTls ?? false },
  {
    name: "WriteDeadline",
    value: (o) => o.writeDeadlineMs,
    show: duration,
    line: reloaded("write_deadline", duration),
  },
  { name: "LameDuckDuration", value: (o) => o.lameDuckDurationMs, show: duration },
  { name: "LameDuckGracePeriod", value: (o) => o.lameDuckGracePeriodMs, show: duration },
  { name: "Tags", value: (o) => JSON.stringify(o.tags ?? []), line: fixed("Reloaded: tags") },
];

/** A WebSocket certificate change the engine can apply: TLS on both sides, engine can swap. */
function swappableWsTls(old: ServerOptions, next: ServerOptions, loaded: LoadedMaterial): boolean {
  return Boolean(old.websocket.tls && next.websocket.tls && loaded.wsTlsSwappable);
}

/** A short FNV-1a digest telling two sets of TLS material apart in a refusal. */
function fingerprint(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

/**
 * What `tls {}` amounts to for the comparison: the certificate, key and CA contents and the
 * verification mode ("" without TLS). A rotated certificate at the same path is a change.
 */
export function tlsIdentity(tls: TlsOptions | undefined, read: FileReader): string {
  if (!tls) return "";
  const file = (p?: string) => (p === undefined ? null : read(p) ?? `<unreadable ${p}>`);
  return JSON.stringify([file(tls.certFile), file(tls.keyFile), file(tls.caFile), tls.verify]);
}

/**
 * The key table's verdict per reference field (lib/config/keys.ts): false when every key that
 * sets the field is non-reloadable, true when every one is, "partly" otherwise.
 */
export function tableReloadability(): Map<string, boolean | "partly"> {
  const out = new Map<string, boolean | "partly">();
  for (const row of allKeyRows()) {
    for (const field of row.reload.fields) {
      const was = out.get(field);
      const now = row.reload.reloadable;
      out.set(field, was === undefined || was === now ? now : "partly");
    }
  }
  return out;
}

const TABLE = tableReloadability();

/** The fields this diff knows, with whether it reloads them (for the consistency test). */
export function diffFields(): { name: string; reloads: boolean }[] {
  return FIELDS.map((f) => ({ name: f.name, reloads: f.line !== undefined || !!f.decide }));
}

/** Compares the options in force with the reloaded ones (see the module notes). */
export function diffOptions(
  old: ServerOptions,
  next: ServerOptions,
  read: FileReader,
  loaded: LoadedMaterial,
): ReloadDiff {
  const changes: ReloadChange[] = [];
  for (const f of FIELDS) {
    const was = f.value(old, read, loaded);
    const now = f.value(next, read);
    const changed = f.always || was !== now;
    // The key table has the last word: a field it marks non-reloadable is refused.
    const decision = f.decide
      ? f.decide(old, next)
      : !changed
      ? "same"
      : f.effect === "wsTls"
      ? (swappableWsTls(old, next, loaded) ? "reload" : "refuse")
      : f.line && TABLE.get(f.name) !== false
      ? "reload"
      : "refuse";
    if (decision === "same") continue;
    if (decision === "refuse") {
      const show = f.show ?? String;
      return {
        ok: false,
        error: `config reload not supported for ${f.name}: old=${show(was)}, new=${show(now)}`,
      };
    }
    changes.push({ field: f.name, line: f.line?.(now, next) ?? "", effect: f.effect });
  }
  return { ok: true, changes };
}
