/**
 * The one typed options object every module reads. `lib/config/` turns a nats-server config
 * file (plus command-line overrides) into this; `defaultOptions()` gives the reference defaults.
 */
import type { AuthConfig } from "../auth/types.ts";

/**
 * TLS block (`tls { ... }`). File paths are made absolute against the process working directory,
 * which is how nats-server 2.9.10 opens them (it does not resolve them against the config file).
 */
export interface TlsOptions {
  /** Server certificate (PEM). */
  certFile?: string;
  /** Server private key (PEM). */
  keyFile?: string;
  /** CA bundle for client certificates. */
  caFile?: string;
  /** Require and verify client certificates. */
  verify: boolean;
  /** Map the client certificate to a user (implies verify). */
  verifyAndMap: boolean;
  /** TLS handshake timeout in ms. */
  timeoutMs: number;
  /** Accepted for compatibility (client side only in the reference). */
  insecure: boolean;
  /** SHA-256 hex digests of allowed client certificate public keys. */
  pinnedCerts?: string[];
}

/** `websocket { ... }` (alias `ws`). Port 0 = disabled, -1 = random. */
export interface WebSocketOptions {
  /** Listen host. */
  host: string;
  /** Port; 0 = disabled, -1 = random. */
  port: number;
  /** `advertise` host[:port]. */
  advertise?: string;
  /** Allow plain `ws://` (`no_tls`). */
  noTls: boolean;
  /** `tls { ... }` for `wss://`. */
  tls?: TlsOptions;
  /** Origin must equal the request's Host. */
  sameOrigin: boolean;
  /** Allowed `Origin` values (scheme://host[:port]). */
  allowedOrigins: string[];
  /** Offer permessage-deflate (`compression`). */
  compression: boolean;
  /** 0 = no handshake timeout (the reference has none when unset). */
  handshakeTimeoutMs: number;
  /** Cookie whose value is the client JWT. */
  jwtCookie?: string;
  /** `user_cookie` (beyond 2.9.10): the user name when CONNECT has none. */
  userCookie?: string;
  /** `pass_cookie` (beyond 2.9.10): the password when CONNECT has none. */
  passCookie?: string;
  /** `token_cookie` (beyond 2.9.10): the token when CONNECT has none. */
  tokenCookie?: string;
  /** Beyond the reference: CIDRs whose X-Forwarded-For is honoured. */
  trustedProxies: string[];
  /** Engine override: "auto" picks native unless a feature needs the own codec. */
  engine: "auto" | "native" | "codec";
}

/** One entry of `leafnodes { authorization { users: [...] } }`. */
export interface LeafNodeUser {
  /** Leaf user name. */
  user: string;
  /** Leaf user password. */
  password?: string;
  /** Account the leaf connection binds to; undefined = "$G". */
  account?: string;
}

/** `leafnodes { authorization { ... } }` (added by config). */
export interface LeafNodeAuthOptions {
  /** Single leaf user name. */
  user?: string;
  /** Single leaf user password. */
  password?: string;
  /** Auth timeout in ms when set in the block (0 = not set). */
  timeoutMs?: number;
  /** Account for the single user; undefined = "$G". */
  account?: string;
  /** Leaf users. */
  users?: LeafNodeUser[];
}

/** `proxy { ... }` of a ws/wss remote (beyond the reference): an HTTP CONNECT tunnel. */
export interface LeafProxyOptions {
  /** `http://host:port` or `https://host:port` of the forward proxy. */
  url: string;
  /** Basic auth user for `Proxy-Authorization`. */
  username?: string;
  /** Basic auth password. */
  password?: string;
  /** Time allowed for the proxy to answer the CONNECT (default 5s). */
  connectTimeoutMs: number;
}

/** One entry of `leafnodes { remotes: [...] }`. */
export interface RemoteLeafOptions {
  /** `url`/`urls` as written (trimmed): nats://, nats-leaf://, tls://, ws://, wss://. */
  urls: string[];
  /** `account` (alias `local`): the local account bound to this link; undefined = "$G". */
  account?: string;
  /** `credentials` (alias `creds`): a .creds file (user JWT + seed). */
  credentials?: string;
  /** `tls { ... }` of the solicited connection (client side). */
  tls?: TlsOptions;
  /** `hub`: this server is the hub of the link. */
  hub: boolean;
  /** `deny_imports`: subjects not accepted from the remote. */
  denyImports: string[];
  /** `deny_exports`: subjects not sent to the remote. */
  denyExports: string[];
  /** `ws_compression`: ask for permessage-deflate. */
  wsCompression: boolean;
  /** `ws_no_masking`: ask the hub to accept unmasked frames. */
  wsNoMasking: boolean;
  /** `no_randomize`: try the urls in order. */
  noRandomize: boolean;
  /** Beyond the reference: HTTP CONNECT proxy for ws/wss urls. */
  proxy?: LeafProxyOptions;
}

/** `leafnodes { ... }` accept side. */
export interface LeafNodeOptions {
  /** Listen host. */
  host: string;
  /** Port; 0 = disabled, -1 = random. */
  port: number;
  /** `advertise` host[:port]. */
  advertise?: string;
  /** `no_advertise`. */
  noAdvertise: boolean;
  /** `tls { ... }` for leaf connections. */
  tls?: TlsOptions;
  /** Added by config: `authorization { user, password, timeout, account, users }`. */
  authorization?: LeafNodeAuthOptions;
  /** Added by config: effective leafnode auth timeout in ms (reference default rules). */
  authTimeoutMs?: number;
  /** `remotes: [ ... ]`: leafnode connections this server solicits. */
  remotes: RemoteLeafOptions[];
  /** `reconnect` (alias `reconnect_delay`, `reconnect_interval`): delay between attempts (1s). */
  reconnectDelayMs: number;
}

/** `http`/`http_port` monitoring. Port 0 = disabled, -1 = random. */
export interface MonitorOptions {
  /** Listen host. */
  host: string;
  /** `https_port` / `https`: HTTPS monitoring port (0/undefined = none, -1 = random). */
  httpsPort?: number;
  /** Port; 0 = disabled, -1 = random. */
  port: number;
  /** `http_base_path` prefix. */
  basePath: string;
}

/** `resolver`: where account JWTs come from in operator mode. */
export type ResolverOptions =
  | { type: "memory" }
  | { type: "url"; url: string }
  | {
    type: "full" | "cache";
    /** `dir`: where account JWTs are stored. */
    dir: string;
    /** `allow_delete` (full). */
    allowDelete: boolean;
    /** `interval` (full): how often to sync with other servers; 0 = default. */
    intervalMs: number;
    /** `limit`: max accounts stored (0 = default). */
    limit: number;
    /** `ttl` (cache). */
    ttlMs: number;
    /** `timeout`: fetch timeout. */
    timeoutMs: number;
  };

/** Operator mode: `operator`, `trusted_keys`, `system_account`, `resolver`, `resolver_preload`. */
export interface OperatorOptions {
  /** The operator JWTs (inline or read from the named files), undecoded. */
  operatorJwts: string[];
  /** `trusted` / `trusted_keys`. */
  trustedKeys: string[];
  /** `system_account` (alias `system`). */
  systemAccount?: string;
  /** `resolver` (from the operator's account server URL when only that is given). */
  resolver?: ResolverOptions;
  /** `resolver_preload`: account public key → account JWT. */
  resolverPreload: Record<string, string>;
  /** Where each operator JWT came from (for error positions). */
  sources?: string[];
}

/** The complete server options. Durations are in milliseconds, sizes in bytes. */
export interface ServerOptions {
  /** Config file this came from, if any. */
  configFile?: string;
  /** Client listen host (`listen`/`host`/`net`, `-a`). */
  host: string;
  /** Client port; -1 = random. */
  port: number;
  /** `client_advertise`: host[:port] announced in INFO. */
  clientAdvertise?: string;
  /** `server_name` (`-n`); defaults to the server id. */
  serverName?: string;
  /** `cluster { name }`: the cluster name in INFO and /varz (routes are not supported). */
  clusterName?: string;
  /** `server_tags`, lower-cased and trimmed, without duplicates (as the reference's TagList). */
  tags?: string[];
  /** `allow_non_tls`: with `tls {}`, clients may also skip TLS (INFO `tls_available`). */
  allowNonTls?: boolean;
  /** `max_payload` in bytes (default 1 MB). */
  maxPayload: number;
  /** `max_control_line` in bytes (default 4096). */
  maxControlLine: number;
  /** `max_connections` (default 65536). */
  maxConnections: number;
  /** 0 = unlimited. */
  maxSubscriptions: number;
  /** `max_pending` per connection in bytes before it is a slow consumer (64 MB). */
  maxPending: number;
  /** `ping_interval` (default 2 minutes). */
  pingIntervalMs: number;
  /** `ping_max`: unanswered PINGs before `Stale Connection` (default 2). */
  pingMax: number;
  /** `write_deadline` (default 10 s). */
  writeDeadlineMs: number;
  /** `no_header_support`: disables HPUB/HMSG. */
  noHeaderSupport: boolean;
  /** `debug` / `-D`. */
  debug: boolean;
  /** `trace` / `-V`. */
  trace: boolean;
  /** Added by config: `trace_verbose` (also sets `trace`). */
  traceVerbose?: boolean;
  /** `logtime` / `-T`: timestamps in log lines (default true). */
  logtime: boolean;
  /** `log_file` / `-l`. */
  logFile?: string;
  /** `pid_file` / `-P`. */
  pidFile?: string;
  /** `ports_file_dir`. */
  portsFileDir?: string;
  /** Client-port `tls { ... }`. */
  tls?: TlsOptions;
  /** Everything auth reads: `authorization`, `accounts`, `no_auth_user`, ws override. */
  auth: AuthConfig;
  /** Auth timeout in ms (top-level `authorization.timeout`, default 2s). */
  authTimeoutMs: number;
  /** `websocket { ... }` (alias `ws`). */
  websocket: WebSocketOptions;
  /** `leafnodes { ... }`: the leafnode port and the remotes this server solicits. */
  leafnodes: LeafNodeOptions;
  /** `http`/`http_port` monitoring. */
  monitor: MonitorOptions;
  /** Operator mode and the system account. */
  operator: OperatorOptions;
  /** `lame_duck_duration`. */
  lameDuckDurationMs: number;
  /** `lame_duck_grace_period`. */
  lameDuckGracePeriodMs: number;
}

/** Defaults of nats-server 2.9.10. */
export function defaultOptions(): ServerOptions {
  return {
    host: "0.0.0.0",
    port: 4222,
    maxPayload: 1024 * 1024,
    maxControlLine: 4096,
    maxConnections: 64 * 1024,
    maxSubscriptions: 0,
    maxPending: 64 * 1024 * 1024,
    pingIntervalMs: 2 * 60 * 1000,
    pingMax: 2,
    writeDeadlineMs: 10_000,
    noHeaderSupport: false,
    debug: false,
    trace: false,
    logtime: true,
    auth: { users: [], accounts: [] },
    authTimeoutMs: 2000,
    websocket: {
      host: "0.0.0.0",
      port: 0,
      noTls: false,
      sameOrigin: false,
      allowedOrigins: [],
      compression: false,
      handshakeTimeoutMs: 0,
      trustedProxies: [],
      engine: "auto",
    },
    leafnodes: {
      host: "0.0.0.0",
      port: 0,
      noAdvertise: false,
      authTimeoutMs: 2000,
      remotes: [],
      reconnectDelayMs: 1000,
    },
    monitor: { host: "0.0.0.0", port: 0, basePath: "" },
    operator: { operatorJwts: [], trustedKeys: [], resolverPreload: {} },
    lameDuckDurationMs: 2 * 60 * 1000,
    lameDuckGracePeriodMs: 10_000,
  };
}
