/**
 * `/varz`: the server's configuration and counters, in the reference's `Varz` field order and
 * omitempty rules. Runtime values come from Deno: `go` is the runtime string INFO sends
 * (`deno<version>`), `mem` the resident set size, `cores` the logical CPUs, `gomaxprocs` 1 (one
 * JavaScript thread runs the server), `cpu` the process CPU percent over the last second or more
 * (user + system time from `node:process`, sampled when /varz is asked, like the reference's
 * one-second sampling).
 *
 * @module
 */
import { nodeBuiltin } from "../core/node_builtin.ts";
import { nowMs, rfc3339, sortedMap, uptime } from "./gofmt.ts";
import type { MonitorSource } from "./source.ts";
import type { ServerOptions } from "../config/options.ts";
import { peekClaims } from "../config/blocks/operator.ts";

const msToNs = (ms: number) => Math.round(ms * 1_000_000);
const secs = (ms: number) => ms / 1000;
const nonEmpty = <T>(a: readonly T[] | undefined) => (a && a.length > 0 ? [...a] : undefined);

/** CPU percent of this process, recomputed when the last sample is at least 1s old. */
export class CpuSampler {
  private lastWall: number;
  private lastCpu: number;
  private pcpu = 0;

  constructor(startWallMs: number) {
    // The first window runs from process start, as the reference's first sample does.
    this.lastWall = startWallMs;
    this.lastCpu = 0;
  }

  /** Percent of one core, one decimal (150 = one and a half cores busy). */
  sample(now = nowMs()): number {
    const wall = now - this.lastWall;
    if (wall >= 1000) {
      const u = nodeBuiltin("node:process").cpuUsage();
      const cpuMs = (u.user + u.system) / 1000;
      this.pcpu = Math.round(((cpuMs - this.lastCpu) / wall) * 1000) / 10;
      this.lastCpu = cpuMs;
      this.lastWall = now;
    }
    return Math.max(0, this.pcpu);
  }
}

function websocketVarz(src: MonitorSource): Record<string, unknown> {
  const ws = src.options.websocket;
  if (ws.port === 0) return {};
  const wsAuth = src.options.auth.websocket;
  return {
    host: ws.host || undefined,
    port: src.ports.websocket ?? ws.port,
    advertise: ws.advertise || undefined,
    no_auth_user: wsAuth?.noAuthUser || undefined,
    jwt_cookie: ws.jwtCookie || undefined,
    handshake_timeout: ws.handshakeTimeoutMs > 0 ? msToNs(ws.handshakeTimeoutMs) : undefined,
    auth_timeout: wsAuth?.timeoutMs ? secs(wsAuth.timeoutMs) : undefined,
    no_tls: ws.noTls || undefined,
    tls_map: ws.tls?.verifyAndMap || undefined,
    tls_pinned_certs: nonEmpty(ws.tls?.pinnedCerts),
    same_origin: ws.sameOrigin || undefined,
    allowed_origins: nonEmpty(ws.allowedOrigins),
    compression: ws.compression || undefined,
  };
}

function leafVarz(src: MonitorSource): Record<string, unknown> {
  const ln = src.options.leafnodes;
  const remotes = ln.remotes.map((r) => {
    const deny = r.denyImports.length || r.denyExports.length
      ? { exports: nonEmpty(r.denyExports), imports: nonEmpty(r.denyImports) }
      : undefined;
    return {
      local_account: r.account ?? "$G",
      tls_timeout: r.tls ? secs(r.tls.timeoutMs) : undefined,
      urls: nonEmpty(r.urls.map(urlHost)),
      deny,
    };
  });
  if (ln.port === 0) return remotes.length ? { remotes } : {};
  return {
    host: ln.host || undefined,
    port: src.ports.leafnode ?? ln.port,
    auth_timeout: ln.authTimeoutMs ? secs(ln.authTimeoutMs) : undefined,
    tls_timeout: secs(ln.tls?.timeoutMs ?? 2000),
    tls_required: ln.tls ? true : undefined,
    tls_verify: ln.tls?.verify || undefined,
    remotes: remotes.length ? remotes : undefined,
  };
}

/** Go's `url.URL.Host` of a configured URL. */
function urlHost(u: string): string {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/?#]*)/i.exec(u);
  return m ? m[1] : "";
}

/** Builds the `/varz` object. `httpReqStats` already counts this request. */
export function varz(
  src: MonitorSource,
  httpReqStats: Map<string, number>,
  cpu: CpuSampler,
  now: number,
): object {
  const o = src.options;
  const info = src.baseInfo();
  const auth = src.authenticator;
  let subscriptions = 0;
  for (const a of src.accounts.all()) subscriptions += a.sublist.count;
  const start = src.startedAt.getTime();
  return {
    server_id: src.serverId,
    server_name: src.serverName,
    version: info.version,
    proto: info.proto,
    go: info.go,
    host: info.host,
    port: info.port,
    auth_required: (auth.authEnforced?.("STANDARD") ?? auth.authRequired("STANDARD")) ||
      undefined,
    tls_required: o.tls && !o.allowNonTls ? true : undefined,
    tls_verify: o.tls?.verify || undefined,
    max_connections: o.maxConnections,
    max_subscriptions: o.maxSubscriptions || undefined,
    ping_interval: msToNs(o.pingIntervalMs),
    ping_max: o.pingMax,
    http_host: o.monitor.host,
    http_port: o.monitor.port,
    http_base_path: o.monitor.basePath,
    https_port: o.monitor.httpsPort ?? 0,
    auth_timeout: secs(o.authTimeoutMs),
    max_control_line: o.maxControlLine,
    max_payload: o.maxPayload,
    max_pending: o.maxPending,
    cluster: o.clusterName ? { name: o.clusterName } : {},
    gateway: {},
    leaf: leafVarz(src),
    mqtt: {},
    websocket: websocketVarz(src),
    jetstream: {},
    tls_timeout: secs(o.tls?.timeoutMs ?? 2000),
    write_deadline: msToNs(o.writeDeadlineMs),
    start: rfc3339(start),
    now: rfc3339(now),
    uptime: uptime(now - start),
    mem: Deno.memoryUsage().rss,
    cores: navigator.hardwareConcurrency,
    gomaxprocs: 1,
    cpu: cpu.sample(now),
    connections: src.numClients,
    total_connections: src.totalConnections,
    routes: 0,
    remotes: 0,
    leafnodes: [...src.leafConnections()].filter((l) => l.isBound).length,
    in_msgs: src.stats.inMsgs,
    out_msgs: src.stats.outMsgs,
    in_bytes: src.stats.inBytes,
    out_bytes: src.stats.outBytes,
    slow_consumers: src.stats.slowConsumers,
    subscriptions,
    http_req_stats: sortedMap(httpReqStats),
    config_load_time: rfc3339((src.configLoadedAt ?? src.startedAt).getTime()),
    tags: o.tags?.length ? o.tags : undefined,
    ...operatorVarz(o),
  };
}

/** Operator mode: the operator JWTs, their claims and the system account (omitempty). */
function operatorVarz(o: ServerOptions): Record<string, unknown> {
  const op = o.operator;
  const out: Record<string, unknown> = {};
  if (op.operatorJwts.length) {
    out.trusted_operators_jwt = [...op.operatorJwts];
    out.trusted_operators_claim = op.operatorJwts.map((j) => goOrder(peekClaims(j)));
  }
  if (op.systemAccount) out.system_account = op.systemAccount;
  return out;
}

const CLAIM_ORDER = ["aud", "exp", "jti", "iat", "iss", "name", "nbf", "sub", "nats"];
const OPERATOR_ORDER = [
  "signing_keys",
  "account_server_url",
  "operator_service_urls",
  "system_account",
  "assert_server_version",
  "strict_signing_key_usage",
  "tags",
  "type",
  "version",
];

function pick(o: Record<string, unknown>, order: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of order) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** Operator claims in the field order Go marshals `jwt.OperatorClaims`. */
function goOrder(c: Record<string, unknown>): Record<string, unknown> {
  const out = pick(c, CLAIM_ORDER);
  if (c.nats && typeof c.nats === "object") {
    out.nats = pick(c.nats as Record<string, unknown>, OPERATOR_ORDER);
  }
  return out;
}
