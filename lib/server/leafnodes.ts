/**
 * Leafnode wiring: the leafnode listener (TCP, or TLS after a plaintext INFO), connections
 * arriving on the websocket port's `/leafnode` path, and the solicited remotes with the
 * reference's reconnect loop (one URL after the other, `leafnodes.reconnect` between attempts,
 * 30s after a loop was detected). Everything NATS happens in `lib/protocol/leaf.ts`.
 *
 * @module
 */
import type { ConnectionKind } from "../core/kinds.ts";
import { Closed, closeDescriptor } from "../core/close_reasons.ts";
import type net from "node:net";
import { createLeafAuthenticator, type LeafAuthenticate } from "../auth/leaf.ts";
import { createNonce } from "../auth/nkeys.ts";
import { readCredsFile, signNonce } from "../auth/creds.ts";
import type { Authenticator, Permissions } from "../auth/types.ts";
import type { PermissionChecker } from "../auth/permissions.ts";
import type { RemoteLeafOptions, ServerOptions } from "../config/options.ts";
import type { Account, Logger, ServerStats } from "../protocol/context.ts";
import { LeafClosed, LeafConnection, type LeafContext } from "../protocol/leaf.ts";
import type { PeerInfo, Transport } from "../protocol/transport.ts";
import { TcpListener, TcpTransport } from "../transport/tcp.ts";
import { type NetListener, StartTlsTransport, type TlsAcceptor } from "../transport/tls_server.ts";
import { dialRemote, type RemoteUrl } from "./leaf_dial.ts";
import { listenTls, readAfterUpgrade } from "./start_tls.ts";
import { goListenError } from "../core/listen_error.ts";

/** What the leafnode wiring needs from the server. */
export interface LeafHost {
  readonly options: ServerOptions;
  readonly log: Logger;
  readonly stats: ServerStats;
  readonly serverId: string;
  readonly serverName: string;
  readonly authenticator: Authenticator;
  /** The server's INFO base (id, name, version, go, max_payload, headers). */
  baseInfo(): Record<string, unknown>;
  /** Compiles permissions into a checker. */
  permissionChecker(perms: Permissions): PermissionChecker;
  account(name: string): Account;
  /** A fresh connection id (shared with clients). */
  nextCid(): number;
}

/** 22 random base62 characters, as a NUID. */
function nuid(): string {
  const abc = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const bytes = crypto.getRandomValues(new Uint8Array(22));
  let s = "";
  for (const b of bytes) s += abc[b % 62];
  return s;
}

/** The leafnode side of a server. */
export class LeafNodes implements LeafContext {
  readonly log: Logger;
  readonly stats: ServerStats;
  readonly serverId: string;
  readonly serverName: string;
  /** Bound leafnode port (0 when not listening). */
  port = 0;
  private readonly host: LeafHost;
  private auth?: { options: ServerOptions; check: LeafAuthenticate };
  private readonly conns = new Map<number, LeafConnection>();
  private readonly loops = new Map<string, string>();
  private readonly solicitors: Solicitor[] = [];
  private tcp?: TcpListener;
  private tls?: { listener: NetListener; acceptor: TlsAcceptor };
  private stopped = false;

  constructor(host: LeafHost) {
    this.host = host;
    this.log = host.log;
    this.stats = host.stats;
    this.serverId = host.serverId;
    this.serverName = host.serverName;
  }

  /** The options in force (read through the server's options store). */
  get options(): ServerOptions {
    return this.host.options;
  }

  /** The client authenticator (leafnodes fall back on its users and nkeys). */
  get authenticator(): Authenticator {
    return this.host.authenticator;
  }

  baseInfo(): Record<string, unknown> {
    return this.host.baseInfo();
  }

  permissionChecker(perms: Permissions): PermissionChecker {
    return this.host.permissionChecker(perms);
  }

  /** A connection closed: it is no longer listed. */
  removeClient(cid: number): void {
    this.conns.delete(cid);
  }

  leafConnections(): Iterable<LeafConnection> {
    return this.conns.values();
  }

  /** Opens the leafnode port (when configured) and starts soliciting the remotes. */
  async start(): Promise<void> {
    const ln = this.options.leafnodes;
    if (ln.port !== 0) {
      const port = ln.port === -1 ? 0 : ln.port;
      if (ln.tls) {
        try {
          this.tls = await listenTls(ln.tls, ln.host, ln.port, (raw) => this.acceptTls(raw));
        } catch (err) {
          throw listenError(err, ln.host, ln.port);
        }
        this.port = this.tls.listener.port;
      } else {
        try {
          this.tcp = new TcpListener(ln.host, port);
        } catch (err) {
          throw listenError(err, ln.host, ln.port);
        }
        this.port = this.tcp.addr.port;
        this.tcp.serve((conn) => this.acceptTcp(conn)).catch((err) => {
          if (!this.stopped) this.log.error(`Error accepting leafnode connection: ${err}`);
        });
      }
      const hp = ln.host.includes(":") ? `[${ln.host}]:${this.port}` : `${ln.host}:${this.port}`;
      this.log.info(`Listening for leafnode connections on ${hp}`);
    }
    for (const r of ln.remotes) {
      const s = new Solicitor(this, r);
      this.solicitors.push(s);
      s.run();
    }
  }

  /** Stops soliciting, closes the port and every leafnode connection. */
  async close(): Promise<void> {
    this.stopped = true;
    for (const s of this.solicitors) s.stop();
    this.tcp?.close();
    for (const c of [...this.conns.values()]) c.close(Closed.serverShutdown, false);
    this.conns.clear();
    if (this.tls) {
      this.tls.acceptor.close();
      await this.tls.listener.close();
    }
  }

  /** Whether the server is shutting down. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /** Open leafnode connections (bound or in their handshake). */
  connections(): LeafConnection[] {
    return [...this.conns.values()];
  }

  /** Number of bound leafnode connections. */
  get count(): number {
    let n = 0;
    for (const c of this.conns.values()) if (c.isBound) n++;
    return n;
  }

  /** A websocket upgrade on a `/leafnode` path. */
  acceptWebsocket(transport: Transport): LeafConnection {
    return this.accept(transport);
  }

  private acceptTcp(conn: Deno.TcpConn): void {
    if (this.stopped) return conn.close();
    const transport = new TcpTransport(conn, "LEAFNODE");
    const c = this.accept(transport);
    transport.readInto(c);
  }

  private acceptTls(raw: net.Socket): void {
    if (this.stopped || !this.tls) return void raw.destroy();
    const peer: PeerInfo = {
      kind: "LEAFNODE",
      hostname: raw.remoteAddress ?? "",
      port: raw.remotePort ?? 0,
    };
    const t = this.options.leafnodes.tls!;
    const transport = new StartTlsTransport(raw, peer, {
      acceptor: this.tls.acceptor,
      timeoutMs: t.timeoutMs,
      pinnedSpki: t.pinnedCerts,
    });
    readAfterUpgrade(transport, this.accept(transport), this.log);
  }

  private accept(transport: Transport): LeafConnection {
    const c = new LeafConnection(this, transport, this.host.nextCid(), { nonce: createNonce() });
    this.conns.set(c.cid, c);
    c.start();
    if (this.stopped) c.close(Closed.serverShutdown, false);
    return c;
  }

  /** A solicited connection's transport is up: run the protocol on it. */
  solicited(
    transport: Transport,
    cfg: ConstructorParameters<typeof LeafConnection>[3],
  ): LeafConnection {
    const c = new LeafConnection(this, transport, this.host.nextCid(), cfg);
    this.conns.set(c.cid, c);
    c.start();
    return c;
  }

  // ---- LeafContext ----------------------------------------------------------------------------

  leafInfo(kind: ConnectionKind): Record<string, unknown> {
    const ln = this.options.leafnodes;
    const base = this.baseInfo();
    const adv = ln.advertise ? splitAdvertise(ln.advertise, this.port) : null;
    const host = adv?.host ?? ln.host;
    const port = adv?.port ?? this.port;
    const url = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
    const info: Record<string, unknown> = {
      server_id: base.server_id,
      server_name: base.server_name,
      version: base.version,
      proto: 1,
      go: base.go,
      host,
      port,
      headers: base.headers,
      auth_required: true,
      max_payload: base.max_payload,
      ip: url,
      info_on_connect: true,
    };
    if (ln.tls && kind === "LEAFNODE") {
      info.tls_required = true;
      if (ln.tls.verify) info.tls_verify = true;
    }
    if (!ln.noAdvertise && this.port) info.leafnode_urls = [url];
    return info;
  }

  leafAuthenticate(
    connect: Parameters<LeafContext["leafAuthenticate"]>[0],
    peer: PeerInfo,
    nonce: string | undefined,
  ) {
    const options = this.options;
    if (this.auth?.options !== options) {
      const check = createLeafAuthenticator(
        options.leafnodes.authorization,
        options.auth,
        this.host.authenticator,
        undefined,
        !!options.leafnodes.tls?.verifyAndMap,
      );
      this.auth = { options, check };
    }
    return this.auth.check(connect, peer, nonce);
  }

  account(name: string): Account {
    return this.host.account(name);
  }

  loopSubject(account: string): string {
    let s = this.loops.get(account);
    if (!s) this.loops.set(account, s = `$LDS.${nuid()}`);
    return s;
  }
}

/** The reference's fatal text for a leafnode port it cannot listen on. */
function listenError(err: unknown, host: string, port: number): Error {
  // A Deno permission denial is reported as such (an OS-level EACCES is a listen error).
  if (err instanceof Deno.errors.NotCapable) return err;
  const p = port === -1 ? 0 : port;
  return new Error(`Error listening on leafnode port: ${port} - ${goListenError(err, host, p)}`);
}

function splitAdvertise(adv: string, port: number): { host: string; port: number } | null {
  const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(adv.trim());
  return m ? { host: m[1], port: m[2] ? Number(m[2]) : port } : null;
}

/** One configured remote: dials its URLs in turn, forever, until the server stops. */
class Solicitor {
  /**
   * The URLs tried in turn: the ones the hub's INFO announced (other cluster members, not the
   * configured ones) first, then the configured ones; the one tried moves to the end.
   */
  private urls: RemoteUrl[];
  private readonly configured: RemoteUrl[];
  private delayMs = 0;
  private stopped = false;
  private timer?: ReturnType<typeof setTimeout>;
  private wake?: () => void;
  private current?: LeafConnection;

  constructor(private readonly leafs: LeafNodes, private readonly remote: RemoteLeafOptions) {
    const urls = remote.urls.map(parseRemoteUrl).filter((u): u is RemoteUrl => u !== null);
    if (!remote.noRandomize) {
      for (let i = urls.length - 1; i > 0; i--) {
        const j = Math.floor(Math.random() * (i + 1));
        [urls[i], urls[j]] = [urls[j], urls[i]];
      }
    }
    this.configured = urls;
    this.urls = [...urls];
  }

  /**
   * The hub announced where else leafnodes can connect (`leafnode_urls`, `ws_connect_urls` for
   * WebSocket remotes): those not configured go first. They carry the credentials and TLS of the
   * URL they were learned through (the reference's carry none).
   */
  learned(hostPorts: readonly string[], via: RemoteUrl): void {
    const known = new Set(this.configured.map((u) => `${u.hostname}:${u.port}`));
    const learned: RemoteUrl[] = [];
    for (const hp of hostPorts) {
      const u = parseRemoteUrl(`${via.ws ? via.scheme : "nats-leaf"}://${hp}${via.path}`);
      if (u === null || known.has(`${u.hostname}:${u.port}`)) continue;
      learned.push({ ...u, tls: via.tls, user: via.user, pass: via.pass });
    }
    const key = (u: RemoteUrl) => `${u.hostname}:${u.port}`;
    const current = this.urls.filter((u) => !learned.some((l) => key(l) === key(u)));
    this.urls = [...learned, ...current.filter((u) => known.has(key(u)))];
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.wake?.();
    this.current?.close(Closed.serverShutdown, false);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  async run(): Promise<void> {
    if (this.urls.length === 0) return;
    const log = this.leafs.log;
    const reconnectMs = this.leafs.options.leafnodes.reconnectDelayMs;
    let attempts = 0;
    while (!this.stopped) {
      if (this.delayMs > 0) {
        const d = this.delayMs;
        this.delayMs = 0;
        await this.sleep(d);
        if (this.stopped) return;
      }
      const url = this.urls[0];
      if (this.urls.length > 1) this.urls = [...this.urls.slice(1), url];
      log.debug(`Trying to connect as leafnode to remote server on "${url.hostPort}"`);
      let transport: Transport;
      try {
        transport = await dialRemote(url, this.remote, this.leafs.options);
      } catch (err) {
        attempts++;
        const msg = `Error trying to connect as leafnode to remote server "${url.hostPort}" ` +
          `(attempt ${attempts}): ${(err as Error).message ?? err}`;
        if (attempts === 1 || attempts % 3600 === 0) log.error(msg);
        else log.debug(msg);
        await this.sleep(reconnectMs);
        continue;
      }
      if (this.stopped) return transport.close(closeDescriptor(""));
      let creds: { jwt: string; sign(nonce: string): string } | undefined;
      if (this.remote.credentials) {
        try {
          const c = await readCredsFile(this.remote.credentials);
          creds = { jwt: c.jwt, sign: (nonce) => signNonce(c.seed, nonce) };
        } catch (err) {
          log.error(`Error reading credentials file "${this.remote.credentials}": ${err}`);
          transport.close(closeDescriptor(""));
          await this.sleep(reconnectMs);
          continue;
        }
      }
      attempts = 0;
      const closed = new Promise<void>((resolve) => {
        const c = this.leafs.solicited(transport, {
          solicit: {
            hub: this.remote.hub,
            account: this.remote.account ?? "$G",
            user: url.user,
            pass: url.pass,
            creds,
            tls: url.tls || !!this.remote.tls,
            denyImports: this.remote.denyImports,
            denyExports: this.remote.denyExports,
            delayReconnect: (ms) => this.delayMs = ms,
            learnedUrls: (urls) => this.learned(urls, url),
          },
        });
        this.current = c;
        const sink = transport as Transport & { readInto?(s: LeafConnection): Promise<void> };
        // The transport reads into the connection; we wait until it is gone.
        (sink.readInto?.(c) ?? Promise.resolve()).then(() => resolve());
        if (url.greeting) c.receive(url.greeting);
      });
      url.greeting = undefined;
      await closed;
      // A hub that took our `<path>/leafnode` for a client (2.9.10 checks the prefix) gets the
      // old shape next time, and the other way round.
      const c = this.current;
      if (url.ws && url.path && c && !c.isBound && c.closeReason === LeafClosed.wrongPort) {
        url.legacyPath = !url.legacyPath;
      }
      this.current = undefined;
      if (this.stopped) return;
      await this.sleep(reconnectMs);
    }
  }
}

/** Parses a remote URL (`nats://`, `nats-leaf://`, `tls://`, `ws://`, `wss://`). */
export function parseRemoteUrl(raw: string): RemoteUrl | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  const scheme = u.protocol.replace(/:$/, "").toLowerCase();
  const ws = scheme === "ws" || scheme === "wss";
  const defPort = ws ? (scheme === "wss" ? 443 : 80) : 7422;
  const hostname = u.hostname.replace(/^\[|\]$/g, "");
  const port = u.port ? Number(u.port) : defPort;
  return {
    raw,
    scheme,
    hostname,
    port,
    hostPort: `${u.hostname}:${port}`,
    path: u.pathname === "/" ? "" : u.pathname,
    ws,
    tls: scheme === "tls" || scheme === "wss",
    user: u.username ? decodeURIComponent(u.username) : undefined,
    pass: u.password ? decodeURIComponent(u.password) : undefined,
  };
}
