/**
 * The option layer: a parsed config tree → `ServerOptions`, with the keys, aliases, types,
 * defaults and parse-time checks of nats-server 2.9.10 `server/opts.go`.
 *
 * Differences by design (see the report in tests/config/README.md):
 * - keys are processed in file order (the reference iterates a Go map, i.e. randomly);
 * - a wrong type does not abort the rest of its block: every error is collected;
 * - keys of the reference that this server does not implement are refused (`<key>: not supported
 *   yet`) when they affect security, delivery or persistence, or accepted with a warning when
 *   they are purely descriptive;
 * - unknown keys get a ` (did you mean "…"?)` hint.
 */
import type {
  AccountConfig,
  ExportConfig,
  ImportConfig,
  Permissions,
  ResponsePermission,
  SimpleAuth,
  SubjectPermission,
  UserConfig,
} from "../auth/types.ts";
import { type ConnectionKind, isConnectionKind } from "../core/kinds.ts";
import { ConfigError } from "./errors.ts";
import {
  formatGoDuration,
  goAtoi,
  goFloat,
  goQuote,
  goQuoteList,
  goTime,
  parseGoDuration,
  splitHostPort,
} from "../core/gofmt.ts";
import type { ConfigMap, ConfigNode } from "./parser.ts";
import { readFile } from "./parser.ts";
import { loadTlsMaterial } from "./tls_material.ts";
import { defaultOptions, type ServerOptions, type TlsOptions } from "./options.ts";
import { isValidSubject, subjectHasWildcard, subjectIsSubsetOf } from "../core/subject.ts";
import { isValidPublicKey, PREFIX } from "../core/nkey.ts";
import { suggest } from "./suggest.ts";
import type { OptionsMeta } from "./freeze.ts";

export interface BuildResult {
  options: ServerOptions;
  errors: ConfigError[];
  warnings: ConfigError[];
  meta: OptionsMeta;
}

type Pos = Pick<ConfigNode, "file" | "line" | "col">;

const GLOBAL_ACCOUNT = "$G";

// ---------------------------------------------------------------------------------------------
// Key tables (every key the reference knows in each block, for hints and for "known" checks).

/** Top-level keys of nats-server 2.9.10 processConfigFileLine. */
export const TOP_LEVEL_KEYS = [
  "listen",
  "client_advertise",
  "port",
  "server_name",
  "host",
  "net",
  "debug",
  "trace",
  "trace_verbose",
  "logtime",
  "mappings",
  "maps",
  "disable_sublist_cache",
  "no_sublist_cache",
  "accounts",
  "authorization",
  "http",
  "https",
  "http_port",
  "monitor_port",
  "https_port",
  "http_base_path",
  "cluster",
  "gateway",
  "leaf",
  "leafnodes",
  "store_dir",
  "storedir",
  "jetstream",
  "logfile",
  "log_file",
  "logfile_size_limit",
  "log_size_limit",
  "syslog",
  "remote_syslog",
  "pidfile",
  "pid_file",
  "ports_file_dir",
  "prof_port",
  "max_control_line",
  "max_payload",
  "max_pending",
  "max_connections",
  "max_conn",
  "max_traced_msg_len",
  "max_subscriptions",
  "max_subs",
  "max_sub_tokens",
  "max_subscription_tokens",
  "ping_interval",
  "ping_max",
  "tls",
  "ocsp",
  "allow_non_tls",
  "write_deadline",
  "lame_duck_duration",
  "lame_duck_grace_period",
  "operator",
  "operators",
  "roots",
  "root",
  "root_operators",
  "root_operator",
  "resolver",
  "account_resolver",
  "accounts_resolver",
  "resolver_tls",
  "resolver_preload",
  "resolver_pinned_accounts",
  "no_auth_user",
  "system_account",
  "system",
  "no_system_account",
  "no_system",
  "no_sys_acc",
  "no_header_support",
  "trusted",
  "trusted_keys",
  "connect_error_reports",
  "reconnect_error_reports",
  "websocket",
  "ws",
  "mqtt",
  "server_tags",
  "default_js_domain",
];

/**
 * Reference keys that change security, delivery or persistence and are not implemented here:
 * refused with `<key>: not supported yet`.
 */
export const REFUSED_TOP_LEVEL = new Set([
  "mappings",
  "maps",
  "https",
  "https_port",
  "cluster",
  "gateway",
  "store_dir",
  "storedir",
  "jetstream",
  "max_sub_tokens",
  "max_subscription_tokens",
  "ocsp",
  "allow_non_tls",
  "operator",
  "operators",
  "roots",
  "root",
  "root_operators",
  "root_operator",
  "resolver",
  "account_resolver",
  "accounts_resolver",
  "resolver_tls",
  "resolver_preload",
  "resolver_pinned_accounts",
  "system_account",
  "system",
  "trusted",
  "trusted_keys",
  "mqtt",
  "default_js_domain",
]);

/** Purely descriptive reference keys: type-checked, then accepted with a warning. */
export const IGNORED_TOP_LEVEL = new Set([
  "disable_sublist_cache",
  "no_sublist_cache",
  "logfile_size_limit",
  "log_size_limit",
  "syslog",
  "remote_syslog",
  "prof_port",
  "max_traced_msg_len",
  "connect_error_reports",
  "reconnect_error_reports",
  "server_tags",
]);

const AUTH_KEYS = [
  "user",
  "username",
  "pass",
  "password",
  "token",
  "timeout",
  "users",
  "default_permission",
  "default_permissions",
  "permissions",
];
const USER_KEYS = [
  "nkey",
  "user",
  "username",
  "pass",
  "password",
  "permission",
  "permissions",
  "authorization",
  "allowed_connection_types",
  "connection_types",
  "clients",
];
const PERM_KEYS = [
  "pub",
  "publish",
  "import",
  "sub",
  "subscribe",
  "export",
  "publish_allow_responses",
  "allow_responses",
];
const RESP_KEYS = [
  "max",
  "max_msgs",
  "max_messages",
  "max_responses",
  "expires",
  "expiration",
  "ttl",
];
const TLS_KEYS = [
  "cert_file",
  "key_file",
  "ca_file",
  "insecure",
  "verify",
  "verify_and_map",
  "verify_cert_and_check_known_urls",
  "cipher_suites",
  "curve_preferences",
  "timeout",
  "connection_rate_limit",
  "pinned_certs",
];
const WS_KEYS = [
  "listen",
  "port",
  "host",
  "net",
  "advertise",
  "no_tls",
  "tls",
  "same_origin",
  "allowed_origins",
  "allowed_origin",
  "allow_origins",
  "allow_origin",
  "origins",
  "origin",
  "handshake_timeout",
  "compress",
  "compression",
  "authorization",
  "authentication",
  "jwt_cookie",
  "no_auth_user",
  "trusted_proxies",
  "engine",
];
const SIMPLE_AUTH_KEYS = ["user", "username", "pass", "password", "token", "timeout"];
const LEAF_KEYS = [
  "listen",
  "port",
  "host",
  "net",
  "authorization",
  "remotes",
  "reconnect",
  "reconnect_delay",
  "reconnect_interval",
  "tls",
  "leafnode_advertise",
  "advertise",
  "no_advertise",
  "min_version",
  "minimum_version",
];
const LEAF_AUTH_KEYS = ["user", "username", "pass", "password", "timeout", "users", "account"];
const LEAF_USER_KEYS = ["user", "username", "pass", "password", "account"];
const ACCOUNT_KEYS = [
  "nkey",
  "imports",
  "exports",
  "jetstream",
  "users",
  "default_permissions",
  "mappings",
  "maps",
  "limits",
];
const EXPORT_KEYS = [
  "stream",
  "service",
  "response",
  "response_type",
  "threshold",
  "response_threshold",
  "response_max_time",
  "response_time",
  "accounts",
  "latency",
  "account_token_position",
];
const IMPORT_KEYS = ["stream", "service", "prefix", "to", "share"];

// ---------------------------------------------------------------------------------------------
// Go renderings of config values.

/** `%T` of a config value in the reference. */
export function goType(n: ConfigNode): string {
  switch (n.kind) {
    case "string":
      return "string";
    case "int":
      return "int64";
    case "float":
      return "float64";
    case "bool":
      return "bool";
    case "date":
      return "time.Time";
    case "array":
      return "[]interface {}";
    case "map":
      return "map[string]interface {}";
  }
}

/** `%v` of a config value (nested values are shown by value, the reference shows pointers). */
export function goValue(n: ConfigNode): string {
  switch (n.kind) {
    case "string":
      return n.value;
    case "int":
      return n.value.toString();
    case "float":
      return goFloat(n.value);
    case "bool":
      return String(n.value);
    case "date":
      return goTime(n.value);
    case "array":
      return "[" + n.value.map(goValue).join(" ") + "]";
    case "map":
      return "map[" +
        [...n.value.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
          .map(([k, v]) => `${k}:${goValue(v)}`).join(" ") +
        "]";
  }
}

/** Go's `%q` of a config value (strings and times quoted, integers as rune literals). */
export function goPercentQ(n: ConfigNode): string {
  switch (n.kind) {
    case "string":
      return goQuote(n.value);
    case "date":
      return goQuote(goTime(n.value));
    case "int": {
      const v = n.value;
      if (v < 0n || v > 0x10ffffn || (v >= 0xd800n && v <= 0xdfffn)) return `'\ufffd'`;
      const q = goQuote(String.fromCodePoint(Number(v)));
      const inner = q.slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'");
      return `'${inner}'`;
    }
    case "bool":
      return `%!q(bool=${n.value})`;
    case "float":
      return `%!q(float64=${goFloat(n.value)})`;
    default:
      return goValue(n);
  }
}

const nsToMs = (ns: bigint) => Number(ns) / 1e6;

// ---------------------------------------------------------------------------------------------

interface ExportDef {
  acc: string;
  subject: string;
  accounts?: string[];
  stream: boolean;
}
interface ImportDef {
  acc: string;
  from: string; // remote subject
  account: string; // remote account
  prefix?: string;
  to?: string;
  stream: boolean;
}

class Builder {
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigError[] = [];
  readonly o: ServerOptions = defaultOptions();
  readonly meta: OptionsMeta = { monitorHostExplicit: false };
  private authSet = false;
  private authTimeoutSec = 0;
  private wsAuth: (SimpleAuth & { noAuthUser?: string }) | undefined;
  private tlsTimeoutSec = 0;
  private leafTlsTimeoutSec = 0;

  // Raw values that default like setBaselineOptions does (0 = not set).
  private port = 0;
  private host = "";
  private maxConn = 0;
  private pingIntervalMs = 0;
  private pingMax = 0;
  private maxControlLine = 0;
  private maxPayload = 0;
  private maxPending = 0;
  private writeDeadlineMs = 0;
  private lameDuckMs = 0;
  private lameDuckGraceMs = 0;

  constructor(private readonly configFile?: string) {}

  err(p: Pos, msg: string, showPosition = true): void {
    this.errors.push(new ConfigError(p.file, p.line, p.col, msg, showPosition));
  }

  warn(p: Pos, msg: string): void {
    this.warnings.push(new ConfigError(p.file, p.line, p.col, msg));
  }

  conv(n: ConfigNode, want: string): undefined {
    this.err(n, `interface conversion: interface {} is ${goType(n)}, not ${want}`);
    return undefined;
  }

  str(n: ConfigNode): string | undefined {
    return n.kind === "string" ? n.value : this.conv(n, "string");
  }

  int(n: ConfigNode): bigint | undefined {
    return n.kind === "int" ? n.value : this.conv(n, "int64");
  }

  num(n: ConfigNode): number | undefined {
    return n.kind === "int" ? Number(n.value) : this.conv(n, "int64");
  }

  bool(n: ConfigNode): boolean | undefined {
    return n.kind === "bool" ? n.value : this.conv(n, "bool");
  }

  map(n: ConfigNode): ConfigMap | undefined {
    return n.kind === "map" ? n.value : this.conv(n, "map[string]interface {}");
  }

  /** `unknown field "k"` (skipped for keys that are variables used elsewhere). */
  unknown(
    n: ConfigNode,
    key: string,
    candidates: string[],
    fmt = (k: string) => `unknown field ${goQuote(k)}`,
  ): void {
    if (n.usedVariable) return;
    const hint = suggest(key, candidates);
    this.err(n, fmt(key) + (hint ? ` (did you mean ${goQuote(hint)}?)` : ""));
  }

  refuse(n: ConfigNode, path: string): void {
    this.err(n, `${path}: not supported yet`);
  }

  ignore(n: ConfigNode, path: string): void {
    this.warn(n, `${path}: not supported yet, ignored`);
  }

  /** Seconds-or-float auth timeout as the reference reads it (anything else counts as 1s). */
  authTimeout(n: ConfigNode, path: string): number {
    if (n.kind === "int") return Number(n.value);
    if (n.kind === "float") return n.value;
    this.warn(
      n,
      `${path}: expected a number of seconds, got ${goType(n)}; using 1 second like nats-server`,
    );
    return 1;
  }

  // ------------------------------------------------------------------------------------------

  build(tree: ConfigMap): void {
    for (const [k, n] of tree) this.topLevel(k, n);
    this.finish();
  }

  private topLevel(k: string, n: ConfigNode): void {
    const o = this.o;
    const lk = k.toLowerCase();
    switch (lk) {
      case "listen": {
        const hp = this.listen(n);
        if (hp) {
          this.host = hp.host;
          this.port = hp.port;
        }
        return;
      }
      case "client_advertise": {
        const s = this.str(n);
        if (s !== undefined) o.clientAdvertise = s;
        return;
      }
      case "port": {
        const v = this.num(n);
        if (v !== undefined) this.port = v;
        return;
      }
      case "server_name": {
        const s = this.str(n);
        if (s !== undefined) o.serverName = s;
        return;
      }
      case "host":
      case "net": {
        const s = this.str(n);
        if (s !== undefined) this.host = s;
        return;
      }
      case "debug":
      case "trace":
      case "logtime":
      case "no_header_support": {
        const b = this.bool(n);
        if (b === undefined) return;
        if (lk === "debug") o.debug = b;
        else if (lk === "trace") o.trace = b;
        else if (lk === "logtime") o.logtime = b;
        else o.noHeaderSupport = b;
        return;
      }
      case "trace_verbose": {
        const b = this.bool(n);
        if (b !== undefined) o.trace = o.traceVerbose = b;
        return;
      }
      case "accounts":
        return this.accounts(n);
      case "authorization":
        return this.authorization(n);
      case "no_auth_user": {
        const s = this.str(n);
        if (s !== undefined) o.auth.noAuthUser = s;
        return;
      }
      case "http": {
        const hp = this.listen(n);
        if (hp) {
          o.monitor.host = hp.host;
          this.meta.monitorHostExplicit = hp.host !== "";
          o.monitor.port = hp.port;
        }
        return;
      }
      case "http_port":
      case "monitor_port": {
        const v = this.num(n);
        if (v !== undefined) o.monitor.port = v;
        return;
      }
      case "http_base_path": {
        const s = this.str(n);
        if (s !== undefined) o.monitor.basePath = s;
        return;
      }
      case "leaf":
      case "leafnodes":
        return this.leafnodes(n, k);
      case "logfile":
      case "log_file": {
        const s = this.str(n);
        if (s !== undefined) o.logFile = s;
        return;
      }
      case "pidfile":
      case "pid_file": {
        const s = this.str(n);
        if (s !== undefined) o.pidFile = s;
        return;
      }
      case "ports_file_dir": {
        const s = this.str(n);
        if (s !== undefined) o.portsFileDir = s;
        return;
      }
      case "max_control_line":
      case "max_payload": {
        const v = this.int(n);
        if (v === undefined) return;
        if (v > 0x7fffffffn) {
          this.err(n, `${k} value is too big`);
          return;
        }
        const i32 = Number(BigInt.asIntN(32, v));
        if (lk === "max_payload") this.maxPayload = i32;
        else this.maxControlLine = i32;
        return;
      }
      case "max_pending": {
        const v = this.num(n);
        if (v !== undefined) this.maxPending = v;
        return;
      }
      case "max_connections":
      case "max_conn": {
        const v = this.num(n);
        if (v !== undefined) this.maxConn = v;
        return;
      }
      case "max_subscriptions":
      case "max_subs": {
        const v = this.num(n);
        if (v !== undefined) o.maxSubscriptions = v;
        return;
      }
      case "ping_interval":
      case "write_deadline": {
        const ms = this.duration(lk, n);
        if (ms === undefined) return;
        if (lk === "ping_interval") this.pingIntervalMs = ms;
        else this.writeDeadlineMs = ms;
        return;
      }
      case "ping_max": {
        const v = this.num(n);
        if (v !== undefined) this.pingMax = v;
        return;
      }
      case "tls": {
        const t = this.tls(n);
        if (t) {
          o.tls = t.tls;
          this.tlsTimeoutSec = t.timeoutSec;
        }
        return;
      }
      case "lame_duck_duration":
      case "lame_duck_grace_period": {
        const s = this.str(n);
        if (s === undefined) return;
        let ns: bigint;
        try {
          ns = parseGoDuration(s);
        } catch (e) {
          this.err(n, `error parsing ${lk}: ${(e as Error).message}`);
          return;
        }
        if (lk === "lame_duck_duration") {
          if (ns < 30_000_000_000n) {
            this.err(
              n,
              `invalid lame_duck_duration of ${formatGoDuration(ns)}, minimum is 30 seconds`,
            );
            return;
          }
          this.lameDuckMs = nsToMs(ns);
        } else {
          if (ns < 0n) {
            this.err(n, "invalid lame_duck_grace_period, needs to be positive");
            return;
          }
          this.lameDuckGraceMs = nsToMs(ns);
        }
        return;
      }
      case "websocket":
      case "ws":
        return this.websocket(n, k);
      case "no_system_account":
      case "no_system":
      case "no_sys_acc": {
        // There is no system account in this server, so `true` is what already happens.
        const b = this.bool(n);
        if (b === false) this.ignore(n, k);
        return;
      }
    }
    if (REFUSED_TOP_LEVEL.has(lk)) return this.refuse(n, k);
    if (IGNORED_TOP_LEVEL.has(lk)) return this.ignored(lk, k, n);
    this.unknown(n, k, TOP_LEVEL_KEYS);
  }

  /** Keys accepted with a warning: still type-checked like the reference. */
  private ignored(lk: string, k: string, n: ConfigNode): void {
    const before = this.errors.length;
    switch (lk) {
      case "disable_sublist_cache":
      case "no_sublist_cache":
      case "syslog":
        this.bool(n);
        break;
      case "remote_syslog":
        this.str(n);
        break;
      case "server_tags":
        if (n.kind === "array") {
          for (const t of n.value) {
            if (t.kind !== "string") {
              this.err(
                n,
                `error parsing tags: unsupported type *conf.token where string is expected`,
              );
              break;
            }
          }
        } else if (n.kind !== "string") {
          this.err(n, `error parsing tags: unsupported type ${goType(n)}`);
        }
        break;
      default:
        this.int(n);
    }
    if (this.errors.length === before) this.ignore(n, k);
  }

  /** parseDuration: a duration string, or an integer of seconds with a warning. */
  private duration(field: string, n: ConfigNode): number | undefined {
    if (n.kind === "string") {
      try {
        return nsToMs(parseGoDuration(n.value));
      } catch (e) {
        this.err(n, `error parsing ${field}: ${(e as Error).message}`);
        return undefined;
      }
    }
    this.warn(
      n,
      `invalid use of field ${goQuote(field)}: ${field} should be converted to a duration`,
    );
    const v = this.int(n);
    return v === undefined ? undefined : Number(v) * 1000;
  }

  /** parseListen: a port, or "host:port". */
  private listen(n: ConfigNode): { host: string; port: number } | undefined {
    if (n.kind === "int") return { host: "", port: Number(n.value) };
    if (n.kind === "string") {
      const hp = splitHostPort(n.value);
      if (!hp.ok) {
        this.err(n, `could not parse address string ${goQuote(n.value)}`);
        return undefined;
      }
      const { host, port } = hp;
      const p = goAtoi(port);
      if (p === undefined) {
        this.err(n, `could not parse port ${goQuote(port)}`);
        return undefined;
      }
      return { host, port: p };
    }
    this.err(n, `expected port or host:port, got ${goType(n)}`);
    return undefined;
  }

  // ------------------------------------------------------------------------------------------
  // authorization

  private authorization(n: ConfigNode): void {
    const m = this.map(n);
    if (!m) return;
    const auth = this.o.auth;
    let user: string | undefined;
    let pass: string | undefined;
    let token: string | undefined;
    let users: UserConfig[] | undefined;
    let defPerms: Permissions | undefined;
    for (const [k, v] of m) {
      switch (k.toLowerCase()) {
        case "user":
        case "username":
          user = this.str(v) ?? user;
          break;
        case "pass":
        case "password":
          pass = this.str(v) ?? pass;
          break;
        case "token":
          token = this.str(v) ?? token;
          break;
        case "timeout":
          this.authTimeoutSec = this.authTimeout(v, "authorization timeout");
          break;
        case "users":
          users = this.users(v, GLOBAL_ACCOUNT) ?? users;
          break;
        case "default_permission":
        case "default_permissions":
        case "permissions":
          defPerms = this.permissions(v) ?? defPerms;
          break;
        default:
          this.unknown(v, k, AUTH_KEYS);
      }
    }
    if (defPerms) applyDefaultPermissions(users ?? [], defPerms);
    auth.user = user;
    auth.password = pass;
    auth.token = token;
    auth.defaultPermissions = defPerms;
    this.authSet = true;
    if ((user || pass) && token) {
      this.err(n, "Cannot have a user/pass and token");
      return;
    }
    const names = this.userNames();
    if (users !== undefined || names.size > 0) {
      if (user) {
        this.err(n, "Can not have a single user/pass and a users array");
        return;
      }
      if (token) {
        this.err(n, "Can not have a token and a users array");
        return;
      }
    }
    for (const u of users ?? []) {
      const id = u.nkey ?? u.user!;
      if (names.has(id)) {
        this.err(n, `Duplicate ${u.nkey ? "nkey" : "user"} ${goQuote(id)} detected`);
        continue;
      }
      names.add(id);
      auth.users.push(u);
    }
  }

  private userNames(): Set<string> {
    return new Set(this.o.auth.users.map((u) => u.nkey ?? u.user!));
  }

  /** parseUsers: the `users: [...]` array of the authorization block or of an account. */
  private users(n: ConfigNode, account: string): UserConfig[] | undefined {
    if (n.kind !== "array") {
      // In an account the reference passes the raw value, so this error has no position.
      this.err(
        n,
        `Expected users field to be an array, got ${goValue(n)}`,
        account === GLOBAL_ACCOUNT,
      );
      return undefined;
    }
    const out: UserConfig[] = [];
    for (const e of n.value) {
      if (e.kind !== "map") {
        this.err(e, `Expected user entry to be a map/struct, got ${goValue(e)}`);
        continue;
      }
      // The reference reports entry errors at the last key it iterated (Go map order); we use
      // the key the error is about when there is one (one of the reference's possible outputs).
      let last: ConfigNode = e;
      let nkeyTk: ConfigNode | undefined;
      let userTk: ConfigNode | undefined;
      let nkey = "";
      let user = "";
      let password: string | undefined;
      let perms: Permissions | undefined;
      let cts: ConnectionKind[] | undefined;
      for (const [k, v] of e.value) {
        last = v;
        switch (k.toLowerCase()) {
          case "nkey":
            nkey = this.str(v) ?? nkey;
            nkeyTk = v;
            break;
          case "user":
          case "username":
            user = this.str(v) ?? user;
            userTk = v;
            break;
          case "pass":
          case "password":
            password = this.str(v) ?? password;
            userTk ??= v;
            break;
          case "permission":
          case "permissions":
          case "authorization":
            perms = this.permissions(v) ?? perms;
            break;
          case "allowed_connection_types":
          case "connection_types":
          case "clients":
            cts = this.connectionTypes(v);
            break;
          default:
            this.unknown(v, k, USER_KEYS);
        }
      }
      if (nkey === "" && user === "") {
        this.err(last, "User entry requires a user");
        continue;
      }
      const u: UserConfig = { account };
      if (nkey !== "") {
        if (!isValidPublicKey(nkey, PREFIX.user)) {
          this.err(nkeyTk ?? last, "Not a valid public nkey for a user");
          continue;
        }
        if (user !== "" || (password !== undefined && password !== "")) {
          this.err(userTk ?? last, "Nkey users do not take usernames or passwords");
          continue;
        }
        u.nkey = nkey;
      } else {
        u.user = user;
        if (password !== undefined) u.password = password;
      }
      if (perms) u.permissions = perms;
      if (cts) u.allowedConnectionTypes = cts;
      out.push(u);
    }
    return out;
  }

  private connectionTypes(n: ConfigNode): ConnectionKind[] | undefined {
    const list = this.stringArray("allowed connection types", n);
    if (!list) return undefined;
    const out: ConnectionKind[] = [];
    const bad: string[] = [];
    for (const s of list) {
      const u = s.toUpperCase();
      if (isConnectionKind(u)) {
        if (!out.includes(u)) out.push(u);
      } else bad.push(u);
    }
    if (bad.length) this.err(n, `invalid connection types ${goQuoteList(bad)}`);
    return out;
  }

  /** parseStringArray: a string or an array of strings. */
  private stringArray(field: string, n: ConfigNode): string[] | undefined {
    if (n.kind === "string") return [n.value];
    if (n.kind === "array") {
      const out: string[] = [];
      for (const e of n.value) {
        if (e.kind === "string") out.push(e.value);
        else this.err(e, `error parsing ${field}: unsupported type in array ${goType(e)}`);
      }
      return out;
    }
    this.err(n, `error parsing ${field}: unsupported type ${goType(n)}`);
    return undefined;
  }

  // ------------------------------------------------------------------------------------------
  // permissions

  private permissions(n: ConfigNode): Permissions | undefined {
    if (n.kind !== "map") {
      this.err(n, `Expected permissions to be a map/struct, got ${goValue(n)}`);
      return undefined;
    }
    const p: Permissions = {};
    for (const [k, v] of n.value) {
      switch (k.toLowerCase()) {
        case "pub":
        case "publish":
        case "import": {
          const sp = this.subjectPermission(v);
          if (sp !== null) p.publish = sp;
          break;
        }
        case "sub":
        case "subscribe":
        case "export": {
          const sp = this.subjectPermission(v);
          if (sp !== null) p.subscribe = sp;
          break;
        }
        case "publish_allow_responses":
        case "allow_responses": {
          if (v.kind === "bool") {
            if (v.value) p.response = { max: 1, expiresMs: 120_000 };
          } else {
            const rp = this.allowResponses(v);
            if (rp) p.response = rp;
          }
          break;
        }
        default:
          this.unknown(
            v,
            k,
            PERM_KEYS,
            (key) => `Unknown field ${goQuote(key)} parsing permissions`,
          );
      }
    }
    // allow_responses turns the blanket publish allow off (only replies may be published).
    if (p.response && !p.publish?.allow) p.publish = { ...p.publish, allow: [] };
    return p;
  }

  /** Returns null on error, undefined for an empty `{}`. */
  private subjectPermission(n: ConfigNode): SubjectPermission | undefined | null {
    if (n.kind !== "map") {
      // Old style (a subject or a list = allow). The reference reports these errors without
      // a position.
      const allow = this.permSubjects(n, false);
      return allow ? { allow } : null;
    }
    if (n.value.size === 0) return undefined;
    const sp: SubjectPermission = {};
    let failed = false;
    for (const [k, v] of n.value) {
      switch (k.toLowerCase()) {
        case "allow": {
          const s = this.permSubjects(v);
          if (s) sp.allow = s;
          else failed = true;
          break;
        }
        case "deny": {
          const s = this.permSubjects(v);
          if (s) sp.deny = s;
          else failed = true;
          break;
        }
        default:
          this.unknown(
            v,
            k,
            ["allow", "deny"],
            (key) =>
              `Unknown field name ${
                goQuote(key)
              } parsing subject permissions, only 'allow' or 'deny' are permitted`,
          );
      }
    }
    return failed ? null : sp;
  }

  private permSubjects(n: ConfigNode, showPosition = true): string[] | undefined {
    let subjects: string[];
    if (n.kind === "string") subjects = [n.value];
    else if (n.kind === "array") {
      subjects = [];
      for (const e of n.value) {
        if (e.kind !== "string") {
          this.err(e, "Subject in permissions array cannot be cast to string");
          return undefined;
        }
        subjects.push(e.value);
      }
    } else {
      this.err(
        n,
        `Expected subject permissions to be a subject, or array of subjects, got ${goType(n)}`,
        showPosition,
      );
      return undefined;
    }
    for (const s of subjects) {
      if (isValidSubject(s)) continue;
      const fields = s.split(/[\t\n\v\f\r \u0085\u00a0]+/).filter((x) => x !== "");
      if (fields.length !== 2) {
        this.err(n, `subject ${goQuote(s)} is not a valid subject`, showPosition);
        return undefined;
      }
      if (!isValidSubject(fields[0])) {
        this.err(n, `subject ${goQuote(fields[0])} is not a valid subject`, showPosition);
        return undefined;
      }
    }
    return subjects;
  }

  private allowResponses(n: ConfigNode): ResponsePermission | undefined {
    if (n.kind !== "map") {
      this.err(n, "error parsing response permissions, expected a boolean or a map");
      return undefined;
    }
    const rp: ResponsePermission = { max: 1, expiresMs: 120_000 };
    for (const [k, v] of n.value) {
      switch (k.toLowerCase()) {
        case "max":
        case "max_msgs":
        case "max_messages":
        case "max_responses": {
          const m = this.num(v);
          if (m !== undefined && m !== 0) rp.max = m;
          break;
        }
        case "expires":
        case "expiration":
        case "ttl": {
          if (v.kind !== "string") {
            this.err(v, "error parsing expires, not a duration string");
            return undefined;
          }
          try {
            const ns = parseGoDuration(v.value);
            if (ns !== 0n) rp.expiresMs = nsToMs(ns);
          } catch (e) {
            this.err(v, `error parsing expires: ${(e as Error).message}`);
            return undefined;
          }
          break;
        }
        default:
          this.unknown(
            v,
            k,
            RESP_KEYS,
            (key) => `Unknown field ${goQuote(key)} parsing permissions`,
          );
      }
    }
    return rp;
  }

  // ------------------------------------------------------------------------------------------
  // accounts

  private accounts(n: ConfigNode): void {
    const o = this.o;
    const before = this.errors.length;
    if (n.kind === "array") {
      const seen = new Set<string>();
      for (const e of n.value) {
        const name = this.str(e);
        if (name === undefined) continue;
        if (name === GLOBAL_ACCOUNT) {
          this.err(e, `${goQuote(name)} is a Reserved Account`);
          continue;
        }
        if (seen.has(name)) {
          this.err(e, `Duplicate Account Entry: ${name}`);
          continue;
        }
        seen.add(name);
        o.auth.accounts.push({ name, exports: [], imports: [] });
      }
      return;
    }
    if (n.kind !== "map") {
      // The reference silently ignores any other type.
      this.warn(
        n,
        `accounts: expected a map or an array of account names, got ${goType(n)}; ignored`,
      );
      return;
    }
    const names = this.userNames();
    const exports: ExportDef[] = [];
    const imports: ImportDef[] = [];
    for (const [aname, an] of n.value) {
      if (an.usedVariable) continue;
      if (an.kind !== "map") {
        this.err(an, "Expected map entries for accounts");
        continue;
      }
      if (aname === GLOBAL_ACCOUNT) {
        this.err(an, `${goQuote(aname)} is a Reserved Account`);
        continue;
      }
      const acc: AccountConfig = { name: aname, exports: [], imports: [] };
      o.auth.accounts.push(acc);
      let users: UserConfig[] = [];
      let usersTk: ConfigNode | undefined;
      for (const [k, v] of an.value) {
        const lk = k.toLowerCase();
        switch (lk) {
          case "nkey":
            if (v.kind !== "string" || !isValidPublicKey(v.value, PREFIX.account)) {
              this.err(v, `Not a valid public nkey for an account: ${goPercentQ(v)}`);
            } else acc.nkey = v.value;
            break;
          case "imports":
            this.accountImports(v, acc, imports, `accounts ${aname} ${k}`);
            break;
          case "exports":
            this.accountExports(v, acc, exports, `accounts ${aname} ${k}`);
            break;
          case "users":
            usersTk = v;
            users = this.users(v, aname) ?? [];
            break;
          case "default_permissions": {
            const p = this.permissions(v);
            if (p) acc.defaultPermissions = p;
            break;
          }
          case "jetstream":
          case "mappings":
          case "maps":
          case "limits":
            this.refuse(v, `accounts ${aname} ${k}`);
            break;
          default:
            this.unknown(v, k, ACCOUNT_KEYS);
        }
      }
      if (users.length > 0 && usersTk) {
        if (o.auth.user) {
          this.err(usersTk, "Can not have a single user/pass and accounts");
          continue;
        }
        if (o.auth.token) {
          this.err(usersTk, "Can not have a token and accounts");
          continue;
        }
      }
      if (acc.defaultPermissions) applyDefaultPermissions(users, acc.defaultPermissions);
      for (const u of users) {
        const id = u.nkey ?? u.user!;
        if (names.has(id)) {
          this.err(usersTk!, `Duplicate ${u.nkey ? "nkey" : "user"} ${goQuote(id)} detected`);
          continue;
        }
        names.add(id);
        o.auth.users.push(u);
      }
    }
    if (this.errors.length > before) return;
    this.checkExportsImports(n, exports, imports);
  }

  private accountExports(n: ConfigNode, acc: AccountConfig, out: ExportDef[], path: string): void {
    if (n.kind !== "array") {
      this.err(n, `Exports should be an array, got ${goType(n)}`);
      return;
    }
    for (const e of n.value) {
      if (e.kind !== "map") {
        this.err(e, `Export Items should be a map with type entry, got ${goType(e)}`);
        continue;
      }
      let stream: string | undefined;
      let service: string | undefined;
      let accounts: string[] | undefined;
      let rt: ExportConfig["responseType"];
      let rtTk: ConfigNode | undefined;
      let failed = false;
      for (const [k, v] of e.value) {
        const lk = k.toLowerCase();
        switch (lk) {
          case "stream":
            if (service !== undefined) {
              this.err(v, `Detected stream ${goQuote(goValue(v))} but already saw a service`);
              failed = true;
            } else if (rtTk) {
              this.err(rtTk, "Detected response directive on non-service");
              failed = true;
            } else if (v.kind !== "string") {
              this.err(v, `Expected stream name to be string, got ${goType(v)}`);
              failed = true;
            } else stream = v.value;
            break;
          case "service":
            if (stream !== undefined) {
              this.err(v, `Detected service ${goQuote(goValue(v))} but already saw a stream`);
              failed = true;
            } else if (v.kind !== "string") {
              this.err(v, `Expected service name to be string, got ${goType(v)}`);
              failed = true;
            } else service = v.value;
            break;
          case "response":
          case "response_type": {
            if (rtTk) {
              this.err(v, "Duplicate response type definition");
              failed = true;
              break;
            }
            rtTk = v;
            if (v.kind !== "string") {
              this.err(v, `Expected response type to be string, got ${goType(v)}`);
              failed = true;
              break;
            }
            switch (v.value.toLowerCase()) {
              case "single":
              case "singleton":
                rt = "singleton";
                break;
              case "stream":
                rt = "stream";
                break;
              case "chunk":
              case "chunked":
                rt = "chunked";
                break;
              default:
                this.err(v, `Unknown response type: ${goQuote(v.value)}`);
                failed = true;
            }
            if (stream !== undefined) {
              this.err(v, "Detected response directive on non-service");
              failed = true;
            }
            break;
          }
          case "accounts":
            if (v.kind !== "array") {
              this.conv(v, "[]interface {}");
              failed = true;
              break;
            }
            accounts = [];
            for (const a of v.value) {
              const s = this.str(a);
              if (s === undefined) failed = true;
              else accounts.push(s);
            }
            // An empty list means public, like the reference.
            if (accounts.length === 0) accounts = undefined;
            break;
          case "threshold":
          case "response_threshold":
          case "response_max_time":
          case "response_time":
          case "latency":
          case "account_token_position":
            this.refuse(v, `${path} ${k}`);
            failed = true;
            break;
          default:
            this.unknown(v, k, EXPORT_KEYS);
        }
      }
      if (failed) continue;
      if (stream !== undefined) {
        const x: ExportConfig = { stream };
        if (accounts) x.accounts = accounts;
        acc.exports.push(x);
        out.push({ acc: acc.name, subject: stream, accounts, stream: true });
      } else if (service !== undefined) {
        const x: ExportConfig = { service };
        if (accounts) x.accounts = accounts;
        if (rt) x.responseType = rt;
        acc.exports.push(x);
        out.push({ acc: acc.name, subject: service, accounts, stream: false });
      }
    }
  }

  private accountImports(n: ConfigNode, acc: AccountConfig, out: ImportDef[], path: string): void {
    if (n.kind !== "array") {
      this.err(n, `Imports should be an array, got ${goType(n)}`);
      return;
    }
    const svcTo = new Map<string, ImportDef>();
    for (const e of n.value) {
      if (e.kind !== "map") {
        this.err(e, `Import Items should be a map with type entry, got ${goType(e)}`);
        continue;
      }
      let stream: { account: string; subject: string } | undefined;
      let service: { account: string; subject: string } | undefined;
      let prefix: string | undefined;
      let to: string | undefined;
      let failed = false;
      for (const [k, v] of e.value) {
        const lk = k.toLowerCase();
        switch (lk) {
          case "stream":
          case "service": {
            const isStream = lk === "stream";
            if (isStream ? service : stream) {
              this.err(
                v,
                isStream
                  ? "Detected stream but already saw a service"
                  : "Detected service but already saw a stream",
              );
              failed = true;
              break;
            }
            if (v.kind !== "map") {
              this.err(
                v,
                `${isStream ? "Stream" : "Service"} entry should be an account map, got ${
                  goType(v)
                }`,
              );
              failed = true;
              break;
            }
            let account = "";
            let subject = "";
            for (const [ak, av] of v.value) {
              switch (ak.toLowerCase()) {
                case "account":
                  account = this.str(av) ?? account;
                  break;
                case "subject":
                  subject = this.str(av) ?? subject;
                  break;
                default:
                  this.unknown(av, ak, ["account", "subject"]);
              }
            }
            if (account === "" || subject === "") {
              this.err(v, "Expect an account name and a subject");
              failed = true;
              break;
            }
            if (isStream) stream = { account, subject };
            else service = { account, subject };
            break;
          }
          case "prefix":
            prefix = this.str(v) ?? prefix;
            break;
          case "to":
            to = this.str(v) ?? to;
            if (stream && prefix) {
              this.err(v, "Stream import can not have a 'prefix' and a 'to' property");
              failed = true;
            }
            break;
          case "share":
            this.refuse(v, `${path} ${k}`);
            failed = true;
            break;
          default:
            this.unknown(v, k, IMPORT_KEYS);
        }
      }
      if (failed) continue;
      if (stream) {
        const x: ImportConfig = { stream };
        if (prefix) x.prefix = prefix;
        else if (to) x.to = to;
        acc.imports.push(x);
        out.push({
          acc: acc.name,
          account: stream.account,
          from: stream.subject,
          prefix: prefix || undefined,
          to: prefix ? undefined : to || undefined,
          stream: true,
        });
      } else if (service) {
        const local = to || service.subject;
        const dup = svcTo.get(local);
        if (dup) {
          this.err(
            e,
            `Duplicate service import subject ${
              goQuote(local)
            }, previously used in import for account ${goQuote(dup.account)}, subject ${
              goQuote(dup.from)
            }`,
          );
          continue;
        }
        const x: ImportConfig = { service, to: local };
        acc.imports.push(x);
        const def: ImportDef = {
          acc: acc.name,
          account: service.account,
          from: service.subject,
          to: local,
          stream: false,
        };
        svcTo.set(local, def);
        out.push(def);
      }
    }
  }

  /** The cross-account checks the reference runs once every account is known. */
  private checkExportsImports(tk: ConfigNode, exports: ExportDef[], imports: ImportDef[]): void {
    const known = new Set(this.o.auth.accounts.map((a) => a.name));
    const approved = new Map<string, { stream: boolean; subject: string; accounts?: string[] }[]>();
    for (const x of exports) {
      let accounts: string[] | undefined;
      for (const an of x.accounts ?? []) {
        if (!known.has(an)) {
          this.err(
            tk,
            `${goQuote(an)} account not defined for ${x.stream ? "stream" : "service"} export`,
          );
          continue;
        }
        (accounts ??= []).push(an);
      }
      const list = approved.get(x.acc) ?? [];
      const same = list.findIndex((e) => e.stream === x.stream && e.subject === x.subject);
      const entry = { stream: x.stream, subject: x.subject, accounts };
      if (same >= 0) list[same] = entry;
      else list.push(entry);
      approved.set(x.acc, list);
    }
    const authorized = (exporter: string, importer: string, subject: string, stream: boolean) => {
      const list = (approved.get(exporter) ?? []).filter((e) => e.stream === stream);
      if (list.length === 0 || !isValidSubject(subject)) return false;
      const e = list.find((e) => e.subject === subject) ??
        list.find((e) => subjectIsSubsetOf(subject, e.subject));
      if (!e) return false;
      return e.accounts === undefined || e.accounts.includes(importer);
    };
    const streamSeen = new Set<string>();
    for (const im of imports) {
      const kind = im.stream ? "stream" : "service";
      if (!known.has(im.account)) {
        this.err(tk, `${goQuote(im.account)} account not defined for ${kind} import`);
        continue;
      }
      let why: string | undefined;
      if (im.stream) {
        if (!authorized(im.account, im.acc, im.from, true)) why = "stream import not authorized";
        else if (im.prefix !== undefined && subjectHasWildcard(im.prefix)) {
          why = "stream import prefix can not contain wildcard tokens";
        } else {
          const key = `${im.acc}\u0000${im.account}\u0000${im.from}`;
          if (streamSeen.has(key)) why = "stream import already exists";
          streamSeen.add(key);
        }
      } else {
        const local = im.to ?? im.from;
        if (!isValidSubject(local) || !isValidSubject(im.from)) why = "sublist: invalid subject";
        else if (!authorized(im.account, im.acc, im.from, false)) {
          why = "service import not authorized";
        }
      }
      if (why) this.err(tk, `Error adding ${kind} import ${goQuote(im.from)}: ${why}`);
    }
  }

  // ------------------------------------------------------------------------------------------
  // tls

  /** parseTLS + the file checks of GenTLSConfig. */
  private tls(n: ConfigNode, path = "tls"): { tls: TlsOptions; timeoutSec: number } | undefined {
    const m = this.map(n);
    if (!m) return undefined;
    const before = this.errors.length;
    const t: TlsOptions = { verify: false, verifyAndMap: false, timeoutMs: 0, insecure: false };
    let timeoutSec = 0;
    const fail = (v: ConfigNode, msg: string) => this.err(v, `error parsing tls config, ${msg}`);
    for (const [k, v] of m) {
      const lk = k.toLowerCase();
      switch (lk) {
        case "cert_file":
        case "key_file":
        case "ca_file":
          if (v.kind !== "string") fail(v, `expected '${lk}' to be filename`);
          else if (lk === "cert_file") t.certFile = v.value;
          else if (lk === "key_file") t.keyFile = v.value;
          else t.caFile = v.value;
          break;
        case "insecure":
        case "verify":
        case "verify_and_map":
        case "verify_cert_and_check_known_urls":
          if (v.kind !== "bool") {
            fail(v, `expected '${lk}' to be a boolean`);
          } else if (lk === "insecure") t.insecure = v.value;
          else if (lk === "verify") t.verify = v.value;
          else if (lk === "verify_and_map") {
            if (v.value) t.verify = true;
            t.verifyAndMap = v.value;
          } else if (v.value) {
            this.err(v, "verify_cert_and_check_known_urls not supported in this context");
          }
          break;
        case "timeout":
          if (v.kind === "int") timeoutSec = Number(v.value);
          else if (v.kind === "float") timeoutSec = v.value;
          else if (v.kind === "string") {
            try {
              timeoutSec = Number(parseGoDuration(v.value)) / 1e9;
            } catch (e) {
              fail(v, `'timeout' ${(e as Error).message}`);
            }
          } else fail(v, "'timeout' wrong type");
          break;
        case "connection_rate_limit":
          if (v.kind !== "int") fail(v, "'connection_rate_limit' wrong type");
          else this.refuse(v, `${path} ${k}`);
          break;
        case "cipher_suites":
        case "curve_preferences":
          this.refuse(v, `${path} ${k}`);
          break;
        case "pinned_certs": {
          if (v.kind !== "array") {
            fail(
              v,
              "expected 'pinned_certs' to be a list of hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
            );
            break;
          }
          const pins: string[] = [];
          for (const e of v.value) {
            const s = this.str(e);
            if (s === undefined) continue;
            const entry = s.toLowerCase();
            if (!/^[a-f0-9]{64}$/.test(entry)) {
              fail(
                e,
                `'pinned_certs' key ${entry} does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo`,
              );
              continue;
            }
            if (!pins.includes(entry)) pins.push(entry);
          }
          if (pins.length) t.pinnedCerts = pins;
          break;
        }
        default:
          this.unknown(
            v,
            k,
            TLS_KEYS,
            (key) => `error parsing tls config, unknown field [${goQuote(key)}]`,
          );
      }
    }
    if (this.errors.length > before) return undefined;
    const genErr = checkTlsFiles(t);
    if (genErr) {
      this.err(n, genErr);
      return undefined;
    }
    if (t.certFile) t.certFile = absolute(t.certFile);
    if (t.keyFile) t.keyFile = absolute(t.keyFile);
    if (t.caFile) t.caFile = absolute(t.caFile);
    t.timeoutMs = timeoutSec > 0 ? timeoutSec * 1000 : 2000;
    return { tls: t, timeoutSec };
  }

  /** `listen`, `port` and `host`/`net` of a listener block; false when `lk` is none of them. */
  private endpoint(lk: string, v: ConfigNode, target: { host: string; port: number }): boolean {
    switch (lk) {
      case "listen": {
        const hp = this.listen(v);
        if (hp) {
          target.host = hp.host;
          target.port = hp.port;
        }
        return true;
      }
      case "port":
        target.port = this.num(v) ?? target.port;
        return true;
      case "host":
      case "net":
        target.host = this.str(v) ?? target.host;
        return true;
    }
    return false;
  }

  // ------------------------------------------------------------------------------------------
  // websocket

  private websocket(n: ConfigNode, key: string): void {
    if (n.kind !== "map") {
      this.err(n, `Expected websocket to be a map, got ${goType(n)}`);
      return;
    }
    const ws = this.o.websocket;
    for (const [k, v] of n.value) {
      const lk = k.toLowerCase();
      if (this.endpoint(lk, v, ws)) continue;
      switch (lk) {
        case "advertise": {
          const s = this.str(v);
          if (s !== undefined) ws.advertise = s;
          break;
        }
        case "no_tls":
          ws.noTls = this.bool(v) ?? ws.noTls;
          break;
        case "tls": {
          const t = this.tls(v, `${key} tls`);
          if (t) ws.tls = t.tls;
          break;
        }
        case "same_origin":
          ws.sameOrigin = this.bool(v) ?? ws.sameOrigin;
          break;
        case "allowed_origins":
        case "allowed_origin":
        case "allow_origins":
        case "allow_origin":
        case "origins":
        case "origin":
          ws.allowedOrigins = this.stringArray("allowed origins", v) ?? [];
          break;
        case "handshake_timeout":
          if (v.kind === "int") ws.handshakeTimeoutMs = Number(v.value) * 1000;
          else if (v.kind === "string") {
            try {
              ws.handshakeTimeoutMs = nsToMs(parseGoDuration(v.value));
            } catch (e) {
              this.err(v, (e as Error).message);
            }
          } else {
            this.err(v, `error parsing handshake timeout: unsupported type ${goType(v)}`);
          }
          break;
        case "compress":
        case "compression":
          ws.compression = this.bool(v) ?? ws.compression;
          break;
        case "authorization":
        case "authentication": {
          const a = this.simpleAuth(v, `${key} ${k}`);
          if (a) {
            const noAuthUser = this.wsAuth?.noAuthUser;
            this.wsAuth = { ...a, ...(noAuthUser !== undefined ? { noAuthUser } : {}) };
          }
          break;
        }
        case "jwt_cookie": {
          const s = this.str(v);
          if (s !== undefined) ws.jwtCookie = s;
          break;
        }
        case "no_auth_user": {
          const s = this.str(v);
          if (s !== undefined) this.wsAuth = { ...this.wsAuth, noAuthUser: s };
          break;
        }
        case "trusted_proxies": {
          const list = this.stringArray("trusted_proxies", v);
          if (!list) break;
          const good: string[] = [];
          for (const c of list) {
            if (isCidr(c)) good.push(c);
            else this.err(v, `error parsing trusted_proxies: invalid CIDR address: ${c}`);
          }
          ws.trustedProxies = good;
          break;
        }
        case "engine": {
          const s = this.str(v);
          if (s === undefined) break;
          const e = s.toLowerCase();
          if (e === "auto" || e === "native" || e === "codec") ws.engine = e;
          else {
            this.err(
              v,
              `error parsing websocket engine: expected "auto", "native" or "codec", got ${
                goQuote(s)
              }`,
            );
          }
          break;
        }
        default:
          this.unknown(v, k, WS_KEYS);
      }
    }
  }

  /** parseSimpleAuth (websocket `authorization`): user/pass/token/timeout only. */
  private simpleAuth(n: ConfigNode, path: string): SimpleAuth | undefined {
    const m = this.map(n);
    if (!m) return undefined;
    const a: SimpleAuth = {};
    for (const [k, v] of m) {
      switch (k.toLowerCase()) {
        case "user":
        case "username": {
          const s = this.str(v);
          if (s !== undefined) a.user = s;
          break;
        }
        case "pass":
        case "password": {
          const s = this.str(v);
          if (s !== undefined) a.password = s;
          break;
        }
        case "token": {
          const s = this.str(v);
          if (s !== undefined) a.token = s;
          break;
        }
        case "timeout":
          a.timeoutMs = this.authTimeout(v, `${path} timeout`) * 1000;
          break;
        default:
          this.unknown(v, k, SIMPLE_AUTH_KEYS);
      }
    }
    return a;
  }

  // ------------------------------------------------------------------------------------------
  // leafnodes

  private leafnodes(n: ConfigNode, key: string): void {
    if (n.kind !== "map") {
      this.err(n, `Expected map to define a leafnode, got ${goType(n)}`);
      return;
    }
    const ln = this.o.leafnodes;
    for (const [k, v] of n.value) {
      const lk = k.toLowerCase();
      if (this.endpoint(lk, v, ln)) continue;
      switch (lk) {
        case "authorization":
          this.leafAuthorization(v);
          break;
        case "remotes":
        case "min_version":
        case "minimum_version":
          this.refuse(v, `${key} ${k}`);
          break;
        case "reconnect":
        case "reconnect_delay":
        case "reconnect_interval":
          // Only used by remotes, which are not supported: checked, then ignored.
          if (this.int(v) !== undefined) this.ignore(v, `${key} ${k}`);
          break;
        case "tls": {
          const t = this.tls(v, `${key} tls`);
          if (t) {
            ln.tls = t.tls;
            this.leafTlsTimeoutSec = t.timeoutSec;
          }
          break;
        }
        case "leafnode_advertise":
        case "advertise": {
          const s = this.str(v);
          if (s !== undefined) ln.advertise = s;
          break;
        }
        case "no_advertise":
          ln.noAdvertise = this.bool(v) ?? ln.noAdvertise;
          break;
        default:
          this.unknown(v, k, LEAF_KEYS);
      }
    }
  }

  private leafAuthorization(n: ConfigNode): void {
    const m = this.map(n);
    if (!m) return;
    const a: NonNullable<ServerOptions["leafnodes"]["authorization"]> = {};
    for (const [k, v] of m) {
      switch (k.toLowerCase()) {
        case "user":
        case "username": {
          const s = this.str(v);
          if (s !== undefined) a.user = s;
          break;
        }
        case "pass":
        case "password": {
          const s = this.str(v);
          if (s !== undefined) a.password = s;
          break;
        }
        case "timeout":
          a.timeoutMs = this.authTimeout(v, "leafnodes authorization timeout") * 1000;
          break;
        case "account": {
          const s = this.str(v);
          if (s !== undefined) a.account = s;
          break;
        }
        case "users":
          a.users = this.leafUsers(v);
          break;
        default:
          this.unknown(v, k, LEAF_AUTH_KEYS);
      }
    }
    this.o.leafnodes.authorization = a;
    if (a.users && a.users.length > 0) {
      if (a.user) {
        this.err(n, "can not have a single user/pass and a users array");
        return;
      }
      const seen = new Set<string>();
      for (const u of a.users) {
        if (seen.has(u.user)) {
          this.err(n, `duplicate user ${goQuote(u.user)} detected in leafnode authorization`);
          return;
        }
        seen.add(u.user);
      }
    }
  }

  private leafUsers(
    n: ConfigNode,
  ): NonNullable<ServerOptions["leafnodes"]["authorization"]>["users"] {
    if (n.kind !== "array") {
      this.err(n, `Expected users field to be an array, got ${goValue(n)}`);
      return undefined;
    }
    const out: { user: string; password?: string; account?: string }[] = [];
    for (const e of n.value) {
      if (e.kind !== "map") {
        this.err(e, `Expected user entry to be a map/struct, got ${goValue(e)}`);
        continue;
      }
      const u: { user: string; password?: string; account?: string } = { user: "" };
      for (const [k, v] of e.value) {
        switch (k.toLowerCase()) {
          case "user":
          case "username":
            u.user = this.str(v) ?? u.user;
            break;
          case "pass":
          case "password": {
            const s = this.str(v);
            if (s !== undefined) u.password = s;
            break;
          }
          case "account": {
            const s = this.str(v);
            if (s !== undefined) u.account = s;
            break;
          }
          default:
            this.unknown(v, k, LEAF_USER_KEYS);
        }
      }
      out.push(u);
    }
    return out;
  }

  // ------------------------------------------------------------------------------------------

  /** setBaselineOptions: the reference's defaults for values left at zero. */
  private finish(): void {
    const o = this.o;
    if (this.configFile !== undefined) o.configFile = this.configFile;
    o.host = this.host === "" ? "0.0.0.0" : this.host;
    o.port = this.port === 0 ? 4222 : this.port;
    if (this.maxConn !== 0) o.maxConnections = this.maxConn;
    if (this.pingIntervalMs !== 0) o.pingIntervalMs = this.pingIntervalMs;
    if (this.pingMax !== 0) o.pingMax = this.pingMax;
    if (this.maxControlLine !== 0) o.maxControlLine = this.maxControlLine;
    if (this.maxPayload !== 0) o.maxPayload = this.maxPayload;
    if (this.maxPending !== 0) o.maxPending = this.maxPending;
    if (this.writeDeadlineMs !== 0) o.writeDeadlineMs = this.writeDeadlineMs;
    if (this.lameDuckMs !== 0) o.lameDuckDurationMs = this.lameDuckMs;
    if (this.lameDuckGraceMs !== 0) o.lameDuckGracePeriodMs = this.lameDuckGraceMs;
    // Auth timeout: the configured one, else TLS timeout + 1s with TLS, else 2s.
    const tlsTimeout = this.tlsTimeoutSec > 0 ? this.tlsTimeoutSec : 2;
    const authSec = this.authTimeoutSec !== 0 ? this.authTimeoutSec : o.tls ? tlsTimeout + 1 : 2;
    o.authTimeoutMs = authSec * 1000;
    if (this.authTimeoutSec !== 0) o.auth.timeoutMs = this.authTimeoutSec * 1000;
    if (this.wsAuth) o.auth.websocket = this.wsAuth;
    if (o.tls?.verifyAndMap || o.websocket.tls?.verifyAndMap) {
      o.auth.tlsMap = {
        standard: !!o.tls?.verifyAndMap,
        websocket: !!o.websocket.tls?.verifyAndMap,
      };
    }
    if (!this.meta.monitorHostExplicit) o.monitor.host = o.host;
    if (o.websocket.host === "") o.websocket.host = "0.0.0.0";
    if (o.leafnodes.host === "") o.leafnodes.host = "0.0.0.0";
    const leafTls = this.leafTlsTimeoutSec > 0 ? this.leafTlsTimeoutSec : 2;
    const leafAuth = o.leafnodes.authorization?.timeoutMs;
    o.leafnodes.authTimeoutMs = leafAuth ? leafAuth : o.leafnodes.tls ? (leafTls + 1) * 1000 : 2000;
    // Drop undefined optional fields from the auth object for a tidy, comparable result.
    for (const k of ["user", "password", "token", "defaultPermissions"] as const) {
      if (o.auth[k] === undefined) delete o.auth[k];
    }
    if (!this.authSet) delete o.auth.timeoutMs;
  }
}

function applyDefaultPermissions(users: UserConfig[], p: Permissions): void {
  for (const u of users) if (!u.permissions) u.permissions = p;
}

function absolute(p: string): string {
  if (p.startsWith("/")) return p;
  try {
    return Deno.cwd().replace(/\/$/, "") + "/" + p;
  } catch {
    return p;
  }
}

/** CIDR (or a single IP) for trusted_proxies. */
export function isCidr(s: string): boolean {
  const [ip, bits, extra] = s.split("/");
  if (extra !== undefined) return false;
  const v4 =
    /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;
  let max: number;
  if (v4.test(ip)) max = 32;
  else if (isIPv6(ip)) max = 128;
  else return false;
  if (bits === undefined) return true;
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  return Number(bits) <= max;
}

function isIPv6(s: string): boolean {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(":")) return false;
  try {
    new URL(`http://[${s}]/`);
    return true;
  } catch {
    return false;
  }
}

/** Returns the reference's error text, or undefined when the files are usable. */
export function checkTlsFiles(t: TlsOptions): string | undefined {
  const r = loadTlsMaterial(t, readFile);
  return r.ok ? undefined : r.error;
}

/** Turns a parsed tree into options (not frozen, not validated). */
export function buildOptions(tree: ConfigMap, configFile?: string): BuildResult {
  const b = new Builder(configFile);
  b.build(tree);
  return { options: b.o, errors: b.errors, warnings: b.warnings, meta: b.meta };
}
