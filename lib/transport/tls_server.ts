/**
 * Server-side TLS on raw `node:net` sockets, with client-certificate verification: the pieces a
 * listener needs when it must see a connection *before* TLS (a handshake deadline from TCP accept,
 * a peek at the first bytes) or must start TLS later on an already-used socket (the NATS "INFO in
 * plaintext, then TLS" upgrade on the client port).
 *
 * Measured on Deno 2.9.6 (see the platform notes): `tls.createServer({requestCert,
 * rejectUnauthorized, ca})` fed raw sockets with `emit("connection", raw)` verifies client
 * certificates correctly (good cert accepted; none, rogue CA, expired, v1 or serverAuth-only
 * rejected), whereas `new tls.TLSSocket(raw, {isServer: true})` accepts a rogue-CA client.
 * Deno does not destroy a socket on `tlsClientError`, so this module does.
 *
 * @example
 * ```ts ignore
 * import net from "node:net";
 * import { NodeSocketTransport, TlsAcceptor, tlsPeerInfo } from "./tls_server.ts";
 *
 * const acceptor = new TlsAcceptor({ certPem, keyPem, caPem, verify: true });
 * net.createServer(async (raw) => {
 *   raw.write("INFO {...}\r\n");                // plaintext first (client port)
 *   const ts = await acceptor.handshake(raw);    // then TLS on the same socket
 *   const t = new NodeSocketTransport(ts, { kind: "STANDARD", hostname: ts.remoteAddress!,
 *     port: ts.remotePort!, tls: tlsPeerInfo(ts) });
 *   t.readInto(server.addClient(t));
 * }).listen(4222, "127.0.0.1");
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import net from "node:net";
import tls from "node:tls";
import type { ByteSink, PeerInfo, TlsPeer, Transport } from "../protocol/transport.ts";

/** Certificate material and verification mode of a TLS server. */
export interface TlsServerConfig {
  certPem: string;
  keyPem: string;
  /** CA bundle that client certificates must chain to. */
  caPem?: string;
  /** Require a client certificate and verify it against `caPem`. */
  verify: boolean;
}

/** A failed server handshake. `message` is the TLS library's reason. */
export class TlsHandshakeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TlsHandshakeError";
  }
}

interface Pending {
  resolve(ts: tls.TLSSocket): void;
  reject(err: Error): void;
}

type WithParent = tls.TLSSocket & { _parent?: net.Socket };

function addrKey(s: net.Socket): string {
  return `${s.remoteAddress}|${s.remotePort}`;
}

/**
 * Runs TLS server handshakes on raw sockets accepted by any `node:net` server. One secure context
 * (one `tls.Server`, never listening) serves every handshake.
 */
export class TlsAcceptor {
  readonly #server: tls.Server;
  readonly #pending = new Map<net.Socket, Pending>();
  readonly #pendingByAddr = new Map<string, net.Socket>();

  constructor(cfg: TlsServerConfig) {
    this.#server = tls.createServer({
      key: cfg.keyPem,
      cert: cfg.certPem,
      ca: cfg.caPem ? [cfg.caPem] : undefined,
      requestCert: cfg.verify,
      rejectUnauthorized: cfg.verify,
    });
    this.#server.on("secureConnection", (ts: tls.TLSSocket) => {
      const p = this.#take(ts);
      if (p) p.resolve(ts);
      else ts.destroy();
    });
    this.#server.on("tlsClientError", (err: Error, ts: tls.TLSSocket) => {
      ts.destroy(); // Deno leaves the socket open otherwise
      let why = err?.message ?? String(err);
      // A rejected client certificate only surfaces as a hang-up (measured on Deno 2.9.6).
      if (cfg.verify && why === "socket hang up") why = "client certificate rejected";
      this.#take(ts)?.reject(new TlsHandshakeError(why));
    });
  }

  /**
   * Starts the server handshake on `raw`. `head` = bytes already read from `raw` (e.g. a peek at
   * the first record), handed back to TLS first. Resolves with the secure socket; on failure the
   * sockets are destroyed and the promise rejects with a {@link TlsHandshakeError}. Destroying
   * `raw` meanwhile (a deadline) rejects it too.
   */
  handshake(raw: net.Socket, head?: Uint8Array): Promise<tls.TLSSocket> {
    return new Promise<tls.TLSSocket>((resolve, reject) => {
      if (raw.destroyed) {
        reject(new TlsHandshakeError("connection closed before the TLS handshake"));
        return;
      }
      // Deno closes the raw socket just before it reports `tlsClientError`: give the error a
      // turn to arrive so its reason wins.
      const onClose = () =>
        setTimeout(() => {
          const p = this.#pending.get(raw);
          if (p && this.#forget(raw)) {
            p.reject(new TlsHandshakeError("connection closed during the TLS handshake"));
          }
        }, 0);
      const onError = () => {/* reported through close */};
      raw.once("close", onClose);
      raw.on("error", onError);
      this.#pending.set(raw, {
        resolve: (ts) => {
          raw.off("close", onClose);
          resolve(ts);
        },
        reject: (e) => {
          raw.off("close", onClose);
          raw.destroy();
          reject(e);
        },
      });
      this.#pendingByAddr.set(addrKey(raw), raw);
      if (head && head.length > 0) {
        raw.pause();
        raw.unshift(Buffer.from(head.buffer, head.byteOffset, head.length));
      }
      this.#server.emit("connection", raw);
    });
  }

  /** Handshakes in progress. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Fails every pending handshake. */
  close(): void {
    for (const [raw, p] of [...this.#pending]) {
      this.#forget(raw);
      p.reject(new TlsHandshakeError("server closing"));
    }
  }

  #take(ts: tls.TLSSocket): Pending | undefined {
    let raw = (ts as WithParent)._parent;
    if (!raw || !this.#pending.has(raw)) raw = this.#pendingByAddr.get(addrKey(ts));
    if (!raw) return undefined;
    const p = this.#pending.get(raw);
    this.#forget(raw);
    return p;
  }

  #forget(raw: net.Socket): boolean {
    const had = this.#pending.delete(raw);
    const k = addrKey(raw);
    if (this.#pendingByAddr.get(k) === raw) this.#pendingByAddr.delete(k);
    return had;
  }
}

/** What the handshake established about the peer (`PeerInfo.tls`). */
export function tlsPeerInfo(ts: tls.TLSSocket): TlsPeer {
  const chainDer: Uint8Array[] = [];
  let cert = ts.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<unknown>();
  while (cert && cert.raw && !seen.has(cert)) {
    seen.add(cert);
    chainDer.push(new Uint8Array(cert.raw));
    const next = cert.issuerCertificate;
    if (!next || next === cert || next.fingerprint256 === cert.fingerprint256) break;
    cert = next;
  }
  const peer: TlsPeer = { chainDer, verified: ts.authorized === true && chainDer.length > 0 };
  const version = ts.getProtocol();
  if (version) peer.version = version;
  const cipher = ts.getCipher()?.name;
  if (cipher) peer.cipher = cipher;
  return peer;
}

/**
 * A `node:net`/`node:tls` socket as a protocol transport: `write` resolves when the socket took
 * the bytes (its callback), which gives the protocol's outbound queue its back-pressure; reads are
 * the socket's `data` events.
 */
export class NodeSocketTransport implements Transport {
  #closed = false;

  constructor(private readonly socket: net.Socket, readonly peer: PeerInfo) {
    try {
      socket.setNoDelay(true);
    } catch { /* not a TCP socket */ }
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closed || this.socket.destroyed) {
      return Promise.reject(new Error("socket closed"));
    }
    return new Promise<void>((resolve, reject) => {
      this.socket.write(data, (err?: Error | null) => err ? reject(err) : resolve());
    });
  }

  close(_reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.socket.destroy();
  }

  /** Delivers bytes to `sink` until EOF, error or close; resolves then. */
  readInto(sink: ByteSink): Promise<void> {
    return new Promise<void>((resolve) => {
      let ended = false;
      const end = (err?: unknown) => {
        if (ended) return;
        ended = true;
        sink.transportClosed(this.#closed ? undefined : err);
        this.close("");
        resolve();
      };
      this.socket.on("data", (chunk: Uint8Array) => {
        if (!ended) sink.receive(chunk);
      });
      this.socket.once("end", () => end());
      this.socket.once("error", (err: Error) => end(err));
      this.socket.once("close", () => end());
      if (this.socket.destroyed) end();
    });
  }
}

/** A `node:net` listener (for ports whose connections are inspected or upgraded before use). */
export interface NetListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Listens on host:port (0 = any free port) and hands each raw socket to `onConnection`. */
export function listenNet(
  host: string,
  port: number,
  onConnection: (raw: net.Socket) => void,
): Promise<NetListener> {
  return new Promise<NetListener>((resolve, reject) => {
    const server = net.createServer(onConnection);
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        close: () => new Promise<void>((r) => server.close(() => r())),
      });
    });
  });
}
