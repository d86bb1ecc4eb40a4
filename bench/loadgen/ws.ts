/**
 * Minimal WebSocket client transport for the load generator (RFC 6455, client side only):
 * HTTP upgrade, masked binary frames out, unmasked frames in, streamed frame payloads (a frame
 * larger than the read buffer is handed out in pieces). WebSocket pings from the server are
 * ignored; NATS keeps its own PING/PONG inside the frames.
 *
 * Compression (RFC 7692 permessage-deflate), only when the dialer asks for it: the upgrade
 * offers `Sec-WebSocket-Extensions: permessage-deflate` and the server must accept it with
 * `server_no_context_takeover` (nats-server and ours always do), so every message is inflated on
 * its own, with the server's helpers from `lib/transport/ws/frames.ts`.
 * Outbound messages larger than 64 bytes are deflated (level 1, no context takeover, RSV1), as
 * the servers do; a pre-built batch (`prepare`) is deflated once, so the publisher's hot loop
 * costs the same as without compression.
 */
import { deflateMessage, inflateMessage } from "../../lib/transport/ws/frames.ts";
import { type ByteStream, type Dialer, type WireStats, writeFully } from "./stream.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const HANDSHAKE_MAX = 16 * 1024;
/** Outbound messages up to this size go uncompressed (the servers' threshold). */
const COMPRESS_THRESHOLD = 64;

// The server's own permessage-deflate helpers (same level, tail handling and fresh context per
// message), re-exported for the load generator's tests.
export { deflateMessage, inflateMessage };

/** One masked binary frame carrying `data`; `rsv1` marks a compressed message. */
export function maskedFrame(data: Uint8Array, rsv1 = false): Uint8Array {
  const len = data.length;
  const hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(hl + 4 + len);
  out[0] = rsv1 ? 0xc2 : 0x82; // FIN (+ RSV1) + binary
  if (len < 126) {
    out[1] = 0x80 | len;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 0x80 | 127;
    const hi = Math.floor(len / 2 ** 32);
    const lo = len >>> 0;
    new DataView(out.buffer).setUint32(2, hi);
    new DataView(out.buffer).setUint32(6, lo);
  }
  const key = crypto.getRandomValues(new Uint8Array(4));
  out.set(key, hl);
  const base = hl + 4;
  for (let i = 0; i < len; i++) out[base + i] = data[i] ^ key[i & 3];
  return out;
}

export class WsStream implements ByteStream {
  #raw: Uint8Array;
  #rs = 0;
  #re = 0;
  /** Payload bytes of the current data frame not yet handed out (or collected). */
  #frameLeft = 0;
  /** The current data frame ends its message. */
  #frameFin = false;
  /** The current message is compressed (RSV1 on its first frame). */
  #msgCompressed = false;
  /** Payload pieces of the compressed message being collected. */
  #zParts: Uint8Array[] = [];
  /** Inflated bytes not yet handed out. */
  #inflated: Uint8Array | null = null;
  #infPos = 0;
  #eof = false;
  #closed = false;
  readonly #stats: WireStats = { wireBytes: 0, dataBytes: 0, compressedMsgs: 0 };

  /**
   * `compressed`: permessage-deflate was negotiated (with server_no_context_takeover).
   */
  constructor(
    readonly conn: Deno.TcpConn,
    leftover: Uint8Array,
    readonly compressed = false,
    readBufSize = 256 * 1024,
  ) {
    this.#raw = new Uint8Array(Math.max(readBufSize, leftover.length));
    this.#raw.set(leftover);
    this.#re = leftover.length;
    this.#stats.wireBytes = leftover.length;
  }

  /**
   * Parse one frame header at #rs. Returns "more" when the header (or a control frame's payload)
   * is incomplete, "ok" when something was consumed, "close" on a close frame.
   */
  #header(): "more" | "ok" | "close" {
    const raw = this.#raw;
    const avail = this.#re - this.#rs;
    if (avail < 2) return "more";
    const b0 = raw[this.#rs];
    const b1 = raw[this.#rs + 1];
    if ((b1 & 0x80) !== 0) throw new Error("websocket: server sent a masked frame");
    const op = b0 & 0x0f;
    const rsv1 = (b0 & 0x40) !== 0;
    if ((b0 & 0x30) !== 0 || (rsv1 && (!this.compressed || (op !== 1 && op !== 2)))) {
      throw new Error(`websocket: unexpected RSV bits (first byte 0x${b0.toString(16)})`);
    }
    let len = b1 & 0x7f;
    let hl = 2;
    if (len === 126) {
      if (avail < 4) return "more";
      len = (raw[this.#rs + 2] << 8) | raw[this.#rs + 3];
      hl = 4;
    } else if (len === 127) {
      if (avail < 10) return "more";
      const dv = new DataView(raw.buffer, raw.byteOffset + this.#rs + 2, 8);
      len = dv.getUint32(0) * 2 ** 32 + dv.getUint32(4);
      hl = 10;
    }
    if (op <= 2) {
      this.#rs += hl;
      if (op !== 0) this.#msgCompressed = rsv1; // continuations keep the message's state
      this.#frameLeft = len;
      this.#frameFin = (b0 & 0x80) !== 0;
      if (len === 0 && this.#frameFin && this.#msgCompressed) this.#inflate();
      return "ok";
    }
    // Control frame: needs its whole (<= 125 byte) payload.
    if (avail < hl + len) return "more";
    this.#rs += hl + len;
    return op === 8 ? "close" : "ok";
  }

  /** The compressed message is complete: inflate it for handing out. */
  #inflate(): void {
    const out = inflateMessage(this.#zParts);
    this.#zParts = [];
    this.#msgCompressed = false;
    this.#stats.compressedMsgs++;
    if (out.length > 0) {
      this.#inflated = out;
      this.#infPos = 0;
    }
  }

  async read(p: Uint8Array): Promise<number | null> {
    const n = await this.#read(p);
    if (n !== null) this.#stats.dataBytes += n;
    return n;
  }

  wireStats(): WireStats {
    return { ...this.#stats };
  }

  async #read(p: Uint8Array): Promise<number | null> {
    if (this.#eof) return null;
    let out = 0;
    // Bounded: every pass consumes buffered bytes, returns, or reads from the socket.
    while (true) {
      const inf = this.#inflated;
      if (inf !== null) {
        const k = Math.min(inf.length - this.#infPos, p.length - out);
        p.set(inf.subarray(this.#infPos, this.#infPos + k), out);
        out += k;
        this.#infPos += k;
        if (this.#infPos === inf.length) this.#inflated = null;
        if (out === p.length) return out;
        continue;
      }
      if (this.#frameLeft > 0 && this.#re > this.#rs) {
        if (this.#msgCompressed) {
          const k = Math.min(this.#frameLeft, this.#re - this.#rs);
          this.#zParts.push(this.#raw.slice(this.#rs, this.#rs + k));
          this.#rs += k;
          this.#frameLeft -= k;
          if (this.#frameLeft === 0 && this.#frameFin) this.#inflate();
          continue;
        }
        const k = Math.min(this.#frameLeft, this.#re - this.#rs, p.length - out);
        p.set(this.#raw.subarray(this.#rs, this.#rs + k), out);
        out += k;
        this.#rs += k;
        this.#frameLeft -= k;
        if (out === p.length) return out;
        continue;
      }
      if (this.#frameLeft === 0 && this.#re > this.#rs) {
        const h = this.#header();
        if (h === "ok") continue;
        if (h === "close") {
          this.#eof = true;
          return out > 0 ? out : null;
        }
      }
      if (out > 0) return out;
      // Need more bytes from the socket: make room first.
      if (this.#rs === this.#re) {
        this.#rs = this.#re = 0;
      } else if (this.#rs > 0) {
        this.#raw.copyWithin(0, this.#rs, this.#re);
        this.#re -= this.#rs;
        this.#rs = 0;
      }
      const n = await this.conn.read(this.#raw.subarray(this.#re));
      if (n === null) {
        this.#eof = true;
        return null;
      }
      this.#re += n;
      this.#stats.wireBytes += n;
    }
  }

  /** The wire frame for one message: deflated (RSV1) when negotiated and above 64 bytes. */
  #frame(data: Uint8Array): Uint8Array {
    if (this.compressed && data.length > COMPRESS_THRESHOLD) {
      return maskedFrame(deflateMessage(data), true);
    }
    return maskedFrame(data);
  }

  writeAll(data: Uint8Array): Promise<void> {
    return writeFully(this.conn, this.#frame(data));
  }
  prepare(data: Uint8Array): Uint8Array {
    return this.#frame(data);
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
      // already closed
    }
  }
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

/** Options of {@link wsConnect} / {@link wsDialer}. */
export interface WsClientOptions {
  /**
   * Offer permessage-deflate; the server must accept it (with server_no_context_takeover) or
   * the connect fails, so a run never silently measures uncompressed traffic.
   */
  compress?: boolean;
  hostname?: string;
  timeoutMs?: number;
  /** Raw read buffer per connection (default 256 KiB; idle connections need little). */
  readBufSize?: number;
}

/** Connect and upgrade; throws with the server's status line on refusal. */
export async function wsConnect(port: number, opts: WsClientOptions = {}): Promise<WsStream> {
  const { compress = false, hostname = "127.0.0.1", timeoutMs = 5000 } = opts;
  const conn = await Deno.connect({ hostname, port, transport: "tcp" });
  conn.setNoDelay(true);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    const key = b64(crypto.getRandomValues(new Uint8Array(16)));
    const req = `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      (compress ? "Sec-WebSocket-Extensions: permessage-deflate\r\n" : "") + "\r\n";
    await writeFully(conn, new TextEncoder().encode(req));
    const buf = new Uint8Array(HANDSHAKE_MAX);
    let have = 0;
    let headEnd = -1;
    // Bounded by HANDSHAKE_MAX and the timer.
    while (headEnd < 0) {
      if (have === buf.length) throw new Error("websocket: handshake response too large");
      const n = await conn.read(buf.subarray(have));
      if (n === null) throw new Error("websocket: connection closed during handshake");
      have += n;
      const text = new TextDecoder().decode(buf.subarray(0, have));
      const i = text.indexOf("\r\n\r\n");
      if (i >= 0) headEnd = i + 4;
    }
    const head = new TextDecoder().decode(buf.subarray(0, headEnd));
    const status = head.slice(0, head.indexOf("\r\n"));
    if (!/^HTTP\/1\.1 101/.test(status)) throw new Error(`websocket: upgrade refused: ${status}`);
    const accept = head.match(/^sec-websocket-accept:\s*(\S+)/im)?.[1];
    const want = b64(
      new Uint8Array(
        await crypto.subtle.digest("SHA-1", new TextEncoder().encode(key + GUID)),
      ),
    );
    if (accept !== want) throw new Error("websocket: bad Sec-WebSocket-Accept");
    const ext = head.match(/^sec-websocket-extensions:(.*)$/im)?.[1].trim();
    if (!compress && ext !== undefined) {
      throw new Error("websocket: server negotiated an extension we did not offer");
    }
    if (compress) {
      const params = (ext ?? "").split(";").map((x) => x.trim().toLowerCase());
      if (params[0] !== "permessage-deflate") {
        throw new Error(
          "websocket: server did not negotiate permessage-deflate (compression off or unsupported)",
        );
      }
      if (!params.includes("server_no_context_takeover")) {
        throw new Error(`websocket: server keeps its compression context (${ext}); unsupported`);
      }
    }
    return new WsStream(conn, buf.slice(headEnd, have), compress, opts.readBufSize);
  } catch (e) {
    try {
      conn.close();
    } catch {
      // closed by the timer
    }
    throw e;
  } finally {
    clearTimeout(timer);
  }
}

/** A dialer for WebSocket on loopback. */
export function wsDialer(port: number, opts: WsClientOptions = {}): Dialer {
  return () => wsConnect(port, opts);
}
