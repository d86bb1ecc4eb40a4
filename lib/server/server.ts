/**
 * The server: owns the listeners, the accounts and the client registry, and is the
 * `ServerContext` every client connection consults. Transports feed bytes into
 * `ClientConnection`s; nothing here parses the protocol.
 */
import { loadTlsMaterial } from "../config/tls_material.ts";
import { readFile } from "../config/parser.ts";
import { joinHostPort } from "../core/gofmt.ts";
import { createAuthenticator, warnings as authWarnings } from "../auth/authenticator.ts";
import { createNonce, createServerId } from "../auth/nkeys.ts";
import { createPermissionChecker } from "../auth/permissions.ts";
import type { Authenticator, Permissions } from "../auth/types.ts";
import type { ServerOptions } from "../config/options.ts";
import { ClientConnection } from "../protocol/client.ts";
import type {
  Account,
  Logger,
  PermissionChecker,
  ServerContext,
  ServerStats,
} from "../protocol/context.ts";
import { Err } from "../protocol/errors.ts";
import { Closed, closeDescriptor, SERVER_SHUTDOWN_CLOSE } from "../core/close_reasons.ts";
import type { Transport } from "../protocol/transport.ts";
import { AccountRegistry } from "./accounts.ts";
import { TcpListener, TcpTransport } from "../transport/tcp.ts";
import {
  listenNet,
  type NetListener,
  StartTlsTransport,
  TlsAcceptor,
} from "../transport/tls_server.ts";
import type net from "node:net";
import { type RunningWebsocket, startWebsocket } from "./websocket.ts";
import { type DerivedFrom, OptionsStore } from "./options_store.ts";
import { ClosedConnections, type RunningMonitor, startMonitor } from "../monitor/mod.ts";

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
}

/** What the server derives from one options object (rebuilt when the options are swapped). */
export interface ServerState extends DerivedFrom {
  readonly authenticator: Authenticator;
  /** Accounts with their import/export links (built from `options.auth.accounts`). */
  readonly accounts: AccountRegistry;
}

/**
 * Builds the state for `options`. The accounts registry is kept when the accounts config is
 * unchanged (their subscriptions live in it); the authenticator is always rebuilt.
 */
export function deriveServerState(options: ServerOptions, previous?: ServerState): ServerState {
  const sameAccounts = previous !== undefined &&
    JSON.stringify(previous.options.auth.accounts) === JSON.stringify(options.auth.accounts);
  const accounts = sameAccounts ? previous.accounts : new AccountRegistry(options.auth.accounts);
  accounts.get("$G");
  return { options, authenticator: createAuthenticator(options.auth), accounts };
}

/** A running NATS server. */
export class NatsServer implements ServerContext {
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
  /** Client connections accepted since start (monitoring's `total_connections`). */
  totalConnections = 0;
  /** Recently closed connections, kept while monitoring is enabled. */
  readonly closedConnections?: ClosedConnections;
  private readonly clients = new Map<number, ClientConnection>();
  private nextCid = 1;
  private tcp?: TcpListener;
  /** With a `tls {}` block: the client port on node:net, upgraded after INFO. */
  private tlsPort?: { listener: NetListener; acceptor: TlsAcceptor };
  private ws?: RunningWebsocket;
  private monitor?: RunningMonitor;
  private sweepTimer?: ReturnType<typeof setInterval>;
  private shuttingDown = false;
  private acceptingClients = true;
  /** pid and ports files to remove at shutdown. */
  private readonly processFiles: string[] = [];
  private info?: { generation: number; value: Record<string, unknown> };
  private readonly done: Promise<void>;
  private resolveDone!: () => void;

  /** `options` is deep-copied and frozen unless it already is frozen. */
  constructor(options: ServerOptions, log: Logger) {
    this.log = log;
    this.store = new OptionsStore(options, deriveServerState);
    this.store.onSwap((previous, current) => {
      if (previous.authenticator !== current.authenticator) previous.authenticator.close?.();
      if (previous.accounts !== current.accounts) previous.accounts.close();
    });
    options = this.store.options;
    this.serverName = options.serverName || this.serverId;
    if (options.monitor.port !== 0) this.closedConnections = new ClosedConnections();
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
    this.log.info(`Starting nats-server`);
    this.log.info(`  Version:  ${VERSION}`);
    this.log.info(`  Git:      [not set]`);
    this.log.info(`  Name:     ${this.serverName}`);
    this.log.info(`  ID:       ${this.serverId}`);
    for (const w of authWarnings(o.auth)) this.log.warn(w);
    if (o.configFile) this.log.info(`Using configuration file: ${o.configFile}`);
    // Monitoring first, as the reference does (its log line comes before the listeners').
    if (o.monitor.port !== 0) {
      this.monitor = startMonitor(this);
      this.ports.monitor = this.monitor.port;
    }
    try {
      if (o.tls) {
        this.tlsPort = await listenTls(o, (raw) => this.acceptTls(raw));
        this.ports.client = this.tlsPort.listener.port;
      } else {
        this.tcp = new TcpListener(o.host, o.port === -1 ? 0 : o.port);
        this.ports.client = this.tcp.addr.port;
      }
    } catch (err) {
      await this.monitor?.close();
      throw err;
    }
    this.log.info(`Listening for client connections on ${joinHostPort(o.host, this.ports.client)}`);
    if (o.tls) this.log.info("TLS required for client connections");
    this.tcp?.serve((conn) => this.acceptTcp(conn)).catch((err) => {
      if (!this.shuttingDown) this.log.error(`Error accepting client connection: ${err}`);
    });
    try {
      this.ws = await startWebsocket(o.websocket, this.log, {
        onClient: (transport) => this.acceptWebsocket(transport),
        maxDecompressedBytes: o.maxPending,
      });
    } catch (err) {
      this.shuttingDown = true;
      this.tcp?.close();
      await this.closeTlsPort();
      await this.monitor?.close();
      this.authenticator.close?.();
      this.accounts.close();
      this.resolveDone();
      throw err;
    }
    if (this.ws) this.ports.websocket = this.ws.listener.port;
    this.sweepTimer = setInterval(() => this.sweepWriteDeadlines(), sweepInterval(o));
    this.writeProcessFiles();
    this.log.info("Server is ready");
  }

  /** `pid_file` and `ports_file_dir`, written before "Server is ready" as the reference does. */
  private writeProcessFiles(): void {
    const o = this.options;
    if (o.pidFile) {
      Deno.writeTextFileSync(o.pidFile, String(Deno.pid));
      this.processFiles.push(o.pidFile);
    }
    if (o.portsFileDir) {
      const file = `${o.portsFileDir}/nats-server_${Deno.pid}.ports`;
      Deno.writeTextFileSync(file, JSON.stringify(this.portsInfo()));
      this.processFiles.push(file);
    }
  }

  /** The ports file content (`--ports_file_dir`), as the reference writes it. */
  portsInfo(): Record<string, string[]> {
    const hosts = expandHost(this.options.host);
    const info: Record<string, string[]> = {
      nats: hosts.map((h) => `nats://${joinHostPort(h, this.ports.client)}`),
    };
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
    return this.clients.size;
  }

  /** Open client connections, in cid order. */
  connections(): IterableIterator<ClientConnection> {
    return this.clients.values();
  }

  /** The open client connection with this cid. */
  connection(cid: number): ClientConnection | undefined {
    return this.clients.get(cid);
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

  /** Closes the listeners and every connection (reason "Server Shutdown"). */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return this.done;
    this.shuttingDown = true;
    this.log.info("Initiating Shutdown...");
    this.tcp?.close();
    const monitorClosed = this.monitor?.close();
    clearInterval(this.sweepTimer);
    this.authenticator.close?.();
    this.accounts.close();
    for (const c of [...this.clients.values()]) c.close(Closed.serverShutdown, false);
    this.clients.clear();
    await this.ws?.listener.close(SERVER_SHUTDOWN_CLOSE);
    await this.closeTlsPort();
    await monitorClosed;
    for (const f of this.processFiles) {
      try {
        Deno.removeSync(f);
      } catch { /* already gone */ }
    }
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
        ...(o.tls ? { tls_required: true } : {}),
        ...(o.tls?.verify ? { tls_verify: true } : {}),
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
    const client = this.clients.get(cid);
    if (!client) return;
    this.clients.delete(cid);
    this.closedConnections?.add(client);
  }

  // ---- connections ----------------------------------------------------------------------------

  /** Wires a transport to a new client connection and sends INFO. Returns the client. */
  addClient(transport: Transport): ClientConnection {
    const cid = this.nextCid++;
    const nonce = this.authenticator.nonceRequired ? createNonce() : undefined;
    const client = new ClientConnection(this, transport, cid, nonce);
    this.totalConnections++;
    client.start();
    if (this.clients.size >= this.options.maxConnections) {
      client.sendErr(Err.maxConnections);
      client.close(Closed.maxConnections);
      this.closedConnections?.add(client); // never registered, so removeClient did not see it
      return client;
    }
    this.clients.set(cid, client);
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
    });
    const client = this.addClient(transport);
    transport.upgraded.then(() => {
      if (client.isClosed) return transport.close(closeDescriptor(""));
      transport.readInto(client);
    }, (err: Error) => {
      if (client.isClosed) return;
      this.log.error(`${client} - TLS handshake error: ${err.message}`);
      client.close(Closed.tlsHandshakeError, false);
    });
  }

  private async closeTlsPort(): Promise<void> {
    if (!this.tlsPort) return;
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
    for (const c of this.clients.values()) {
      const started = c.writeStartedAt;
      if (started > 0 && now - started > deadline) c.writeDeadlineExceeded();
    }
  }
}

/** Reads the client-port certificates and listens on node:net (Deno.listen cannot upgrade). */
async function listenTls(
  o: ServerOptions,
  onConnection: (raw: net.Socket) => void,
): Promise<{ listener: NetListener; acceptor: TlsAcceptor }> {
  const t = o.tls!;
  const loaded = loadTlsMaterial(t, readFile);
  if (!loaded.ok) throw new Error(loaded.error);
  const { certPem, keyPem, caPem } = loaded.material;
  if (certPem === undefined || keyPem === undefined) {
    throw new Error("missing 'cert_file' in TLS configuration");
  }
  const acceptor = new TlsAcceptor({ certPem, keyPem, caPem, verify: t.verify || t.verifyAndMap });
  try {
    const listener = await listenNet(o.host, o.port === -1 ? 0 : o.port, onConnection);
    return { listener, acceptor };
  } catch (err) {
    acceptor.close();
    const code = (err as { code?: string }).code;
    const msg = err instanceof Error ? err.message : String(err);
    if (code === "EADDRINUSE") throw new Deno.errors.AddrInUse(msg);
    if (code === "EADDRNOTAVAIL") throw new Deno.errors.AddrNotAvailable(msg);
    if (code === "EACCES") throw new Deno.errors.PermissionDenied(msg);
    throw err;
  }
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
