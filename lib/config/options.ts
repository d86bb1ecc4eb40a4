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
  certFile?: string;
  keyFile?: string;
  caFile?: string;
  verify: boolean;
  verifyAndMap: boolean;
  /** TLS handshake timeout in ms. */
  timeoutMs: number;
  insecure: boolean;
  pinnedCerts?: string[];
}

/** `websocket { ... }` (alias `ws`). Port 0 = disabled, -1 = random. */
export interface WebSocketOptions {
  host: string;
  port: number;
  advertise?: string;
  noTls: boolean;
  tls?: TlsOptions;
  sameOrigin: boolean;
  allowedOrigins: string[];
  compression: boolean;
  /** 0 = no handshake timeout (the reference has none when unset). */
  handshakeTimeoutMs: number;
  jwtCookie?: string;
  /** Beyond the reference: CIDRs whose X-Forwarded-For is honoured. */
  trustedProxies: string[];
  /** Engine override: "auto" picks native unless a feature needs the own codec. */
  engine: "auto" | "native" | "codec";
}

/** One entry of `leafnodes { authorization { users: [...] } }`. */
export interface LeafNodeUser {
  user: string;
  password?: string;
  /** Account the leaf connection binds to; undefined = "$G". */
  account?: string;
}

/** `leafnodes { authorization { ... } }` (added by config). */
export interface LeafNodeAuthOptions {
  user?: string;
  password?: string;
  /** Auth timeout in ms when set in the block (0 = not set). */
  timeoutMs?: number;
  /** Account for the single user; undefined = "$G". */
  account?: string;
  users?: LeafNodeUser[];
}

/** `leafnodes { ... }` accept side. */
export interface LeafNodeOptions {
  host: string;
  port: number;
  advertise?: string;
  noAdvertise: boolean;
  tls?: TlsOptions;
  /** Added by config: `authorization { user, password, timeout, account, users }`. */
  authorization?: LeafNodeAuthOptions;
  /** Added by config: effective leafnode auth timeout in ms (reference default rules). */
  authTimeoutMs?: number;
}

/** `http`/`http_port` monitoring. Port 0 = disabled, -1 = random. */
export interface MonitorOptions {
  host: string;
  port: number;
  basePath: string;
}

/** The complete server options. Durations are in milliseconds, sizes in bytes. */
export interface ServerOptions {
  /** Config file this came from, if any. */
  configFile?: string;
  host: string;
  /** Client port; -1 = random. */
  port: number;
  clientAdvertise?: string;
  serverName?: string;
  maxPayload: number;
  maxControlLine: number;
  maxConnections: number;
  /** 0 = unlimited. */
  maxSubscriptions: number;
  maxPending: number;
  pingIntervalMs: number;
  pingMax: number;
  writeDeadlineMs: number;
  noHeaderSupport: boolean;
  debug: boolean;
  trace: boolean;
  /** Added by config: `trace_verbose` (also sets `trace`). */
  traceVerbose?: boolean;
  logtime: boolean;
  logFile?: string;
  pidFile?: string;
  portsFileDir?: string;
  tls?: TlsOptions;
  auth: AuthConfig;
  /** Auth timeout in ms (top-level `authorization.timeout`, default 2s). */
  authTimeoutMs: number;
  websocket: WebSocketOptions;
  leafnodes: LeafNodeOptions;
  monitor: MonitorOptions;
  lameDuckDurationMs: number;
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
    leafnodes: { host: "0.0.0.0", port: 0, noAdvertise: false, authTimeoutMs: 2000 },
    monitor: { host: "0.0.0.0", port: 0, basePath: "" },
    lameDuckDurationMs: 2 * 60 * 1000,
    lameDuckGracePeriodMs: 10_000,
  };
}
