/**
 * HTTP monitoring as nats-server 2.9.10 serves it: `/`, `/varz`, `/connz`, `/subsz`
 * (`/subscriptionsz`), `/healthz`, `/accountz`, `/routez`, `/gatewayz`, `/leafz`, `/jsz`.
 * The server starts it with {@link startMonitor} when `http`/`http_port`/`-m` is set and
 * implements {@link MonitorSource}; closed connections are kept in {@link ClosedConnections}.
 *
 * @example
 * ```ts
 * import { startServer } from "../../mod.ts";
 *
 * const server = await startServer({ config: 'http: "127.0.0.1:-1"', host: "127.0.0.1", port: -1 });
 * const res = await fetch(`http://127.0.0.1:${server.ports.monitor}/varz`);
 * console.log((await res.json()).version); // "2.9.10"
 * await server.close();
 * ```
 *
 * @module
 */
export {
  cleanPath,
  type MonitorTls,
  normalizeBasePath,
  type RunningMonitor,
  startMonitor,
} from "./http.ts";
export { ClosedConnections, DEFAULT_MAX_CLOSED } from "./closed.ts";
export type { MonitoredAccount, MonitoredAccounts, MonitorSource } from "./source.ts";
export type { ConnRecord, SubDetail } from "./conn_info.ts";
