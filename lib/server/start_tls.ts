/**
 * The common tail of a port that upgrades to TLS after a plaintext INFO (client TLS port,
 * leafnode TLS port): once the handshake is done, the transport reads into the connection; a
 * failed handshake is logged and closes it with "TLS Handshake Failure", as nats-server does.
 *
 * @module
 */
import type { Logger } from "../protocol/context.ts";
import { Closed } from "../protocol/errors.ts";
import type { ByteSink } from "../protocol/transport.ts";
import type { StartTlsTransport } from "../transport/tls_server.ts";

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
    if (conn.isClosed) return transport.close("");
    transport.readInto(conn);
  }, (err: Error) => {
    if (conn.isClosed) return;
    log.error(`${conn} - TLS handshake error: ${err.message}`);
    conn.close(Closed.tlsHandshakeError, false);
  });
}
