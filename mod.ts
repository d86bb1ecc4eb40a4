/**
 * A NATS server for Deno: the NATS client protocol over TCP and WebSocket, configured by an
 * unchanged nats-server config file. Embed it in tests or programs with {@link startServer}.
 *
 * @example
 * ```ts
 * import { startServer } from "./mod.ts";
 *
 * await using server = await startServer({ host: "127.0.0.1", port: -1 });
 * console.log(server.url); // nats://127.0.0.1:<random port>
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
  LeafProxyOptions,
  MonitorOptions,
  OperatorOptions,
  RemoteLeafOptions,
  ResolverOptions,
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
export interface StartOptions
  extends Partial<Omit<ServerOptions, "auth" | "websocket" | "monitor">> {
  /** Config text in nats-server format, applied before the other fields here. */
  config?: string;
  /** File name used in config error messages (and base for `include`). */
  configFile?: string;
  /** Auth settings (see `AuthConfig`); overrides the config text's. */
  auth?: ServerOptions["auth"];
  /** WebSocket settings, merged over the defaults (and the config text's). */
  websocket?: Partial<ServerOptions["websocket"]>;
  /**
   * HTTP monitoring, merged over the defaults (and the config text's): `{ port: -1 }` serves it
   * on a random port of `0.0.0.0`.
   */
  monitor?: Partial<ServerOptions["monitor"]>;
  /** "silent" (default for embedding), "stderr", or your own {@link Logger}. */
  log?: "silent" | "stderr" | Logger;
}

/**
 * A running server. `await using` closes it at the end of the scope
 * (`Symbol.asyncDispose` is {@link ServerHandle.close}).
 */
export interface ServerHandle extends AsyncDisposable {
  /** The bound ports (real numbers when -1 was asked for). */
  readonly ports: ServerPorts;
  /**
   * Where NATS clients connect: `nats://host:port` with the bound port (`0.0.0.0` is given as
   * `127.0.0.1`, `::` as `[::1]`).
   */
  readonly url: string;
  /** The WebSocket URL (`ws://` or `wss://host:port`) when `websocket` is configured. */
  readonly wsUrl?: string;
  /** The monitoring base URL (`http://host:port` plus `http_base_path`) when enabled. */
  readonly monitorUrl?: string;
  /** The server's nkey id (`N…`). */
  readonly serverId: string;
  /**
   * The options the server runs with: a deep-frozen copy of what was passed (mutating the
   * objects handed to {@link startServer} does not reach the running server).
   */
  readonly options: ServerOptions;
  /** Current counters: open connections, messages and bytes in/out, slow consumers. */
  stats(): ServerStatsSnapshot;
  /**
   * Reloads with new config text, applied under the same option overrides as at start, as
   * SIGHUP reloads a config file: what nats-server 2.9.10 can reload is applied (clients are
   * re-checked), and anything else refuses the whole reload.
   * @param config config text in nats-server format
   * @throws {ServerConfigError} with the reference's text when refused; nothing changed then.
   */
  reload(config: string): Promise<void>;
  /** Enters lame-duck mode (as SIGUSR2); resolves when the server has shut down. */
  lameDuck(): Promise<void>;
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
 * `{ port: -1 }` for a random port (see {@link ServerHandle.url}).
 *
 * @example Embedded in a test, closed by `await using`
 * ```ts
 * import { startServer } from "./mod.ts";
 *
 * await using server = await startServer({
 *   host: "127.0.0.1",
 *   port: -1,
 *   config: "websocket { port: -1, no_tls: true }",
 *   monitor: { host: "127.0.0.1", port: -1 },
 * });
 * console.log(server.url, server.wsUrl, server.monitorUrl);
 * const varz = await (await fetch(`${server.monitorUrl}/varz`)).json();
 * console.log(varz.connections); // 0
 * ```
 *
 * @throws {ServerConfigError} when the config text or options are invalid.
 * @throws {Error} when a port cannot be bound, with the reference's fatal text naming the
 * address, e.g. `Error listening on port: 127.0.0.1:4222, "listen tcp 127.0.0.1:4222: bind:
 * address already in use"`.
 */
export async function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  const options = resolveOptions(opts);
  const log = opts.log;
  const logger = log === "stderr"
    ? createLogger({ debug: options.debug, trace: options.trace, logtime: options.logtime })
    : typeof log === "object"
    ? log
    : silentLogger;
  const server = new NatsServer(frozenCopy(options), logger);
  await server.start();
  const close = () => server.shutdown();
  return {
    ports: server.ports,
    ...serverUrls(options, server.ports),
    serverId: server.serverId,
    get options() {
      return server.options;
    },
    stats: () => ({ ...server.stats, connections: server.numClients }),
    async reload(config: string) {
      const next = resolveOptions({ ...opts, config });
      server.reloadSource = () => ({ options: next, errors: [] });
      const error = await server.reload();
      if (error !== undefined) throw new ServerConfigError([error]);
    },
    lameDuck: () => server.lameDuck(),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Config text (when given) under the option overrides, validated; throws ServerConfigError. */
function resolveOptions(opts: StartOptions): ServerOptions {
  const { config, configFile, log: _log, auth, websocket, monitor, ...overrides } = opts;
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
    monitor: { ...base.monitor, ...monitor },
  };
  const problems = validateOptions(options);
  if (problems.length) throw new ServerConfigError(problems);
  return options;
}

/** A host clients can dial: the wildcard addresses become loopback. */
function dialHost(host: string): string {
  if (host === "0.0.0.0" || host === "") return "127.0.0.1";
  if (host === "::") return "[::1]";
  return host.includes(":") ? `[${host}]` : host;
}

function serverUrls(
  o: ServerOptions,
  ports: ServerPorts,
): Pick<ServerHandle, "url" | "wsUrl" | "monitorUrl"> {
  const base = o.monitor.basePath.replace(/^\/*/, "/").replace(/\/+$/, "");
  return {
    url: `nats://${dialHost(o.host)}:${ports.client}`,
    wsUrl: ports.websocket === undefined
      ? undefined
      : `${o.websocket.noTls ? "ws" : "wss"}://${dialHost(o.websocket.host)}:${ports.websocket}`,
    monitorUrl: ports.monitor === undefined
      ? undefined
      : `http://${dialHost(o.monitor.host)}:${ports.monitor}${base}`,
  };
}

/** The reference version this server matches. */
export const REFERENCE_VERSION: string = VERSION;
