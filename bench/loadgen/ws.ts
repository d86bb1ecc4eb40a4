/**
 * Minimal WebSocket client transport for the load generator (RFC 6455, client side only):
 * HTTP upgrade, masked binary frames out, unmasked frames in, streamed frame payloads (a frame
 * larger than the read buffer is handed out in pieces). No extensions (no permessage-deflate),
 * so the server sends plain frames. WebSocket pings from the server are ignored; NATS keeps its
 * own PING/PONG inside the frames.
 */
import { type ByteStream, type Dialer, writeFully } from "./stream.ts";

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const HANDSHAKE_MAX = 16 * 1024;

/** One masked binary frame carrying `data`. */
export function maskedFrame(data: Uint8Array): Uint8Array {
  const len = data.length;
  const hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(hl + 4 + len);
  out[0] = 0x82; // FIN + binary
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
  #raw = new Uint8Array(256 * 1024);
  #rs = 0;
  #re = 0;
  /** Payload bytes of the current data frame not yet handed out. */
  #frameLeft = 0;
  #eof = false;
  #closed = false;

  constructor(readonly conn: Deno.TcpConn, leftover: Uint8Array) {
    this.#raw.set(leftover);
    this.#re = leftover.length;
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
    if ((b0 & 0x70) !== 0) throw new Error("websocket: unexpected RSV bits (compression?)");
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
    const op = b0 & 0x0f;
    if (op <= 2) {
      this.#rs += hl;
      this.#frameLeft = len;
      return "ok";
    }
    // Control frame: needs its whole (<= 125 byte) payload.
    if (avail < hl + len) return "more";
    this.#rs += hl + len;
    return op === 8 ? "close" : "ok";
  }

  async read(p: Uint8Array): Promise<number | null> {
    if (this.#eof) return null;
    let out = 0;
    // Bounded: every pass consumes buffered bytes, returns, or reads from the socket.
    while (true) {
      if (this.#frameLeft > 0 && this.#re > this.#rs) {
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
    }
  }

  writeAll(data: Uint8Array): Promise<void> {
    return writeFully(this.conn, maskedFrame(data));
  }
  prepare(data: Uint8Array): Uint8Array {
    return maskedFrame(data);
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

/** Connect and upgrade; throws with the server's status line on refusal. */
export async function wsConnect(port: number, hostname = "127.0.0.1", timeoutMs = 5000) {
  const conn = await Deno.connect({ hostname, port, transport: "tcp" });
  conn.setNoDelay(true);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    const key = b64(crypto.getRandomValues(new Uint8Array(16)));
    const req = `GET / HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\n` +
      `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`;
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
    if (/^sec-websocket-extensions:/im.test(head)) {
      throw new Error("websocket: server negotiated an extension we did not offer");
    }
    return new WsStream(conn, buf.slice(headEnd, have));
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
export function wsDialer(port: number, hostname = "127.0.0.1"): Dialer {
  return () => wsConnect(port, hostname);
}
