/**
 * Plain TCP transport over `Deno.listen`: accepts sockets, reads into an adaptive buffer and
 * writes whole byte runs (looping on partial writes). Knows bytes and connections, never NATS.
 */
import type { ConnectionKind } from "../core/kinds.ts";
import type { CloseDescriptor } from "../core/close_reasons.ts";
import type { ByteSink, PeerInfo, Transport } from "../protocol/transport.ts";

const MIN_READ = 1024;
const MAX_READ = 256 * 1024;

/** A `Deno.Conn` as a protocol transport. */
export class TcpTransport implements Transport {
  readonly peer: PeerInfo;
  private closed = false;

  constructor(private readonly conn: Deno.Conn, kind: ConnectionKind = "STANDARD") {
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.peer = { kind, hostname: addr.hostname, port: addr.port };
    try {
      (conn as Deno.TcpConn).setNoDelay?.(true);
    } catch { /* not a TCP socket */ }
  }

  async write(data: Uint8Array): Promise<void> {
    let off = 0;
    while (off < data.length) off += await this.conn.write(data.subarray(off));
  }

  /** Closes the socket (a TCP close has no status: the descriptor is not needed). */
  close(_how?: CloseDescriptor): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }

  /** Reads until EOF, growing the buffer while reads fill it and shrinking it when idle. */
  async readInto(sink: ByteSink): Promise<void> {
    let buf = new Uint8Array(MIN_READ);
    let small = 0;
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        const wait = sink.receive(buf.subarray(0, n));
        if (wait) await wait;
        if (n === buf.length && buf.length < MAX_READ) {
          buf = new Uint8Array(buf.length * 2);
          small = 0;
        } else if (n < buf.length / 4 && buf.length > MIN_READ && ++small > 8) {
          buf = new Uint8Array(buf.length / 2);
          small = 0;
        }
      }
      sink.transportClosed();
    } catch (err) {
      sink.transportClosed(this.closed ? undefined : err);
    } finally {
      this.close();
    }
  }
}

/** A TCP listener handing each accepted connection to `onConnection`. */
export class TcpListener {
  private readonly listener: Deno.TcpListener;

  constructor(hostname: string, port: number) {
    this.listener = Deno.listen({ hostname, port, transport: "tcp" });
  }

  /** The bound address (the real port when 0 was asked for). */
  get addr(): Deno.NetAddr {
    return this.listener.addr;
  }

  /** Accepts until closed. */
  async serve(onConnection: (conn: Deno.TcpConn) => void): Promise<void> {
    try {
      for await (const conn of this.listener) onConnection(conn);
    } catch (err) {
      if (!(err instanceof Deno.errors.BadResource)) throw err;
    }
  }

  /**
   * Closes the listening socket: new connects are refused and `serve` returns. Connections
   * already accepted are separate sockets and stay open.
   */
  close(): void {
    try {
      this.listener.close();
    } catch { /* already closed */ }
  }
}
