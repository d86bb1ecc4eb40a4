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

import type { CloseDescriptor } from "../core/close_reasons.ts";
import { nodeBuiltin } from "../core/node_builtin.ts";
import type net from "node:net";
import type tls from "node:tls";
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
    this.#server = nodeBuiltin("node:tls").createServer({
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
        raw.unshift(
          nodeBuiltin("node:buffer").Buffer.from(head.buffer, head.byteOffset, head.length),
        );
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

  close(_how?: CloseDescriptor): void {
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
        this.close();
        resolve();
      };
      this.socket.on("data", (chunk: Uint8Array) => {
        if (ended) return;
        const wait = sink.receive(chunk);
        if (!wait) return;
        const tcp = tcpHandle(this.socket);
        this.socket.pause();
        tcp?.readStop();
        wait.then(() => {
          if (ended) return;
          tcp?.readStart();
          this.socket.resume();
        });
      });
      this.socket.once("end", () => end());
      this.socket.once("error", (err: Error) => end(err));
      this.socket.once("close", () => end());
      if (this.socket.destroyed) end();
    });
  }
}

/** The reads of a TCP socket handle (node's internal `_handle`). */
interface TcpReads {
  readStop(): unknown;
  readStart(): unknown;
}

/**
 * The TCP handle under `socket` (its own, or its TLS socket's parent). Measured on Deno 2.9.6:
 * `pause()` of a TLS socket (or of its TCP socket) stops only the `data` events; Deno's TLSWrap
 * keeps reading TCP into memory (a 300 MB flood is taken in whole). Stopping the TCP handle's
 * reads is what makes TCP push back on the peer.
 */
function tcpHandle(socket: net.Socket): TcpReads | null {
  const tcp = (socket as WithParent)._parent ?? socket;
  const h = (tcp as unknown as { _handle?: Partial<TcpReads> })._handle;
  return h && typeof h.readStop === "function" && typeof h.readStart === "function"
    ? h as TcpReads
    : null;
}

/** A `node:net` listener (for ports whose connections are inspected or upgraded before use). */
export interface NetListener {
  readonly port: number;
  /** Closes the listening socket (new connects are refused); accepted sockets stay open. */
  stopAccepting(): void;
  /** Stops accepting and resolves once every accepted socket has closed. */
  close(): Promise<void>;
}

/** Listens on host:port (0 = any free port) and hands each raw socket to `onConnection`. */
export function listenNet(
  host: string,
  port: number,
  onConnection: (raw: net.Socket) => void,
): Promise<NetListener> {
  return new Promise<NetListener>((resolve, reject) => {
    const server = nodeBuiltin("node:net").createServer(onConnection);
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const addr = server.address() as net.AddressInfo;
      let closed: Promise<void> | undefined;
      const close = () => closed ??= new Promise<void>((r) => server.close(() => r()));
      resolve({
        port: addr.port,
        stopAccepting: () => void close(),
        close,
      });
    });
  });
}

/** Length of a TLS record header: enough to tell TLS from plain text. */
export const TLS_RECORD_HEADER_LEN = 5;

/**
 * Collects at least the first `n` bytes `raw` sends (all that arrived so far), then stops
 * reading (pauses the socket, removes the listener) and hands them to `done`, once; sooner when
 * `decidedEarly` says the bytes so far already decide.
 */
export function peekFirstBytes(
  raw: net.Socket,
  n: number,
  done: (head: Uint8Array) => void,
  decidedEarly?: (head: Uint8Array) => boolean,
): void {
  let head = new Uint8Array(0);
  const onData = (chunk: Uint8Array) => {
    const next = new Uint8Array(head.length + chunk.length);
    next.set(head);
    next.set(chunk, head.length);
    head = next;
    if (head.length < n && !decidedEarly?.(head)) return;
    raw.off("data", onData);
    raw.pause();
    done(head);
  };
  raw.on("data", onData);
}

/**
 * Whether `head` (at least 5 bytes) starts like a TLS record: handshake or alert content type and
 * a plausible version, as Go's crypto/tls checks a server's first record.
 */
export function looksLikeTlsRecord(head: Uint8Array): boolean {
  return (head[0] === 0x16 || head[0] === 0x15) && head[1] < 0x10;
}

/** Go's text for a first record that is not TLS. */
export const NOT_TLS = "tls: first record does not look like a TLS handshake";

/** How a {@link StartTlsTransport} upgrades. */
export interface StartTlsOptions {
  acceptor: TlsAcceptor;
  /** The handshake must complete this long after construction (TCP accept), or it fails. */
  timeoutMs: number;
  /**
   * When set, the peer's leaf certificate must have one of these hex SHA-256 digests of its DER
   * SubjectPublicKeyInfo, else the handshake fails with "certificate not pinned" (Go's text).
   */
  pinnedSpki?: readonly string[];
  /**
   * Also accept a client that does not start TLS (`allow_non_tls`): a first byte other than a
   * TLS handshake record's (0x16) keeps the connection in plaintext, as the reference decides.
   */
  allowPlain?: boolean;
}

/** Hex SHA-256 of a certificate's DER SubjectPublicKeyInfo (a `pinned_certs` entry). */
export function spkiSha256(certDer: Uint8Array): string {
  const { createHash, X509Certificate } = nodeBuiltin("node:crypto");
  const spki = new X509Certificate(certDer).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("hex");
}

/**
 * A transport that starts in plaintext and upgrades to TLS on the same socket: its **first write**
 * goes out in plaintext, then it runs the server handshake; later writes wait for the handshake and
 * go over TLS, and reads start only once it completed ({@link upgraded}). `peer.tls` is filled in
 * then. A first record that is not TLS, a failed handshake or the deadline destroys the socket and
 * rejects {@link upgraded} with a {@link TlsHandshakeError}.
 */
export class StartTlsTransport implements Transport {
  readonly peer: PeerInfo;
  /** Resolves when TLS is up; rejects with a {@link TlsHandshakeError}. */
  readonly upgraded: Promise<void>;
  readonly #raw: net.Socket;
  readonly #acceptor: TlsAcceptor;
  readonly #pinned?: readonly string[];
  readonly #allowPlain: boolean;
  /** Plaintext kept (allowPlain): the bytes read while deciding, delivered first. */
  #plainHead?: Uint8Array;
  #ts?: tls.TLSSocket;
  #started = false;
  #handshaking = false;
  #closed = false;
  #failed = false;
  #timer?: ReturnType<typeof setTimeout>;
  #resolve!: () => void;
  #reject!: (err: Error) => void;

  constructor(raw: net.Socket, peer: PeerInfo, opts: StartTlsOptions) {
    this.#raw = raw;
    this.peer = peer;
    this.#acceptor = opts.acceptor;
    this.#pinned = opts.pinnedSpki;
    this.#allowPlain = opts.allowPlain ?? false;
    this.upgraded = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.upgraded.catch(() => {/* the owner handles it */});
    try {
      raw.setNoDelay(true);
    } catch { /* not a TCP socket */ }
    raw.on("error", () => {/* reported through close */});
    this.#timer = setTimeout(() => {
      // allow_non_tls: a client that sends nothing in time stays in plaintext (the reference
      // reads the first bytes under the TLS timeout, then decides on what it got).
      if (this.#allowPlain && this.#started && !this.#handshaking) {
        return this.#keepPlain(new Uint8Array(0));
      }
      const local = `${raw.localAddress}:${raw.localPort}`;
      const remote = `${raw.remoteAddress}:${raw.remotePort}`;
      this.#fail(`read tcp ${local}->${remote}: i/o timeout`);
    }, opts.timeoutMs);
    // Once the acceptor runs, it reports a close itself (with the TLS library's reason).
    raw.once("close", () => {
      if (!this.#handshaking) this.#fail("connection closed before the TLS handshake");
    });
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closed || this.#failed) return Promise.reject(new Error("socket closed"));
    if (this.#ts) return writeSocket(this.#ts, data);
    if (this.#plainHead) return writeSocket(this.#raw, data);
    if (!this.#started) {
      this.#started = true;
      const wrote = writeSocket(this.#raw, data);
      this.#peekThenHandshake();
      return wrote;
    }
    // Queued behind the handshake; on failure, settle after the owner heard of it.
    return this.upgraded.then(
      () => writeSocket(this.#ts ?? this.#raw, data),
      (err) => new Promise<void>((_, reject) => setTimeout(() => reject(err), 0)),
    );
  }

  close(_how?: CloseDescriptor): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    if (this.#ts) this.#ts.destroy();
    this.#raw.destroy();
    this.#fail("connection closed");
  }

  /** After {@link upgraded}: delivers bytes to `sink` until EOF, error or close. */
  readInto(sink: ByteSink): Promise<void> {
    const head = this.#plainHead;
    if (!this.#ts && !head) {
      sink.transportClosed();
      return Promise.resolve();
    }
    const inner = new NodeSocketTransport(this.#ts ?? this.#raw, this.peer);
    if (head) {
      if (head.length) sink.receive(head);
      queueMicrotask(() => this.#raw.resume());
    }
    return inner.readInto({
      receive: (b) => sink.receive(b),
      transportClosed: (err) => sink.transportClosed(this.#closed ? undefined : err),
    });
  }

  #peekThenHandshake(): void {
    const raw = this.#raw;
    const plainFirst = (head: Uint8Array) => this.#allowPlain && head[0] !== 0x16;
    peekFirstBytes(raw, TLS_RECORD_HEADER_LEN, (head) => {
      if (plainFirst(head)) return this.#keepPlain(head);
      if (!looksLikeTlsRecord(head)) return this.#fail(NOT_TLS);
      this.#handshaking = true;
      this.#acceptor.handshake(raw, head).then((ts) => {
        if (this.#failed) {
          ts.destroy();
          return;
        }
        const peer = tlsPeerInfo(ts);
        if (this.#pinned && !this.#matchesPin(peer)) {
          ts.destroy();
          return this.#fail("certificate not pinned");
        }
        clearTimeout(this.#timer);
        this.#ts = ts;
        ts.on("error", () => {/* reported through readInto */});
        this.peer.tls = peer;
        this.#resolve();
      }, (err: Error) => this.#fail(err.message));
    }, plainFirst);
  }

  /** allow_non_tls decided for plaintext: `head` (already read) is delivered first. */
  #keepPlain(head: Uint8Array): void {
    this.#raw.removeAllListeners("data");
    this.#raw.pause();
    this.#handshaking = true; // decided: no TLS; a close now is the reader's to report
    clearTimeout(this.#timer);
    this.#plainHead = head;
    this.#resolve();
  }

  #matchesPin(peer: TlsPeer): boolean {
    const leaf = peer.chainDer[0];
    if (!leaf) return false;
    try {
      return this.#pinned!.includes(spkiSha256(leaf));
    } catch {
      return false;
    }
  }

  #fail(why: string): void {
    if (this.#failed || this.#ts) return;
    this.#failed = true;
    clearTimeout(this.#timer);
    this.#raw.destroy();
    this.#reject(new TlsHandshakeError(why));
  }
}

function writeSocket(socket: net.Socket, data: Uint8Array): Promise<void> {
  if (socket.destroyed) return Promise.reject(new Error("socket closed"));
  return new Promise<void>((resolve, reject) => {
    socket.write(data, (err?: Error | null) => err ? reject(err) : resolve());
  });
}
