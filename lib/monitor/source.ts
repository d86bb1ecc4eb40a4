/**
 * What monitoring reads from the server. `NatsServer` satisfies it; the monitor never imports
 * the server, and nothing here changes server state.
 *
 * @module
 */
import type { Authenticator } from "../auth/types.ts";
import type { ServerOptions } from "../config/options.ts";
import type { ClientConnection } from "../protocol/client.ts";
import type { Logger, ServerStats } from "../protocol/context.ts";
import type { Sublist } from "../routing/sublist.ts";
import type { ClientSub } from "../protocol/subscription.ts";
import type { ClosedConnections } from "./closed.ts";

/** An account as monitoring sees it. */
export interface MonitoredAccount {
  readonly name: string;
  readonly sublist: Sublist<ClientSub>;
  /** When the account was created (epoch ms): `update_time` of `/accountz`. */
  readonly createdAt: number;
}

/** The accounts of the server, looked up without creating any. */
export interface MonitoredAccounts {
  find(name: string): MonitoredAccount | undefined;
  all(): Iterable<MonitoredAccount>;
}

/** The server's side of monitoring. */
export interface MonitorSource {
  readonly serverId: string;
  readonly serverName: string;
  readonly options: ServerOptions;
  readonly authenticator: Authenticator;
  readonly log: Logger;
  readonly stats: ServerStats;
  readonly startedAt: Date;
  /** When the config in force was loaded (start, or the last reload): `config_load_time`. */
  readonly configLoadedAt?: Date;
  /** Bound ports (real numbers, not -1). */
  readonly ports: { client: number; websocket?: number; monitor?: number };
  /** Client connections accepted since start (`total_connections`). */
  readonly totalConnections: number;
  /** Number of open client connections. */
  readonly numClients: number;
  /** The ring of recently closed connections (`/connz?state=closed`). */
  readonly closedConnections?: ClosedConnections;
  readonly accounts: MonitoredAccounts;
  /** The INFO object (server_id, version, go, host, port, ...). */
  baseInfo(): Record<string, unknown>;
  /** Open client connections, in cid order. */
  connections(): Iterable<ClientConnection>;
  /** The open connection with this cid. */
  connection(cid: number): ClientConnection | undefined;
}
