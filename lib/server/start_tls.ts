/**
 * What the ports that upgrade to TLS after a plaintext INFO (client TLS port, leafnode TLS port)
 * share: the listener with its certificates, and reading once the handshake is done (a failed
 * handshake is logged and closes the connection with "TLS Handshake Failure", as nats-server
 * does).
 *
 * @module
 */
import type { Logger } from "../protocol/context.ts";
import { Closed, closeDescriptor } from "../core/close_reasons.ts";
import { loadTlsMaterial } from "../config/tls_material.ts";
import { readFile } from "../config/parser.ts";
import type { ByteSink } from "../protocol/transport.ts";
import type net from "node:net";
import type { TlsOptions } from "../config/options.ts";
import {
  listenNet,
  type NetListener,
  type StartTlsTransport,
  TlsAcceptor,
} from "../transport/tls_server.ts";

/** A connection that reads from an upgrading transport. */
export interface UpgradingConnection extends ByteSink {
  readonly isClosed: boolean;
  close(reason: string, flush?: boolean): void;
  toString(): string;
}

/** Starts reading once `transport` is upgraded; logs and closes when the handshake fails. */
export function readAfterUpgrade(
  transport: StartTlsTransport,
  conn: UpgradingConnection,
  log: Logger,
): void {
  transport.upgraded.then(() => {
    if (conn.isClosed) return transport.close(closeDescriptor(""));
    transport.readInto(conn);
  }, (err: Error) => {
    if (conn.isClosed) return;
    log.error(`${conn} - TLS handshake error: ${err.message}`);
    conn.close(Closed.tlsHandshakeError, false);
  });
}

/** A TLS acceptor for the certificates of `tls` (read now). */
export function tlsAcceptor(tls: TlsOptions): Promise<TlsAcceptor> {
  const loaded = loadTlsMaterial(tls, readFile);
  if (!loaded.ok) return Promise.reject(new Error(loaded.error));
  const { certPem, keyPem, caPem } = loaded.material;
  if (certPem === undefined || keyPem === undefined) {
    return Promise.reject(new Error("missing 'cert_file' in TLS configuration"));
  }
  return Promise.resolve(
    new TlsAcceptor({ certPem, keyPem, caPem, verify: tls.verify || tls.verifyAndMap }),
  );
}

/**
 * Reads the certificates of `tls` and listens on host:port with node:net (-1 = random; Deno.listen
 * cannot upgrade). Listen errors come back as Deno's error classes.
 */
export async function listenTls(
  tls: TlsOptions,
  host: string,
  port: number,
  onConnection: (raw: net.Socket) => void,
): Promise<{ listener: NetListener; acceptor: TlsAcceptor }> {
  const acceptor = await tlsAcceptor(tls);
  try {
    const listener = await listenNet(host, port === -1 ? 0 : port, onConnection);
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
