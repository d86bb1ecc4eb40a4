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
      "the match cache is always on; type-checked, then accepted with a warning",
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

// ---------------------------------------------------------------------------------------------
// Keys inside blocks refused as a whole: never read here (the block is refused first), listed so
// the table covers every key the reference knows. Not tied to code until their block is
// implemented; then the block moves into NESTED_BLOCKS and its parser switches on it.

const IN_REFUSED = "inside a block that is refused as a whole";

function inRefused(reload: Reload, ...aliases: string[]): KeyEntry {
  return { aliases, status: "refused", why: IN_REFUSED, reload };
}

const CLUSTER_FIELD = yes("Cluster");
const CLUSTER_FIXED = partly(
  "`config reload not supported for cluster host` / `cluster port`",
  "Cluster",
);

/** `cluster { ... }` (parseCluster). */
export const CLUSTER = block("cluster", {
  name: inRefused(CLUSTER_FIELD),
  listen: inRefused(CLUSTER_FIXED),
  port: inRefused(CLUSTER_FIXED),
  host: inRefused(CLUSTER_FIXED, "net"),
  authorization: inRefused(CLUSTER_FIELD),
  routes: inRefused(yes("Routes")),
  tls: inRefused(CLUSTER_FIELD),
  cluster_advertise: inRefused(CLUSTER_FIELD, "advertise"),
  no_advertise: inRefused(CLUSTER_FIELD),
  connect_retries: inRefused(CLUSTER_FIELD),
  permissions: inRefused(CLUSTER_FIELD),
});

const GW = no("Gateway");

/** `gateway { ... }` (parseGateway). */
export const GATEWAY = block("gateway", {
  name: inRefused(GW),
  listen: inRefused(GW),
  port: inRefused(GW),
  host: inRefused(GW, "net"),
  authorization: inRefused(GW),
  tls: inRefused(GW),
  advertise: inRefused(GW),
  connect_retries: inRefused(GW),
  gateways: inRefused(GW),
  reject_unknown: inRefused(GW, "reject_unknown_cluster"),
});

/** One entry of `gateway { gateways: [...] }` (parseGateways). */
export const GATEWAY_REMOTE = block("gateway gateways", {
  name: inRefused(GW),
  tls: inRefused(GW),
  url: inRefused(GW),
  urls: inRefused(GW),
});

const JS_LIMITS = partly(
  "limit changes fail (`config reload not supported for jetstream max memory and store`)",
  "JetStreamMaxMemory",
  "JetStreamMaxStore",
);

/** `jetstream { ... }` (parseJetStream). */
export const JETSTREAM = block("jetstream", {
  enabled: inRefused(yes("JetStream"), "enable"),
  disabled: inRefused(yes("JetStream"), "disable"),
  store: inRefused(
    partly("`config reload not supported for jetstream storage directory`", "StoreDir"),
    "store_dir",
    "storedir",
  ),
  max_memory_store: inRefused(JS_LIMITS, "max_mem_store", "max_mem"),
  max_file_store: inRefused(JS_LIMITS, "max_file"),
  domain: inRefused(no("JetStreamDomain")),
  key: inRefused(no("JetStreamKey"), "ek", "encryption_key"),
  cipher: inRefused(no("JetStreamCipher")),
  extension_hint: inRefused(no("JetStreamExtHint")),
  limits: inRefused(no("JetStreamLimits")),
  unique_tag: inRefused(no("JetStreamUniqueTag")),
  max_outstanding_catchup: inRefused(no("JetStreamMaxCatchup")),
});

/** `jetstream { limits { ... } }` (parseJetStreamLimits). */
export const JETSTREAM_LIMITS = block("jetstream limits", {
  max_ack_pending: inRefused(no("JetStreamLimits")),
  max_ha_assets: inRefused(no("JetStreamLimits")),
  max_request_batch: inRefused(no("JetStreamLimits")),
  duplicate_window: inRefused(no("JetStreamLimits")),
});

const MQTT_FIXED = no("MQTT");
const MQTT_RELOADS = yes("MQTT");

/** `mqtt { ... }` (parseMQTT). */
export const MQTT = block("mqtt", {
  listen: inRefused(MQTT_FIXED),
  port: inRefused(MQTT_FIXED),
  host: inRefused(MQTT_FIXED, "net"),
  tls: inRefused(MQTT_FIXED),
  authorization: inRefused(MQTT_FIXED, "authentication"),
  no_auth_user: inRefused(MQTT_FIXED),
  ack_wait: inRefused(MQTT_RELOADS, "ackwait"),
  max_ack_pending: inRefused(MQTT_RELOADS, "max_pending", "max_inflight"),
  js_domain: inRefused(MQTT_FIXED),
  stream_replicas: inRefused(MQTT_RELOADS),
  consumer_replicas: inRefused(MQTT_RELOADS),
  consumer_memory_storage: inRefused(MQTT_RELOADS),
  consumer_inactive_threshold: inRefused(MQTT_RELOADS, "consumer_auto_cleanup"),
});

const REMOTE = partly("fails unless the remotes are unchanged", "LeafNode");

/** One entry of `leafnodes { remotes: [...] }` (parseRemoteLeafNodes). */
export const LEAFNODE_REMOTE = block("leafnodes remotes", {
  no_randomize: inRefused(REMOTE, "dont_randomize"),
  url: inRefused(REMOTE, "urls"),
  account: inRefused(REMOTE, "local"),
  creds: inRefused(REMOTE, "credentials"),
  tls: inRefused(REMOTE),
  hub: inRefused(REMOTE),
  deny_imports: inRefused(REMOTE, "deny_import"),
  deny_exports: inRefused(REMOTE, "deny_export"),
  ws_compress: inRefused(
    REMOTE,
    "ws_compression",
    "websocket_compress",
    "websocket_compression",
  ),
  ws_no_masking: inRefused(REMOTE, "websocket_no_masking"),
  jetstream_cluster_migrate: inRefused(REMOTE, "js_cluster_migrate"),
});

const RESOLVER = yes("AccountResolver");

/** `resolver { ... }` as a map (the directory resolvers). */
export const RESOLVER_DIR = block("resolver", {
  dir: inRefused(RESOLVER),
  type: inRefused(RESOLVER),
  allow_delete: inRefused(RESOLVER),
  limit: inRefused(RESOLVER),
  ttl: inRefused(RESOLVER),
  interval: inRefused(RESOLVER),
  timeout: inRefused(RESOLVER),
});

/** `ocsp { ... }` as a map. */
export const OCSP = block("ocsp", {
  mode: inRefused(yes("OCSPConfig")),
  urls: inRefused(yes("OCSPConfig")),
  url: inRefused(yes("OCSPConfig")),
});

/** `accounts { <name> { jetstream { ... } } }` (parseJetStreamForAccount). */
export const ACCOUNT_JETSTREAM = block("accounts <name> jetstream", {
  enabled: inRefused(ACCOUNTS, "enable"),
  disabled: inRefused(ACCOUNTS, "disable"),
  max_memory: inRefused(ACCOUNTS, "max_mem", "mem", "memory"),
  max_store: inRefused(ACCOUNTS, "max_file", "max_disk", "store", "disk"),
  max_streams: inRefused(ACCOUNTS, "streams"),
  max_consumers: inRefused(ACCOUNTS, "consumers"),
  max_bytes_required: inRefused(ACCOUNTS, "max_stream_bytes", "max_bytes"),
  mem_max_stream_bytes: inRefused(ACCOUNTS, "memory_max_stream_bytes"),
  disk_max_stream_bytes: inRefused(ACCOUNTS, "store_max_stream_bytes"),
  max_ack_pending: inRefused(ACCOUNTS),
});

/** `accounts { <name> { limits { ... } } }` (parseAccountLimits). */
export const ACCOUNT_LIMITS = block("accounts <name> limits", {
  max_connections: inRefused(ACCOUNTS, "max_conn"),
  max_subscriptions: inRefused(ACCOUNTS, "max_subs"),
  max_payload: inRefused(ACCOUNTS, "max_pay"),
  max_leafnodes: inRefused(ACCOUNTS, "max_leafs"),
});

/** The keys inside blocks refused as a whole, with the table row that refuses the block. */
export const REFUSED_BLOCKS: readonly { spec: BlockSpec; refusedAt: string }[] = [
  { spec: CLUSTER, refusedAt: "cluster" },
  { spec: GATEWAY, refusedAt: "gateway" },
  { spec: GATEWAY_REMOTE, refusedAt: "gateway" },
  { spec: JETSTREAM, refusedAt: "jetstream" },
  { spec: JETSTREAM_LIMITS, refusedAt: "jetstream" },
  { spec: MQTT, refusedAt: "mqtt" },
  { spec: LEAFNODE_REMOTE, refusedAt: "leafnodes remotes" },
  { spec: RESOLVER_DIR, refusedAt: "resolver" },
  { spec: OCSP, refusedAt: "ocsp" },
  { spec: ACCOUNT_JETSTREAM, refusedAt: "accounts <name> jetstream" },
  { spec: ACCOUNT_LIMITS, refusedAt: "accounts <name> limits" },
];

/** One row of the key table, flattened (for the README key table and config reload). */
export interface KeyRow extends KeyEntry {
  /** Block path ("" = top level). */
  readonly path: string;
  /** Canonical key. */
  readonly key: string;
}

/** Every row of the table: the top level, the blocks read here, then those refused whole. */
export function allKeyRows(): KeyRow[] {
  const specs = [TOP_LEVEL, ...NESTED_BLOCKS, ...REFUSED_BLOCKS.map((b) => b.spec)];
  return specs.flatMap((spec) =>
    Object.entries(spec.keys as Record<string, KeyEntry>).map(([key, e]) => ({
      ...e,
      path: spec.path,
      key,
    }))
  );
}
