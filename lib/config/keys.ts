/**
 * The table of config keys: every key nats-server 2.9.10 knows at the top level and inside each
 * block this server reads, with
 * - the block module that handles it (top level only; nested keys belong to their block),
 * - its status here: supported, refused (`<key>: not supported yet`), accepted and ignored (a
 *   warning), or an extension of ours the reference does not have,
 * - whether nats-server 2.9.10 can reload it (`server/reload.go` diffOptions compares Options
 *   fields; a non-reloadable field fails with `config reload not supported for <Field>`).
 *
 * Dispatch reads this table: the top level through the block modules' handler records, typed
 * so a key missing on either side does not compile; nested blocks through
 * `BuildContext.eachKey`, whose switch is over the table's key names. The candidate order of
 * "did you mean" hints is the table's order (canonical name first, then aliases, as the
 * reference's `case` lists them).
 */

/** What this server does with a key. */
export type KeyStatus = "supported" | "refused" | "ignored" | "extension";

/** Whether nats-server 2.9.10 applies a change of this key on reload. */
export interface Reload {
  /** true: applied; false: `config reload not supported for <field>`; "partly": see note. */
  readonly reloadable: boolean | "partly";
  /** The reference's Options fields the key sets (the names its reload error uses). */
  readonly fields: readonly string[];
  /** How the reference decides, where it is not a plain yes or no. */
  readonly note?: string;
}

/** One key of a block. */
export interface KeyEntry {
  /** Other spellings the reference accepts (any case). */
  readonly aliases: readonly string[];
  /** What this server does with it. */
  readonly status: KeyStatus;
  /** Why it is refused, ignored or an extension. */
  readonly why?: string;
  /** Reload behaviour of nats-server 2.9.10. */
  readonly reload: Reload;
  /** Top level only: the block module that handles the key. */
  readonly block?: BlockName;
}

/** The block modules of lib/config/blocks/. */
export type BlockName =
  | "top"
  | "authorization"
  | "accounts"
  | "tls"
  | "websocket"
  | "leafnodes"
  | "monitoring"
  | "operator"
  | "cluster"
  | "gateway"
  | "jetstream"
  | "mqtt";

/** The keys of one block, with an index of every spelling. */
export interface BlockSpec<K extends Record<string, KeyEntry> = Record<string, KeyEntry>> {
  /** Where the block sits (`authorization`, `accounts <name> exports`, …; "" = top level). */
  readonly path: string;
  /** Canonical key → entry, in the reference's order. */
  readonly keys: K;
  /** Lower-case spelling → canonical key. */
  readonly index: ReadonlyMap<string, string>;
  /** Every spelling, in table order ("did you mean" candidates). */
  readonly candidates: readonly string[];
}

function block<const K extends Record<string, KeyEntry>>(path: string, keys: K): BlockSpec<K> {
  const index = new Map<string, string>();
  const candidates: string[] = [];
  for (const [key, e] of Object.entries(keys)) {
    for (const name of [key, ...e.aliases]) {
      index.set(name, key);
      candidates.push(name);
    }
  }
  return { path, keys, index, candidates };
}

/** The canonical key for `k` (any case, any alias), or undefined when the block has none. */
export function resolveKey(spec: BlockSpec, k: string): string | undefined {
  return spec.index.get(k) ?? spec.index.get(k.toLowerCase());
}

/** Every spelling of the block's keys, for "did you mean" hints. */
export function candidatesOf(spec: BlockSpec): readonly string[] {
  return spec.candidates;
}

// ---------------------------------------------------------------------------------------------
// Entry shorthands.

const yes = (...fields: string[]): Reload => ({ reloadable: true, fields });
const no = (...fields: string[]): Reload => ({ reloadable: false, fields });
const partly = (note: string, ...fields: string[]): Reload => ({
  reloadable: "partly",
  fields,
  note,
});

const NOT_IMPLEMENTED = "not implemented here; refused so it cannot silently change behaviour";
const DESCRIPTIVE = "descriptive only; type-checked, then accepted with a warning";

function supported(reload: Reload, ...aliases: string[]): KeyEntry {
  return { aliases, status: "supported", reload };
}
function refused(reload: Reload, ...aliases: string[]): KeyEntry {
  return { aliases, status: "refused", why: NOT_IMPLEMENTED, reload };
}
function ignored(reload: Reload, why: string, ...aliases: string[]): KeyEntry {
  return { aliases, status: "ignored", why, reload };
}
function extension(reload: Reload, why: string): KeyEntry {
  return { aliases: [], status: "extension", why, reload };
}
function at<const B extends BlockName>(b: B, e: KeyEntry): KeyEntry & { readonly block: B } {
  return { ...e, block: b };
}

// ---------------------------------------------------------------------------------------------
// Top level (processConfigFileLine).

/** Top-level keys of nats-server 2.9.10 processConfigFileLine. */
export const TOP_LEVEL = block("", {
  listen: at("top", supported(no("Host", "Port"))),
  client_advertise: at("top", supported(yes("ClientAdvertise"))),
  port: at(
    "top",
    supported(partly("a new port 0 (random) is ignored; any other change fails", "Port")),
  ),
  server_name: at("top", supported(no("ServerName"))),
  host: at("top", supported(no("Host"), "net")),
  debug: at("top", supported(yes("Debug"))),
  trace: at("top", supported(yes("Trace"))),
  trace_verbose: at("top", supported(yes("TraceVerbose", "Trace"))),
  logtime: at("top", supported(yes("Logtime"))),
  mappings: at("accounts", refused(yes("Accounts"), "maps")),
  disable_sublist_cache: at(
    "top",
    ignored(
      no("NoSublistCache"),
      "the match cache is always on; only `false` is what happens",
      "no_sublist_cache",
    ),
  ),
  accounts: at("accounts", supported(yes("Accounts", "Users", "Nkeys"))),
  authorization: at(
    "authorization",
    supported(yes("Username", "Password", "Authorization", "AuthTimeout", "Users", "Nkeys")),
  ),
  http: at("monitoring", supported(no("HTTPHost", "HTTPPort"))),
  https: at("monitoring", refused(no("HTTPHost", "HTTPSPort"))),
  http_port: at("monitoring", supported(no("HTTPPort"), "monitor_port")),
  https_port: at("monitoring", refused(no("HTTPSPort"))),
  http_base_path: at("monitoring", supported(no("HTTPBasePath"))),
  cluster: at(
    "cluster",
    refused(
      partly(
        "cluster host and port cannot change (`config reload not supported for cluster host`/`port`); the rest reloads",
        "Cluster",
        "Routes",
      ),
    ),
  ),
  gateway: at("gateway", refused(no("Gateway"))),
  leaf: at(
    "leafnodes",
    supported(
      partly(
        "fails unless remotes are unchanged and users are the same set (name, password, account)",
        "LeafNode",
      ),
      "leafnodes",
    ),
  ),
  store_dir: at(
    "jetstream",
    refused(
      partly(
        "with JetStream running: `config reload not supported for jetstream storage directory`",
        "StoreDir",
      ),
      "storedir",
    ),
  ),
  jetstream: at(
    "jetstream",
    refused(
      partly(
        "enable/disable reloads; limit changes fail (`jetstream max memory and store`)",
        "JetStream",
        "JetStreamMaxMemory",
        "JetStreamMaxStore",
      ),
    ),
  ),
  logfile: at("top", supported(yes("LogFile"), "log_file")),
  logfile_size_limit: at("top", ignored(no("LogSizeLimit"), DESCRIPTIVE, "log_size_limit")),
  syslog: at("top", ignored(yes("Syslog"), DESCRIPTIVE)),
  remote_syslog: at("top", ignored(yes("RemoteSyslog"), DESCRIPTIVE)),
  pidfile: at("top", supported(yes("PidFile"), "pid_file")),
  ports_file_dir: at("top", supported(yes("PortsFileDir"))),
  prof_port: at("top", ignored(no("ProfPort"), DESCRIPTIVE)),
  max_control_line: at("top", supported(yes("MaxControlLine"))),
  max_payload: at("top", supported(yes("MaxPayload"))),
  max_pending: at("top", supported(no("MaxPending"))),
  max_connections: at("top", supported(yes("MaxConn"), "max_conn")),
  max_traced_msg_len: at("top", ignored(yes("MaxTracedMsgLen"), DESCRIPTIVE)),
  max_subscriptions: at("top", supported(no("MaxSubs"), "max_subs")),
  max_sub_tokens: at("top", refused(no("MaxSubTokens"), "max_subscription_tokens")),
  ping_interval: at("top", supported(yes("PingInterval"))),
  ping_max: at("top", supported(yes("MaxPingsOut"))),
  tls: at(
    "tls",
    supported(
      partly(
        "certificates, timeout and pinned_certs reload; verify_and_map (TLSMap) and connection_rate_limit (TLSRateLimit) do not",
        "TLSConfig",
        "TLSTimeout",
        "TLSMap",
        "TLSPinnedCerts",
        "TLSRateLimit",
      ),
    ),
  ),
  ocsp: at("tls", refused(yes("OCSPConfig"))),
  allow_non_tls: at("tls", refused(no("AllowNonTLS"))),
  write_deadline: at("top", supported(yes("WriteDeadline"))),
  lame_duck_duration: at("top", supported(no("LameDuckDuration"))),
  lame_duck_grace_period: at("top", supported(no("LameDuckGracePeriod"))),
  operator: at(
    "operator",
    refused(
      no("TrustedOperators"),
      "operators",
      "roots",
      "root",
      "root_operators",
      "root_operator",
    ),
  ),
  resolver: at(
    "operator",
    refused(
      partly(
        "`config reload does not support moving to or from an account resolver`; otherwise reloads",
        "AccountResolver",
      ),
      "account_resolver",
      "accounts_resolver",
    ),
  ),
  resolver_tls: at("operator", refused(yes("AccountResolverTLSConfig"))),
  resolver_preload: at(
    "operator",
    refused(
      partly(
        "an unexported field: reload neither applies nor refuses a change",
        "resolverPreloads",
      ),
    ),
  ),
  resolver_pinned_accounts: at(
    "operator",
    refused(
      partly(
        "an unexported field: reload neither applies nor refuses a change",
        "resolverPinnedAccounts",
      ),
    ),
  ),
  no_auth_user: at(
    "authorization",
    supported(
      partly(
        "only removing it together with that user reloads; any other change fails",
        "NoAuthUser",
      ),
    ),
  ),
  system_account: at(
    "operator",
    refused(partly("only the default `$SYS` → unset reloads", "SystemAccount"), "system"),
  ),
  no_system_account: at(
    "operator",
    ignored(
      no("NoSystemAccount"),
      "there is no system account here: `true` is what happens, `false` warns",
      "no_system",
      "no_sys_acc",
    ),
  ),
  no_header_support: at("top", supported(no("NoHeaderSupport"))),
  trusted: at("operator", refused(no("TrustedKeys"), "trusted_keys")),
  connect_error_reports: at("top", ignored(yes("ConnectErrorReports"), DESCRIPTIVE)),
  reconnect_error_reports: at("top", ignored(yes("ReconnectErrorReports"), DESCRIPTIVE)),
  websocket: at(
    "websocket",
    supported(
      partly(
        "any change fails except the certificates (TLSConfig is left out of the comparison)",
        "Websocket",
      ),
      "ws",
    ),
  ),
  mqtt: at(
    "mqtt",
    refused(
      partly(
        "ack_wait, max_ack_pending, stream/consumer replicas, consumer memory storage and inactive threshold reload; the rest fails",
        "MQTT",
      ),
    ),
  ),
  server_tags: at("top", ignored(yes("Tags"), DESCRIPTIVE)),
  default_js_domain: at("jetstream", refused(no("JsAccDefaultDomain"))),
});

/** A top-level key (canonical name). */
export type TopLevelKey = keyof typeof TOP_LEVEL.keys;

/** The top-level keys a block module handles. */
export type TopLevelKeysOf<B extends BlockName> = {
  [K in TopLevelKey]: (typeof TOP_LEVEL.keys)[K]["block"] extends B ? K : never;
}[TopLevelKey];

// ---------------------------------------------------------------------------------------------
// authorization (parseAuthorization, parseUsers, parseUserPermissions, parseAllowResponses).

const USERS = yes("Users", "Nkeys");

/** `authorization { ... }`. */
export const AUTHORIZATION = block("authorization", {
  user: supported(yes("Username"), "username"),
  pass: supported(yes("Password"), "password"),
  token: supported(yes("Authorization")),
  timeout: supported(yes("AuthTimeout")),
  users: supported(USERS),
  default_permission: supported(USERS, "default_permissions", "permissions"),
});

/** One entry of `users: [...]` (authorization block or account). */
export const USER = block("users", {
  nkey: supported(USERS),
  user: supported(USERS, "username"),
  pass: supported(USERS, "password"),
  permission: supported(USERS, "permissions", "authorization"),
  allowed_connection_types: supported(USERS, "connection_types", "clients"),
});

/** `permissions { ... }`. */
export const PERMISSIONS = block("permissions", {
  pub: supported(USERS, "publish", "import"),
  sub: supported(USERS, "subscribe", "export"),
  publish_allow_responses: supported(USERS, "allow_responses"),
});

/** `publish`/`subscribe` as a map. */
export const SUBJECT_PERMISSION = block("permissions publish|subscribe", {
  allow: supported(USERS),
  deny: supported(USERS),
});

/** `allow_responses { ... }`. */
export const ALLOW_RESPONSES = block("permissions allow_responses", {
  max: supported(USERS, "max_msgs", "max_messages", "max_responses"),
  expires: supported(USERS, "expiration", "ttl"),
});

// ---------------------------------------------------------------------------------------------
// accounts (parseAccounts, parseAccountExports/Imports, parseExportStreamOrService, …).

const ACCOUNTS = yes("Accounts");

/** One account of `accounts { <name> { ... } }`. */
export const ACCOUNT = block("accounts <name>", {
  nkey: supported(ACCOUNTS),
  imports: supported(ACCOUNTS),
  exports: supported(ACCOUNTS),
  jetstream: refused(ACCOUNTS),
  users: supported(USERS),
  default_permissions: supported(USERS),
  mappings: refused(ACCOUNTS, "maps"),
  limits: refused(ACCOUNTS),
});

/** One entry of an account's `exports: [...]`. */
export const EXPORT = block("accounts <name> exports", {
  stream: supported(ACCOUNTS),
  service: supported(ACCOUNTS),
  response: supported(ACCOUNTS, "response_type"),
  threshold: refused(ACCOUNTS, "response_threshold"),
  response_max_time: refused(ACCOUNTS, "response_time"),
  accounts: supported(ACCOUNTS),
  latency: refused(ACCOUNTS),
  account_token_position: refused(ACCOUNTS),
});

/** One entry of an account's `imports: [...]`. */
export const IMPORT = block("accounts <name> imports", {
  stream: supported(ACCOUNTS),
  service: supported(ACCOUNTS),
  prefix: supported(ACCOUNTS),
  to: supported(ACCOUNTS),
  share: refused(ACCOUNTS),
});

/** The `{account, subject}` map of an import's stream/service. */
export const IMPORT_SOURCE = block("accounts <name> imports stream|service", {
  account: supported(ACCOUNTS),
  subject: supported(ACCOUNTS),
});

// ---------------------------------------------------------------------------------------------
// tls (parseTLS). Reload is given for the client `tls`; inside websocket and leafnodes a change
// follows the parent block's rule.

/** `tls { ... }` (top level, websocket, leafnodes). */
export const TLS = block("tls", {
  cert_file: supported(yes("TLSConfig")),
  key_file: supported(yes("TLSConfig")),
  ca_file: supported(yes("TLSConfig")),
  insecure: supported(yes("TLSConfig")),
  verify: supported(yes("TLSConfig")),
  verify_and_map: supported(no("TLSMap")),
  verify_cert_and_check_known_urls: supported(yes("TLSConfig")),
  cipher_suites: refused(yes("TLSConfig")),
  curve_preferences: refused(yes("TLSConfig")),
  timeout: supported(yes("TLSTimeout")),
  connection_rate_limit: refused(no("TLSRateLimit")),
  pinned_certs: supported(yes("TLSPinnedCerts")),
});

// ---------------------------------------------------------------------------------------------
// websocket (parseWebsocket, parseSimpleAuth).

const WS = no("Websocket");

/** `websocket { ... }`. */
export const WEBSOCKET = block("websocket", {
  listen: supported(WS),
  port: supported(WS),
  host: supported(WS, "net"),
  advertise: supported(WS),
  no_tls: supported(WS),
  tls: supported(
    partly("only the certificates reload (TLSConfig is left out of the comparison)", "Websocket"),
  ),
  same_origin: supported(WS),
  allowed_origins: supported(
    WS,
    "allowed_origin",
    "allow_origins",
    "allow_origin",
    "origins",
    "origin",
  ),
  handshake_timeout: supported(WS),
  compress: supported(WS, "compression"),
  authorization: supported(WS, "authentication"),
  jwt_cookie: supported(WS),
  no_auth_user: supported(WS),
  trusted_proxies: extension(WS, "honour X-Forwarded-For from these CIDRs"),
  engine: extension(WS, "pick the WebSocket engine (auto, native, codec)"),
});

/** `websocket { authorization { ... } }`. */
export const WEBSOCKET_AUTH = block("websocket authorization", {
  user: supported(WS, "username"),
  pass: supported(WS, "password"),
  token: supported(WS),
  timeout: supported(WS),
});

// ---------------------------------------------------------------------------------------------
// leafnodes (parseLeafNodes, parseLeafAuthorization, parseLeafUsers).

const LEAF = no("LeafNode");
const REMOTES_ONLY = "only used by remotes, which are not supported: type-checked, then ignored";

/** `leafnodes { ... }` (alias `leaf`). */
export const LEAFNODES = block("leafnodes", {
  listen: supported(LEAF),
  port: supported(LEAF),
  host: supported(LEAF, "net"),
  authorization: supported(
    partly("users may change only to the same set (name, password, account)", "LeafNode"),
  ),
  remotes: refused(partly("fails unless the remotes are unchanged", "LeafNode")),
  reconnect: ignored(LEAF, REMOTES_ONLY, "reconnect_delay", "reconnect_interval"),
  tls: supported(
    partly("only the certificates reload (TLSConfig is left out of the comparison)", "LeafNode"),
  ),
  leafnode_advertise: supported(LEAF, "advertise"),
  no_advertise: supported(LEAF),
  min_version: refused(LEAF, "minimum_version"),
});

/** `leafnodes { authorization { ... } }`. */
export const LEAFNODE_AUTH = block("leafnodes authorization", {
  user: supported(LEAF, "username"),
  pass: supported(LEAF, "password"),
  timeout: supported(LEAF),
  users: supported(
    partly("may change only to the same set (name, password, account)", "LeafNode"),
  ),
  account: supported(LEAF),
});

/** One entry of `leafnodes { authorization { users: [...] } }`. */
export const LEAFNODE_USER = block("leafnodes authorization users", {
  user: supported(LEAF, "username"),
  pass: supported(LEAF, "password"),
  account: supported(LEAF),
});

/** Every nested block of the table, by path (for tests and the README key table). */
export const NESTED_BLOCKS: readonly BlockSpec[] = [
  AUTHORIZATION,
  USER,
  PERMISSIONS,
  SUBJECT_PERMISSION,
  ALLOW_RESPONSES,
  ACCOUNT,
  EXPORT,
  IMPORT,
  IMPORT_SOURCE,
  TLS,
  WEBSOCKET,
  WEBSOCKET_AUTH,
  LEAFNODES,
  LEAFNODE_AUTH,
  LEAFNODE_USER,
];
