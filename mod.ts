/**
 * A NATS server for Deno: the NATS client protocol over TCP and WebSocket, configured by an
 * unchanged nats-server config file. Embed it in tests or programs with {@link startServer}.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 *
 * const server = await startServer({ host: "127.0.0.1", port: -1 });
 * console.log(`nats://127.0.0.1:${server.ports.client}`);
 * await server.close();
 * ```
 *
 * @module
 */
import { defaultOptions, type ServerOptions } from "./lib/config/options.ts";
import { optionsFromText, validateOptions } from "./lib/config/mod.ts";
import { createLogger, silentLogger } from "./lib/server/log.ts";
import { NatsServer, type ServerPorts, VERSION } from "./lib/server/server.ts";
import { frozenCopy } from "./lib/server/options_store.ts";
import type { Logger } from "./lib/protocol/context.ts";

export type {
  LeafNodeAuthOptions,
  LeafNodeOptions,
  LeafNodeUser,
  MonitorOptions,
  ServerOptions,
  TlsOptions,
  WebSocketOptions,
} from "./lib/config/options.ts";
export type {
  AccountConfig,
  AuthConfig,
  ExportConfig,
  ImportConfig,
  Permissions,
  ResponsePermission,
  SimpleAuth,
  SubjectPermission,
  UserConfig,
} from "./lib/auth/types.ts";
export type { ServerPorts } from "./lib/server/server.ts";
export type { Logger } from "./lib/protocol/context.ts";
export type { ConnectionKind } from "./lib/core/kinds.ts";
export { defaultOptions } from "./lib/config/options.ts";
export { VERSION } from "./lib/server/server.ts";

/** What {@link startServer} accepts: option overrides and/or config text, plus logging. */
export interface StartOptions extends Partial<Omit<ServerOptions, "auth" | "websocket">> {
  /** Config text in nats-server format, applied before the other fields here. */
  config?: string;
  /** File name used in config error messages (and base for `include`). */
  configFile?: string;
  /** Auth settings (see `AuthConfig`); overrides the config text's. */
  auth?: ServerOptions["auth"];
  /** WebSocket settings, merged over the defaults. */
  websocket?: Partial<ServerOptions["websocket"]>;
  /** "silent" (default for embedding), "stderr", or your own {@link Logger}. */
  log?: "silent" | "stderr" | Logger;
}

/** A running server. */
export interface ServerHandle {
  /** The bound ports (real numbers when -1 was asked for). */
  readonly ports: ServerPorts;
  /** The server's nkey id (`N…`). */
  readonly serverId: string;
  /**
   * The options the server runs with: a deep-frozen copy of what was passed (mutating the
   * objects handed to {@link startServer} does not reach the running server).
   */
  readonly options: ServerOptions;
  /** Current counters: open connections, messages and bytes in/out, slow consumers. */
  stats(): ServerStatsSnapshot;
  /** Closes listeners and connections; resolves when done. */
  close(): Promise<void>;
}

/** A snapshot of the server's counters. */
export interface ServerStatsSnapshot {
  /** Open client connections. */
  connections: number;
  /** Messages received from clients. */
  inMsgs: number;
  /** Messages delivered to clients. */
  outMsgs: number;
  /** Payload bytes received. */
  inBytes: number;
  /** Payload bytes delivered. */
  outBytes: number;
  /** Connections closed as slow consumers. */
  slowConsumers: number;
}

/** Error thrown when options or config text are invalid; `errors` holds each message. */
export class ServerConfigError extends Error {
  /** The individual error messages, in the reference's wording. */
  readonly errors: string[];
  /**
   * Creates the error from its messages.
   * @param errors the messages, one per problem
   */
  constructor(errors: string[]) {
    super(errors.join("\n"));
    this.name = "ServerConfigError";
    this.errors = errors;
  }
}

/**
 * Starts a server. With no arguments it listens on 0.0.0.0:4222 like nats-server; pass
 * `{ port: -1 }` for a random port (see `ports.client`).
 *
 * @throws {ServerConfigError} when the config text or options are invalid.
 */
export async function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  const { config, configFile, log, auth, websocket, ...overrides } = opts;
  let base: ServerOptions = defaultOptions();
  if (config !== undefined) {
    const loaded = optionsFromText(config, { file: configFile ?? "<config>" });
    if (loaded.errors.length) throw new ServerConfigError(loaded.errors.map(String));
    base = structuredClone(loaded.options) as ServerOptions;
  }
  const options: ServerOptions = {
    ...base,
    ...overrides,
    auth: auth ?? base.auth,
    websocket: { ...base.websocket, ...websocket },
  };
  const problems = validateOptions(options);
  if (problems.length) throw new ServerConfigError(problems);
  const logger = log === "stderr"
    ? createLogger({ debug: options.debug, trace: options.trace, logtime: options.logtime })
    : typeof log === "object"
    ? log
    : silentLogger;
  const server = new NatsServer(frozenCopy(options), logger);
  await server.start();
  return {
    ports: server.ports,
    serverId: server.serverId,
    get options() {
      return server.options;
    },
    stats: () => ({ ...server.stats, connections: server.numClients }),
    close: () => server.shutdown(),
  };
}

/** The reference version this server matches. */
export const REFERENCE_VERSION: string = VERSION;
