/**
 * The server: owns the listeners, the accounts and the client registry, and is the
 * `ServerContext` every client connection consults. Transports feed bytes into
 * `ClientConnection`s; nothing here parses the protocol.
 */
import type { ServerLogger } from "./log.ts";
import { joinHostPort } from "../core/gofmt.ts";
import { createAuthenticator, warnings as authWarnings } from "../auth/authenticator.ts";
import { createNonce, createServerId } from "../auth/nkeys.ts";
import { createPermissionChecker } from "../auth/permissions.ts";
import type { Authenticator, Permissions } from "../auth/types.ts";
import type { ServerOptions } from "../config/options.ts";
import { ClientConnection } from "../protocol/client.ts";
import type {
  Account,
  AuthenticatedClient,
  Logger,
  PermissionChecker,
  ServerContext,
  ServerStats,
} from "../protocol/context.ts";
import { Err } from "../protocol/errors.ts";
import { Closed, SERVER_SHUTDOWN_CLOSE } from "../core/close_reasons.ts";
import type { Transport } from "../protocol/transport.ts";
import { AccountRegistry } from "../accounts/registry.ts";
import { JwtAccountDefinitions } from "../accounts/jwt_accounts.ts";
import { TcpListener, TcpTransport } from "../transport/tcp.ts";
import { type NetListener, StartTlsTransport, type TlsAcceptor } from "../transport/tls_server.ts";
import type net from "node:net";
import { readWsTls, type RunningWebsocket, startWebsocket } from "./websocket.ts";
import { type DerivedFrom, OptionsStore } from "./options_store.ts";
import { MemoryReclaimer } from "./memory_reclaim.ts";
import { goListenError } from "../core/listen_error.ts";
import {
  createOperatorState,
  JwtConnections,
  operatorErrors,
  type OperatorState,
  storePreloads,
} from "./operator.ts";
import { systemAccountError, systemOnlyAuth, SystemServices } from "./system.ts";
import { loadedMaterial, reloadOptions, type ReloadSource, type ReloadTarget } from "./reload.ts";
import type { LoadedMaterial } from "./reload_diff.ts";
import { type LameDuckTarget, runLameDuck } from "./lame_duck.ts";
import type { SignalTarget } from "./signals.ts";
import { loadConfigFile } from "../config/mod.ts";
import { formatConfigError } from "../config/errors.ts";
import {
  ClosedConnections,
  type MonitorTls,
  type RunningMonitor,
  startMonitor,
} from "../monitor/mod.ts";
import { LeafNodes } from "./leafnodes.ts";
import { listenTls, readAfterUpgrade, tlsAcceptor } from "./start_tls.ts";
import type { LeafConnection } from "../protocol/leaf.ts";

/** The version this server reports (the reference it matches). */
export const VERSION = "2.9.10";

/** Bound ports after start (the real ones when -1/0 was asked for). */
export interface ServerPorts {
  /** The client (NATS protocol) port. */
  client: number;
  /** The WebSocket port, when `websocket {}` is configured. */
  websocket?: number;
  /** The HTTP monitoring port, when configured. */
  monitor?: number;
  /** The leafnode port, when `leafnodes { listen }` is configured. */
  leafnode?: number;
}

/** What the server derives from one options object (rebuilt when the options are swapped). */
export interface ServerState extends DerivedFrom {
  readonly authenticator: Authenticator;
  /** Accounts with their import/export links (built from `options.auth.accounts`). */
  readonly accounts: AccountRegistry;
  /** Operator mode: account JWTs and their resolver. */
  readonly operator?: OperatorState;
}

/**
 * Builds the state for `options`. On a swap the accounts registry stays (the subscriptions
 * live in its accounts): changed accounts are redefined in place, removed ones dropped, new
 * ones added, through its run-time API. The authenticator is always rebuilt.
 */
export function deriveServerState(options: ServerOptions, previous?: ServerState): ServerState {
  // Kept across swaps while the operator config is unchanged: pushed account JWTs live in it.
  const sameOperator = previous?.operator !== undefined &&
    JSON.stringify(previous.options.operator) === JSON.stringify(options.operator) &&
    JSON.stringify(previous.options.auth.trustedKeys) === JSON.stringify(options.auth.trustedKeys);
  const operator = sameOperator ? previous.operator : createOperatorState(options);
  const authenticator = createAuthenticator(systemOnlyAuth(options), {
    jwtAccounts: operator?.store,
  });
  if (!previous) {
    const accounts = new AccountRegistry(options.auth.accounts);
    accounts.get("$G");
    return { options, authenticator, accounts, operator };
  }
  const accounts = previous.accounts;
  const was = new Map(previous.options.auth.accounts.map((a) => [a.name, JSON.stringify(a)]));
  const now = new Set(options.auth.accounts.map((a) => a.name));
  for (const name of was.keys()) if (!now.has(name)) accounts.remove(name);
  for (const def of options.auth.accounts) {
    if (was.get(def.name) !== JSON.stringify(def)) accounts.define(def);
  }
  return { options, authenticator, accounts, operator };
}

/** A running NATS server. */
export class NatsServer implements ServerContext, ReloadTarget, SignalTarget {
  /** The options in force and what is derived from them; `swap` installs new options. */
  readonly store: OptionsStore<ServerState>;
  readonly log: Logger;
  readonly stats: ServerStats = {
    inMsgs: 0,
    outMsgs: 0,
    inBytes: 0,
    outBytes: 0,
    slowConsumers: 0,
  };
  readonly serverId = createServerId();
  readonly serverName: string;
  readonly ports: ServerPorts = { client: 0 };
  readonly startedAt = new Date();
  /** When the options in force were loaded (`config_load_time` in /varz). */
  configLoadedAt = this.startedAt;
  /** Client connections accepted since start (monitoring's `total_connections`). */
  totalConnections = 0;
  /** Recently closed connections, kept while monitoring is enabled. */
  readonly closedConnections?: ClosedConnections;
  private readonly clients_ = new Map<number, ClientConnection>();
  /** Client-port TLS acceptors replaced by a reload, closed at shutdown. */
  private readonly retiredAcceptors: TlsAcceptor[] = [];
  private readonly listenClients: boolean;
  /** Operator mode: JWT users per account (limits, expiry, live revocations). */
  private readonly jwtConnections?: JwtConnections;
  /** The system account's services, when a system account is configured. */
  system?: SystemServices;
  private nextCid = 1;
  private tcp?: TcpListener;
  /** With a `tls {}` block: the client port on node:net, upgraded after INFO. */
  private tlsPort?: { listener: NetListener; acceptor: TlsAcceptor };
  private ws?: RunningWebsocket;
  /** Leafnode listener, websocket leafnodes and solicited remotes. */
  readonly leafnodes: LeafNodes;
  private monitor?: RunningMonitor;
  private sweepTimer?: ReturnType<typeof setInterval>;
  /** Returns emptied heap pages to the OS once load went away or a rise settled. */
  private readonly reclaimer = new MemoryReclaimer(
    () => this.load(),
    undefined,
    () => this.stats.inMsgs + this.stats.outMsgs,
  );
  private shuttingDown = false;
  private acceptingClients = true;
  /** The ports file, removed at shutdown (the pid file stays, as in the reference). */
  private portsFile?: string;
  private lameDuckRun?: Promise<void>;
  private reloading: Promise<unknown> = Promise.resolve();
  /**
   * Where `reload()` gets new options; by default the config file again. The CLI sets one that
   * also applies the command-line flags, as the reference does.
   */
  reloadSource?: ReloadSource;
  /** What was read from files at start (or the last reload): the TLS material in use. */
  loaded: LoadedMaterial = { tls: "", wsTls: "" };
  private info?: { generation: number; value: Record<string, unknown> };
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  /**
   * `options` is deep-copied and frozen unless it already is frozen.
   * @param options what to serve
   * @param log where log lines go
   * @param listenClients false opens no client port (deploy mode: WebSocket only)
   */
  constructor(options: ServerOptions, log: Logger, listenClients = true) {
    this.log = log;
    this.listenClients = listenClients;
    this.store = new OptionsStore(options, deriveServerState);
    this.store.onSwap((previous, current) => {
      if (previous.authenticator !== current.authenticator) previous.authenticator.close?.();
      if (previous.accounts !== current.accounts) previous.accounts.close();
    });
    options = this.store.options;
    this.serverName = options.serverName || this.serverId;
    // deno-lint-ignore no-this-alias
    const server = this;
    this.leafnodes = new LeafNodes({
      get options() {
        return server.options;
      },
      get authenticator() {
        return server.authenticator;
      },
      log,
      stats: this.stats,
      serverId: this.serverId,
      serverName: this.serverName,
      baseInfo: () => this.baseInfo(),
      permissionChecker: (p) => this.permissionChecker(p),
      account: (name) => this.account(name),
      nextCid: () => this.nextCid++,
    });
    if (monitoringEnabled(options)) this.closedConnections = new ClosedConnections();
    const operator = this.store.current.operator;
    if (operator) {
      this.jwtConnections = new JwtConnections(operator.store);
      new JwtAccountDefinitions(operator.store, this.accounts, (e) => this.log.error(e));
    }
    this.done = new Promise((r) => this.resolveDone = r);
  }

  /** The options in force (frozen). */
  get options(): ServerOptions {
    return this.store.options;
  }

  /** The authenticator built from the options in force. */
  get authenticator(): Authenticator {
    return this.store.current.authenticator;
  }

  /** Accounts with their import/export links (built from `options.auth.accounts`). */
  get accounts(): AccountRegistry {
    return this.store.current.accounts;
  }

  /** Opens the listeners and starts serving. */
  async start(): Promise<void> {
    const o = this.options;
    // Imports the config layer could not rule out (cycles, bad subject mappings) refuse to
    // start, as in the reference.
    if (this.accounts.errors.length) throw new Error(this.accounts.errors.join("\n"));
    const sysError = systemAccountError(o);
    if (sysError) throw new Error(sysError);
    const opErrors = operatorErrors(o, VERSION);
    if (opErrors.length) throw new Error(opErrors[0]);
    // As the reference: a URL resolver must answer its base URL before the server starts.
    const operator = this.store.current.operator;
    if (operator?.resolver.kind === "url") await operator.resolver.fetch("");
    if (operator) await storePreloads(o, operator);
    this.log.info(`Starting nats-server`);
    this.log.info(`  Version:  ${VERSION}`);
    this.log.info(`  Git:      [not set]`);
    if (o.clusterName) this.log.info(`  Cluster:  ${o.clusterName}`);
    this.log.info(`  Name:     ${this.serverName}`);
    this.log.info(`  ID:       ${this.serverId}`);
    for (const w of authWarnings(o.auth)) this.log.warn(w);
    if (o.configFile) this.log.info(`Using configuration file: ${o.configFile}`);
    // Monitoring first, as the reference does (its log line comes before the listeners').
    if (monitoringEnabled(o)) {
      this.monitor = startMonitor(this, await monitorTls(o));
      this.ports.monitor = this.monitor.port;
    }
    const port = o.port === -1 ? 0 : o.port;
    try {
      this.loaded = loadedMaterial(o);
      if (!this.listenClients) {
        // Deploy mode: the host gives one port, served by the WebSocket listener.
      } else if (o.tls) {
        this.tlsPort = await listenTls(o.tls, o.host, o.port, (raw) => this.acceptTls(raw));
        this.ports.client = this.tlsPort.listener.port;
      } else {
        this.tcp = new TcpListener(o.host, port);
        this.ports.client = this.tcp.addr.port;
      }
    } catch (err) {
      await this.monitor?.close();
      if (isPermissionError(err)) throw err;
      // The reference's fatal line names the address: `Error listening on port: h:p, "listen tcp…"`.
      const addr = joinHostPort(o.host, port);
      throw new Error(`Error listening on port: ${addr}, "${goListenError(err, o.host, port)}"`);
    }
    if (this.listenClients) {
      this.log.info(
        `Listening for client connections on ${joinHostPort(o.host, this.ports.client)}`,
      );
    }
    if (o.tls && this.listenClients) this.log.info("TLS required for client connections");
    this.tcp?.serve((conn) => this.acceptTcp(conn)).catch((err) => {
      if (!this.shuttingDown) this.log.error(`Error accepting client connection: ${err}`);
    });
    try {
      this.ws = await startWebsocket(o.websocket, this.log, {
        onClient: (transport) => this.acceptWebsocket(transport),
        onLeafnode: o.leafnodes.port !== 0
          ? (transport) => this.leafnodes.acceptWebsocket(transport)
          : undefined,
        maxDecompressedBytes: o.maxPending,
      });
      await this.leafnodes.start();
      if (this.leafnodes.port) this.ports.leafnode = this.leafnodes.port;
    } catch (err) {
      this.shuttingDown = true;
      this.tcp?.close();
      await this.ws?.listener.close(SERVER_SHUTDOWN_CLOSE);
      await this.leafnodes.close();
      await this.closeTlsPort();
      await this.monitor?.close();
      this.authenticator.close?.();
      this.accounts.close();
      this.resolveDone();
      throw err;
    }
    if (this.ws) this.ports.websocket = this.ws.listener.port;
    this.startSystemAccount();
    this.loaded.wsTlsSwappable = this.ws?.listener.replaceTls !== undefined;
    this.sweepTimer = setInterval(() => this.sweepWriteDeadlines(), sweepInterval(o));
    this.reclaimer.start();
    this.writeProcessFiles();
    this.log.info("Server is ready");
  }

  /** When the server started (epoch ms). */
  get serverStartedMs(): number {
    return this.startedAt.getTime();
  }

  /** The system account (config `system_account` or the operator's) and its services. */
  private startSystemAccount(): void {
    const name = this.options.operator.systemAccount;
    if (!name) return;
    const op = this.store.current.operator;
    const operator = op
      ? {
        store: op.store,
        resolver: op.resolver,
        operatorKeys: new Set(this.options.auth.trustedKeys),
        onDeleted: (a: string) => this.jwtConnections?.expireAccount(a),
      }
      : undefined;
    this.system = new SystemServices(this, name, operator);
    this.system.start();
  }

  /** Connections plus subscriptions (what the memory reclaimer watches). */
  private load(): number {
    let n = this.clients_.size;
    for (const a of this.accounts.all()) n += a.sublist.count;
    return n;
  }

  /** `pid_file` and `ports_file_dir`, written before "Server is ready" as the reference does. */
  private writeProcessFiles(): void {
    this.writePidFile();
    this.rewritePortsFile(undefined);
  }

  /** Writes `pid_file` (left in place at exit, as the reference does). */
  writePidFile(): void {
    const o = this.options;
    if (o.pidFile) Deno.writeTextFileSync(o.pidFile, String(Deno.pid));
  }

  /** Removes the ports file written for `previousDir` and writes one for the options in force. */
  rewritePortsFile(_previousDir: string | undefined): void {
    this.removePortsFile();
    const dir = this.options.portsFileDir;
    if (!dir) return;
    const file = `${dir}/nats-server_${Deno.pid}.ports`;
    Deno.writeTextFileSync(file, JSON.stringify(this.portsInfo()));
    this.portsFile = file;
  }

  private removePortsFile(): void {
    if (!this.portsFile) return;
    try {
      Deno.removeSync(this.portsFile);
    } catch { /* already gone */ }
    this.portsFile = undefined;
  }

  /** The ports file content (`--ports_file_dir`), as the reference writes it. */
  portsInfo(): Record<string, string[]> {
    const hosts = expandHost(this.options.host);
    const info: Record<string, string[]> = {};
    if (this.listenClients) {
      info.nats = hosts.map((h) => `nats://${joinHostPort(h, this.ports.client)}`);
    }
    if (this.monitor) {
      const { scheme, port } = this.monitor;
      info.monitoring = expandHost(this.options.monitor.host).map((h) =>
        `${scheme}://${joinHostPort(h, port)}`
      );
    }
    if (this.ws) {
      const { scheme, listener } = this.ws;
      info.websocket = expandHost(this.options.websocket.host).map((h) =>
        `${scheme}://${joinHostPort(h, listener.port)}`
      );
    }
    return info;
  }

  /** Resolves when the server has shut down. */
  get finished(): Promise<void> {
    return this.done;
  }

  /** Number of open client connections. */
  get numClients(): number {
    return this.clients_.size;
  }

  /** Open client connections, in cid order. */
  connections(): IterableIterator<ClientConnection> {
    return this.clients_.values();
  }

  /** Open leafnode connections (monitoring). */
  leafConnections(): Iterable<LeafConnection> {
    return this.leafnodes.connections();
  }

  /** The open client connection with this cid. */
  connection(cid: number): ClientConnection | undefined {
    return this.clients_.get(cid);
  }

  /** Whether the listeners still accept new connections (false after {@link stopAccepting}). */
  get accepting(): boolean {
    return this.acceptingClients;
  }

  /**
   * Stops accepting new connections on every listener (client port, TLS client port, both
   * WebSocket engines) without touching the connections already open; monitoring keeps
   * serving. Lame-duck mode starts with this.
   */
  stopAccepting(): void {
    if (!this.acceptingClients) return;
    this.acceptingClients = false;
    this.tcp?.close();
    this.tlsPort?.listener.stopAccepting();
    this.ws?.listener.stopAccepting();
  }

  // ---- operating: reload, lame duck, signals --------------------------------------------------

  /** Installs new options and rebuilds what derives from them (see {@link reload}). */
  swapOptions(next: ServerOptions): void {
    this.store.swap(next);
    this.configLoadedAt = new Date();
  }

  /** Open client connections (a snapshot). */
  clients(): ClientConnection[] {
    return [...this.clients_.values()];
  }

  /** Loads the client-port certificates of `next`; the returned function installs them. */
  async prepareTls(next: ServerOptions): Promise<() => void> {
    const acceptor = await tlsAcceptorFor(next);
    return () => {
      if (!this.tlsPort) return acceptor.close();
      // The old acceptor still finishes handshakes already started on it.
      this.retiredAcceptors.push(this.tlsPort.acceptor);
      this.tlsPort.acceptor = acceptor;
    };
  }

  /** Reads the WebSocket certificates of `next`; the returned function swaps them in. */
  async prepareWsTls(next: ServerOptions): Promise<() => void> {
    const tls = await readWsTls(next.websocket);
    return () => {
      if (tls) this.ws?.listener.replaceTls?.(tls);
    };
  }

  /**
   * Reloads the configuration (SIGHUP, `--signal reload`) as the reference does; a failure is
   * logged as `Failed to reload server configuration: <error>` and changes nothing. Resolves
   * with the error text, or undefined when the reload was applied. Reloads run one at a time.
   */
  reload(): Promise<string | undefined> {
    const run = this.reloading.then(() => this.reloadOnce());
    this.reloading = run;
    return run;
  }

  private async reloadOnce(): Promise<string | undefined> {
    if (this.shuttingDown) return "server is shutting down";
    let error: string | undefined;
    const source = this.reloadSource ?? this.configFileSource();
    if (!source) error = "can only reload config when a file is provided using -c or --config";
    else {
      const loaded = source();
      error = loaded.errors.length
        ? loaded.errors.join("\n")
        : await reloadOptions(this, loaded.options);
    }
    if (error !== undefined) this.log.error(`Failed to reload server configuration: ${error}`);
    return error;
  }

  private configFileSource(): ReloadSource | undefined {
    const file = this.options.configFile;
    if (!file) return undefined;
    return () => {
      const r = loadConfigFile(file);
      return { options: r.options, errors: r.errors.map(formatConfigError) };
    };
  }

  /** Whether lame-duck mode has started. */
  get inLameDuckMode(): boolean {
    return this.lameDuckRun !== undefined;
  }

  /**
   * Enters lame-duck mode (SIGUSR2, `--signal ldm`): stops accepting, sends `"ldm": true` to
   * clients that take async INFO, closes them spread over `lame_duck_duration` after
   * `lame_duck_grace_period`, then shuts down. Resolves when the server has shut down.
   */
  lameDuck(): Promise<void> {
    if (this.shuttingDown) return this.done;
    const target: LameDuckTarget = {
      log: this.log,
      stopAccepting: () => this.stopAccepting(),
      clients: () =>
        this.clients().map((c) => ({
          get takesAsyncInfo() {
            return c.takesAsyncInfo;
          },
          sendAsyncInfo: (extra: Record<string, unknown>) => c.sendAsyncInfo(extra),
          closeForShutdown: () => c.close(Closed.serverShutdown),
        })),
      shutdown: () => this.shutdown(),
      finished: this.done,
    };
    const o = this.options;
    this.lameDuckRun ??= runLameDuck(target, {
      durationMs: o.lameDuckDurationMs,
      gracePeriodMs: o.lameDuckGracePeriodMs,
    });
    return this.lameDuckRun;
  }

  /** SIGUSR1: reopens the log file (`File log re-opened`). */
  reopenLog(): void {
    const log = this.log as Partial<ServerLogger>;
    if (!log.reopen) this.log.info("File log re-open ignored, no logger");
    else if (log.reopen()) this.log.info("File log re-opened");
    else this.log.info("File log re-open ignored, not a file logger");
  }

  /** `Trapped "<signal>" signal` at debug level. */
  trapped(name: string): void {
    this.log.debug(`Trapped ${JSON.stringify(name)} signal`);
  }

  /** Closes the listeners and every connection (reason "Server Shutdown"). */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return this.done;
    this.shuttingDown = true;
    this.log.info("Initiating Shutdown...");
    this.tcp?.close();
    const monitorClosed = this.monitor?.close();
    clearInterval(this.sweepTimer);
    this.jwtConnections?.close();
    this.reclaimer.stop();
    this.authenticator.close?.();
    this.accounts.close();
    for (const c of [...this.clients_.values()]) c.close(Closed.serverShutdown, false);
    this.clients_.clear();
    await this.leafnodes.close();
    await this.ws?.listener.close(SERVER_SHUTDOWN_CLOSE);
    await this.closeTlsPort();
    await monitorClosed;
    this.removePortsFile();
    this.log.info("Server Exiting..");
    this.resolveDone();
  }

  // ---- ServerContext --------------------------------------------------------------------------

  /** The INFO template, rebuilt after the options are swapped. */
  baseInfo(): Record<string, unknown> {
    const generation = this.store.generation;
    if (this.info?.generation !== generation) {
      const o = this.options;
      const value = {
        server_id: this.serverId,
        server_name: this.serverName,
        version: VERSION,
        proto: 1,
        go: `deno${Deno.version.deno}`,
        ...advertisedHostPort(o.clientAdvertise, o.host, this.ports.client),
        headers: !o.noHeaderSupport,
        ...(o.tls && !o.allowNonTls ? { tls_required: true } : {}),
        ...(o.tls?.verify ? { tls_verify: true } : {}),
        ...(o.tls && o.allowNonTls ? { tls_available: true } : {}),
        ...(o.clusterName ? { cluster: o.clusterName } : {}),
        max_payload: o.maxPayload,
      };
      this.info = { generation, value };
    }
    return this.info.value;
  }

  account(name: string): Account {
    return this.accounts.get(name);
  }

  permissionChecker(perms: Permissions): PermissionChecker {
    return createPermissionChecker(perms);
  }

  removeClient(cid: number): void {
    const client = this.clients_.get(cid);
    if (!client) return;
    this.clients_.delete(cid);
    this.jwtConnections?.removed(client);
    this.system?.disconnected(client);
    this.closedConnections?.add(client);
  }

  clientAuthenticated(client: AuthenticatedClient): void {
    this.jwtConnections?.admit(client);
    if (!client.isClosed) this.system?.connected(client as ClientConnection);
  }

  // ---- connections ----------------------------------------------------------------------------

  /** Wires a transport to a new client connection and sends INFO. Returns the client. */
  addClient(transport: Transport): ClientConnection {
    const cid = this.nextCid++;
    const nonce = this.authenticator.nonceRequired ? createNonce() : undefined;
    const client = new ClientConnection(this, transport, cid, nonce);
    this.totalConnections++;
    client.start();
    if (this.clients_.size >= this.options.maxConnections) {
      client.sendErr(Err.maxConnections);
      client.close(Closed.maxConnections);
      this.closedConnections?.add(client); // never registered, so removeClient did not see it
      return client;
    }
    this.clients_.set(cid, client);
    return client;
  }

  private acceptTcp(conn: Deno.TcpConn): void {
    if (this.shuttingDown || !this.acceptingClients) {
      conn.close();
      return;
    }
    const transport = new TcpTransport(conn);
    const client = this.addClient(transport);
    transport.readInto(client);
  }

  /**
   * A client on the TLS port: INFO goes out in plaintext (the transport's first write), then the
   * transport runs the server handshake within `tls.timeout`; reading starts once TLS is up. A
   * failed handshake is logged and closes with "TLS Handshake Failure", sending nothing, as
   * nats-server does.
   */
  private acceptTls(raw: net.Socket): void {
    if (this.shuttingDown || !this.acceptingClients || !this.tlsPort) {
      raw.destroy();
      return;
    }
    const transport = new StartTlsTransport(raw, {
      kind: "STANDARD",
      hostname: raw.remoteAddress ?? "",
      port: raw.remotePort ?? 0,
    }, {
      acceptor: this.tlsPort.acceptor,
      timeoutMs: this.options.tls!.timeoutMs,
      pinnedSpki: this.options.tls!.pinnedCerts,
      allowPlain: this.options.allowNonTls,
    });
    readAfterUpgrade(transport, this.addClient(transport), this.log);
  }

  private async closeTlsPort(): Promise<void> {
    if (!this.tlsPort) return;
    for (const a of this.retiredAcceptors) a.close();
    this.tlsPort.acceptor.close();
    await this.tlsPort.listener.close();
  }

  /** A websocket client upgraded (any engine): same protocol connection as TCP. */
  private acceptWebsocket(transport: Transport): ClientConnection {
    const client = this.addClient(transport);
    if (this.shuttingDown) client.close(Closed.serverShutdown, false);
    return client;
  }

  private sweepWriteDeadlines(): void {
    const deadline = this.options.writeDeadlineMs;
    const now = performance.now();
    for (const c of this.clients_.values()) {
      const started = c.writeStartedAt;
      if (started > 0 && now - started > deadline) c.writeDeadlineExceeded();
    }
  }
}

/** Whether monitoring runs (`http_port`/`http`/`-m`, or `https_port`/`https`). */
function monitoringEnabled(o: ServerOptions): boolean {
  return o.monitor.port !== 0 || (o.monitor.httpsPort ?? 0) !== 0;
}

/**
 * The certificate HTTPS monitoring serves (the top-level `tls` block's), undefined for plain
 * HTTP. Throws the reference's `Can't start monitoring: ...` for a misconfiguration.
 */
async function monitorTls(o: ServerOptions): Promise<MonitorTls | undefined> {
  const https = o.monitor.httpsPort ?? 0;
  if (https === 0) return undefined;
  if (o.monitor.port !== 0) {
    throw new Error(
      `Can't start monitoring: can't specify both HTTP (${o.monitor.port}) and HTTPs (${https}) ports`,
    );
  }
  if (!o.tls?.certFile || !o.tls.keyFile) {
    throw new Error("Can't start monitoring: TLS cert and key required for HTTPS");
  }
  return {
    certPem: await Deno.readTextFile(o.tls.certFile),
    keyPem: await Deno.readTextFile(o.tls.keyFile),
  };
}

/** The client-port TLS acceptor for the certificates of `o.tls`. */
function tlsAcceptorFor(o: ServerOptions): Promise<TlsAcceptor> {
  return tlsAcceptor(o.tls!);
}

/** INFO `host`/`port`: `client_advertise` (`host[:port]`, default port = the client port). */
function advertisedHostPort(
  advertise: string | undefined,
  host: string,
  port: number,
): { host: string; port: number } {
  if (!advertise) return { host, port };
  const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(advertise.trim());
  if (!m) return { host, port };
  return { host: m[1], port: m[2] ? Number(m[2]) : port };
}

/** `0.0.0.0`/`::` expand to the machine's addresses when --allow-sys permits reading them. */
function expandHost(host: string): string[] {
  if (host !== "0.0.0.0" && host !== "::") return [host];
  try {
    if (
      Deno.permissions.querySync({ name: "sys", kind: "networkInterfaces" }).state === "granted"
    ) {
      const family = host === "::" ? "IPv6" : "IPv4";
      const addrs = Deno.networkInterfaces().filter((i) => i.family === family).map((i) =>
        i.address
      );
      if (addrs.length) return addrs;
    }
  } catch { /* fall through */ }
  return [host === "::" ? "::1" : "127.0.0.1"];
}

function sweepInterval(o: ServerOptions): number {
  return Math.max(50, Math.min(1000, Math.floor(o.writeDeadlineMs / 4)));
}

/** A Deno permission denial (not an OS-level EACCES, which is a listen error). */
function isPermissionError(err: unknown): boolean {
  return err instanceof Deno.errors.NotCapable;
}
