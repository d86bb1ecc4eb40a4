/**
 * Byte streams the load generator speaks NATS over. A transport (plain TCP, WebSocket) only has
 * to provide this interface; the protocol client and the scenarios never know which one it is.
 */

/** A bidirectional byte pipe to the server. */
export interface ByteStream {
  /** Read protocol bytes into `p`; resolves the count, or null at end of stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Write all of `data` (protocol bytes), framing it if the transport needs to. */
  writeAll(data: Uint8Array): Promise<void>;
  /**
   * Turn protocol bytes into the exact wire bytes once (e.g. a masked WebSocket frame) so a hot
   * loop can resend the same buffer with `writePrepared` without re-framing it.
   */
  prepare(data: Uint8Array): Uint8Array;
  /** Write bytes previously returned by `prepare`. */
  writePrepared(wire: Uint8Array): Promise<void>;
  close(): void;
  /** Inbound byte counts, for transports whose wire bytes differ from the protocol bytes. */
  wireStats?(): WireStats;
}

/** What a transport received: on the wire vs handed to the reader. */
export interface WireStats {
  /** Bytes read from the socket (frame headers and payloads). */
  wireBytes: number;
  /** Protocol bytes handed out by `read` (after inflating). */
  dataBytes: number;
  /** Messages that arrived compressed. */
  compressedMsgs: number;
}

/** Opens a fresh stream to the server under test. */
export type Dialer = () => Promise<ByteStream>;

/** Write every byte of `data` to `conn`, looping on partial writes. */
export async function writeFully(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  // Bounded: every iteration writes at least one byte or throws.
  while (off < data.length) {
    const n = await conn.write(off === 0 ? data : data.subarray(off));
    if (n <= 0) throw new Error("socket write returned 0");
    off += n;
  }
}

/** Plain TCP: the wire bytes are the protocol bytes. */
export class TcpStream implements ByteStream {
  #closed = false;
  constructor(readonly conn: Deno.Conn) {}

  read(p: Uint8Array): Promise<number | null> {
    return this.conn.read(p);
  }
  writeAll(data: Uint8Array): Promise<void> {
    return writeFully(this.conn, data);
  }
  prepare(data: Uint8Array): Uint8Array {
    return data;
  }
  writePrepared(wire: Uint8Array): Promise<void> {
    return writeFully(this.conn, wire);
  }
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed by the peer
    }
  }
}

/** A dialer for plain TCP on loopback. */
export function tcpDialer(port: number, hostname = "127.0.0.1"): Dialer {
  return async () => {
    const conn = await Deno.connect({ hostname, port, transport: "tcp" });
    conn.setNoDelay(true);
    return new TcpStream(conn);
  };
}

/**
 * A dialer for a TLS client port on loopback, as NATS clients do it: read the plaintext INFO
 * line, then upgrade the same socket (`Deno.startTls`, trusting `caPem`). The INFO line is
 * consumed here; the protocol reader does not need it.
 */
export function tlsDialer(port: number, caPem: string, hostname = "127.0.0.1"): Dialer {
  return async () => {
    const tcp = await Deno.connect({ hostname, port, transport: "tcp" });
    tcp.setNoDelay(true);
    const timer = setTimeout(() => tcp.close(), 5000);
    try {
      const buf = new Uint8Array(4096);
      let have = 0;
      // Bounded by the buffer size and the timer: INFO is one short line.
      while (buf.subarray(0, have).indexOf(10) < 0) {
        if (have === buf.length) throw new Error("tls: INFO line too long");
        const n = await tcp.read(buf.subarray(have));
        if (n === null) throw new Error("tls: connection closed before INFO");
        have += n;
      }
      const conn = await Deno.startTls(tcp, { hostname, caCerts: [caPem] });
      await conn.handshake();
      return new TcpStream(conn);
    } catch (e) {
      try {
        tcp.close();
      } catch {
        // closed by the timer
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  };
}
