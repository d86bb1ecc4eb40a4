/**
 * RFC 6455 framing (+ RFC 7692 permessage-deflate, no context takeover) as used by nats-server
 * 2.9.10 (`wsRead`, `wsHandleControlFrame`, `wsCollapsePtoNB`, `wsEnqueueCloseMessage`).
 * Pure byte code: no sockets, no timers. The decoder is a state machine that accepts its input
 * split at any byte position.
 *
 * @module
 */

import { nodeBuiltin } from "../../core/node_builtin.ts";

// ---------------------------------------------------------------------------------------------
// Constants

/** Frame opcodes. */
export const OPCODE = {
  CONTINUATION: 0,
  TEXT: 1,
  BINARY: 2,
  CLOSE: 8,
  PING: 9,
  PONG: 10,
} as const;

/** Close status codes used by the reference. */
export const CLOSE_STATUS = {
  NORMAL: 1000,
  GOING_AWAY: 1001,
  PROTOCOL_ERROR: 1002,
  UNSUPPORTED_DATA: 1003,
  NO_STATUS: 1005,
  ABNORMAL: 1006,
  INVALID_PAYLOAD: 1007,
  POLICY_VIOLATION: 1008,
  MESSAGE_TOO_BIG: 1009,
  INTERNAL_ERROR: 1011,
  TLS_HANDSHAKE: 1015,
} as const;

const FIN = 0x80;
const RSV1 = 0x40;
const MASK = 0x80;
/** Largest control-frame payload (RFC 6455 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
/** Frame payload limit for browser clients (`wsFrameSizeForBrowsers`). */
export const BROWSER_MAX_FRAME = 4096;
/** Messages up to this many bytes are never compressed (`wsCompressThreshold`). */
export const COMPRESS_THRESHOLD = 64;
/** Default bound on one decompressed message (our addition; the reference has none). */
export const DEFAULT_MAX_DECOMPRESSED = 64 * 1024 * 1024;

/** Appended to a compressed message before inflating: sync-flush tail + empty final block. */
const INFLATE_TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff]);

/** Protocol error texts (close 1002 bodies) of the reference. */
export const WS_ERR = {
  MASK_MISSING: "mask bit missing",
  CONTROL_TOO_BIG: "control frame length bigger than maximum allowed of 125 bytes",
  CONTROL_NOT_FINAL: "control frame does not have final bit set",
  NEW_BEFORE_FINAL: "new message started before final frame for previous message was received",
  INVALID_CONTINUATION: "invalid continuation frame",
  /** Not in the reference (which misreads such lengths): 64-bit length with the top bit set or above 2^53-1. */
  INVALID_LENGTH: "invalid frame payload length",
  INVALID_UTF8_CLOSE: "invalid utf8 body in close frame",
} as const;

/** `unknown opcode N` */
export function unknownOpcodeText(op: number): string {
  return `unknown opcode ${op}`;
}

// ---------------------------------------------------------------------------------------------
// Masking

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * XOR `buf` in place with the 4-byte key at `key[keyOff..keyOff+3]`, starting at key position
 * `pos` (0..3). Returns the key position after the last byte, so a payload split over several
 * calls unmasks correctly.
 */
export function maskInPlace(buf: Uint8Array, key: Uint8Array, pos = 0, keyOff = 0): number {
  const n = buf.length;
  let i = 0;
  if (n >= 32 && LITTLE_ENDIAN) {
    while (((buf.byteOffset + i) & 3) !== 0) {
      buf[i] ^= key[keyOff + ((pos + i) & 3)];
      i++;
    }
    const words = (n - i) >>> 2;
    const k = (pos + i) & 3;
    const kw = (key[keyOff + k] | (key[keyOff + ((k + 1) & 3)] << 8) |
      (key[keyOff + ((k + 2) & 3)] << 16) | (key[keyOff + ((k + 3) & 3)] << 24)) | 0;
    const u32 = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    for (let j = 0; j < words; j++) u32[j] ^= kw;
    i += words << 2;
  }
  for (; i < n; i++) buf[i] ^= key[keyOff + ((pos + i) & 3)];
  return (pos + n) & 3;
}

// ---------------------------------------------------------------------------------------------
// Compression

/**
 * Compress one message (RFC 7692): raw deflate, level 1 (the reference's BestSpeed), sync flush,
 * with the trailing `00 00 ff ff` removed. Fresh context each call (no context takeover).
 */
export function deflateMessage(payload: Uint8Array): Uint8Array {
  const zlib = nodeBuiltin("node:zlib");
  const out = zlib.deflateRawSync(payload, {
    level: 1,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  const n = out.length;
  if (
    n >= 4 && out[n - 4] === 0 && out[n - 3] === 0 && out[n - 2] === 0xff && out[n - 1] === 0xff
  ) {
    return new Uint8Array(out.buffer, out.byteOffset, n - 4);
  }
  return new Uint8Array(out.buffer, out.byteOffset, n);
}

/** Error from {@link inflateMessage}. `tooBig` when the output would exceed the limit. */
export class InflateError extends Error {
  constructor(message: string, readonly tooBig: boolean) {
    super(message);
    this.name = "InflateError";
  }
}

/**
 * Decompress one message: the payload parts are joined, `00 00 ff ff 01 00 00 ff ff` appended and
 * the result inflated with a fresh context. Throws {@link InflateError}.
 */
export function inflateMessage(
  parts: Uint8Array | readonly Uint8Array[],
  maxOutputLength = DEFAULT_MAX_DECOMPRESSED,
): Uint8Array {
  const list = parts instanceof Uint8Array ? [parts] : parts;
  const input = concatBytes([...list, INFLATE_TAIL]);
  const zlib = nodeBuiltin("node:zlib");
  try {
    const out = zlib.inflateRawSync(input, { maxOutputLength });
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  } catch (e) {
    const err = e as { code?: string; message?: string };
    if (err.code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) {
      throw new InflateError(
        `decompressed message exceeds the maximum of ${maxOutputLength} bytes`,
        true,
      );
    }
    throw new InflateError(`decompression error: ${err.message ?? String(e)}`, false);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Header size for a payload of `len` bytes: 2, 4 or 10 (+4 when masked). */
export function frameHeaderSize(len: number, masked = false): number {
  return (len <= 125 ? 2 : len < 65536 ? 4 : 10) + (masked ? 4 : 0);
}

/** Options for one frame header. */
export interface FrameHeaderOptions {
  /** FIN bit (default true). */
  fin?: boolean;
  /** RSV1 = compressed (first frame of a compressed message only). */
  rsv1?: boolean;
  /** 4-byte masking key written after the length (client → server frames). */
  maskKey?: Uint8Array;
}

/**
 * Write a frame header into `dst` at `off`; returns the number of bytes written
 * ({@link frameHeaderSize}).
 */
export function writeFrameHeader(
  dst: Uint8Array,
  off: number,
  opcode: number,
  len: number,
  opts: FrameHeaderOptions = {},
): number {
  let b0 = opcode & 0x0f;
  if (opts.fin ?? true) b0 |= FIN;
  if (opts.rsv1) b0 |= RSV1;
  const m = opts.maskKey ? MASK : 0;
  dst[off] = b0;
  let n: number;
  if (len <= 125) {
    dst[off + 1] = m | len;
    n = 2;
  } else if (len < 65536) {
    dst[off + 1] = m | 126;
    dst[off + 2] = len >>> 8;
    dst[off + 3] = len & 0xff;
    n = 4;
  } else {
    dst[off + 1] = m | 127;
    const hi = Math.floor(len / 0x100000000);
    const lo = len >>> 0;
    dst[off + 2] = hi >>> 24;
    dst[off + 3] = (hi >>> 16) & 0xff;
    dst[off + 4] = (hi >>> 8) & 0xff;
    dst[off + 5] = hi & 0xff;
    dst[off + 6] = lo >>> 24;
    dst[off + 7] = (lo >>> 16) & 0xff;
    dst[off + 8] = (lo >>> 8) & 0xff;
    dst[off + 9] = lo & 0xff;
    n = 10;
  }
  if (opts.maskKey) {
    dst.set(opts.maskKey.subarray(0, 4), off + n);
    n += 4;
  }
  return n;
}

function randomMaskKey(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(4));
}

/** Options of {@link encodeFrame}. */
export interface EncodeFrameOptions {
  /** FIN bit (default true). */
  fin?: boolean;
  /** RSV1 bit. */
  rsv1?: boolean;
  /** Mask the payload: `true` = random key, or a given 4-byte key. Server frames are never masked. */
  mask?: boolean | Uint8Array;
}

/** One complete frame (header + payload, masked copy when asked). */
export function encodeFrame(
  opcode: number,
  payload: Uint8Array = new Uint8Array(0),
  opts: EncodeFrameOptions = {},
): Uint8Array {
  const key = opts.mask === true ? randomMaskKey() : opts.mask || undefined;
  const hs = frameHeaderSize(payload.length, key !== undefined);
  const out = new Uint8Array(hs + payload.length);
  writeFrameHeader(out, 0, opcode, payload.length, {
    fin: opts.fin,
    rsv1: opts.rsv1,
    maskKey: key,
  });
  out.set(payload, hs);
  if (key) maskInPlace(out.subarray(hs), key, 0);
  return out;
}

/** Options of {@link encodeBinaryFrames}. */
export interface EncodeBinaryOptions {
  /** Payload limit per frame (0/undefined = none; {@link BROWSER_MAX_FRAME} for browsers). */
  maxFrame?: number;
  /** permessage-deflate negotiated: compress when the payload is larger than 64 bytes. */
  compress?: boolean;
  /** Do not fragment compressed messages (the reference's Safari rule). */
  noCompressFragmentation?: boolean;
  /** Mask frames (client role only, e.g. a soliciting leafnode). */
  mask?: boolean;
}

/**
 * Frame outbound NATS bytes the way the reference does (`wsCollapsePtoNB`): binary frames,
 * unmasked unless asked.
 *
 * * not compressed, no limit: one frame `0x82`;
 * * not compressed, `maxFrame`: independent complete `0x82` frames of at most `maxFrame` bytes;
 * * compressed (`compress` and > 64 bytes): one message with RSV1, `0xC2`; with `maxFrame` and a
 *   longer compressed payload it is fragmented: first `0x42`, then continuations, FIN on the last.
 *
 * Returns the byte chunks to write, in order (header, payload, header, payload, …); payload chunks
 * may be views of `payload`. Concatenated they are the wire bytes. Empty input → no chunks.
 */
export function encodeBinaryFrames(
  payload: Uint8Array,
  opts: EncodeBinaryOptions = {},
): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  if (payload.length === 0) return chunks;
  let mfs = opts.maxFrame ?? 0;
  const mask = opts.mask ?? false;
  const push = (
    op: number,
    body: Uint8Array,
    fin: boolean,
    rsv1: boolean,
    owned: boolean,
  ): void => {
    const key = mask ? randomMaskKey() : undefined;
    const h = new Uint8Array(frameHeaderSize(body.length, mask));
    writeFrameHeader(h, 0, op, body.length, { fin, rsv1, maskKey: key });
    let b = body;
    if (key) {
      if (!owned) b = body.slice();
      maskInPlace(b, key, 0);
    }
    chunks.push(h, b);
  };
  if (opts.compress && payload.length > COMPRESS_THRESHOLD) {
    if (mfs > 0 && opts.noCompressFragmentation) mfs = 0;
    const p = deflateMessage(payload);
    if (mfs > 0 && p.length > mfs) {
      for (let off = 0, first = true; off < p.length; first = false) {
        const lp = Math.min(mfs, p.length - off);
        const final = off + lp === p.length;
        push(
          first ? OPCODE.BINARY : OPCODE.CONTINUATION,
          p.subarray(off, off + lp),
          final,
          first,
          true,
        );
        off += lp;
      }
    } else {
      push(OPCODE.BINARY, p, true, true, true);
    }
    return chunks;
  }
  if (mfs > 0) {
    for (let off = 0; off < payload.length; off += mfs) {
      push(
        OPCODE.BINARY,
        payload.subarray(off, Math.min(off + mfs, payload.length)),
        true,
        false,
        false,
      );
    }
  } else {
    push(OPCODE.BINARY, payload, true, false, false);
  }
  return chunks;
}

/** Concatenate byte chunks (e.g. the result of {@link encodeBinaryFrames}). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const c of chunks) n += c.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/**
 * Close payload (`wsCreateCloseMessage`): 2-byte big-endian status + UTF-8 body; a body longer
 * than 123 bytes is cut to its first 120 bytes + "...".
 */
export function closePayload(status: number, body = ""): Uint8Array {
  let b = new TextEncoder().encode(body);
  if (b.length > MAX_CONTROL_PAYLOAD - 2) {
    const cut = new Uint8Array(MAX_CONTROL_PAYLOAD - 2);
    cut.set(b.subarray(0, MAX_CONTROL_PAYLOAD - 5));
    cut.set([0x2e, 0x2e, 0x2e], MAX_CONTROL_PAYLOAD - 5);
    b = cut;
  }
  const out = new Uint8Array(2 + b.length);
  out[0] = (status >>> 8) & 0xff;
  out[1] = status & 0xff;
  out.set(b, 2);
  return out;
}

/**
 * The close body as text, truncated like {@link closePayload} (for `WebSocket.close(code, reason)`
 * in the native engine, which rejects reasons over 123 bytes).
 */
export function closeBodyText(body: string): string {
  return new TextDecoder().decode(closePayload(0, body).subarray(2));
}

/** A complete close frame (`0x88`), unmasked unless asked. */
export function encodeCloseFrame(
  status: number,
  body = "",
  opts: { mask?: boolean | Uint8Array } = {},
): Uint8Array {
  return encodeFrame(OPCODE.CLOSE, closePayload(status, body), { mask: opts.mask });
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** What the decoder produces, in wire order. */
export type WsEvent =
  | {
    /** Payload bytes of a text/binary/continuation frame (raw NATS bytes), or an inflated message. */
    type: "data";
    data: Uint8Array;
  }
  | {
    type: "ping";
    payload: Uint8Array;
    /** The pong frame to send back (same payload). */
    reply: Uint8Array;
  }
  | { type: "pong"; payload: Uint8Array }
  | {
    /** Peer close. The decoder stops; the connection should be closed as "Client Closed". */
    type: "close";
    /** Received status (1005 when the payload had < 2 bytes; 1007 for a bad UTF-8 body). */
    status: number;
    body: string;
    /** The close frame to echo (reference: same status and body; 1005 is echoed as is). */
    reply: Uint8Array;
  }
  | {
    /**
     * Fatal error; the decoder stops. `protocol`: reference protocol error, send `reply`
     * (close 1002) best effort, then close as "Read Error". `inflate`: corrupt compressed data,
     * the reference sends no close frame ("Read Error"). `too_big`: decompressed message over the
     * limit (our addition), `reply` is close 1009.
     */
    type: "error";
    kind: "protocol" | "inflate" | "too_big";
    message: string;
    reply?: Uint8Array;
  };

/** Options of {@link WsFrameDecoder}. */
export interface WsFrameDecoderOptions {
  /** Accept unmasked frames (`Nats-No-Masking: true` negotiated, or the client role). */
  noMasking?: boolean;
  /** Bound on one decompressed message (default {@link DEFAULT_MAX_DECOMPRESSED}). */
  maxDecompressed?: number;
  /** Mask the reply frames (pong/close) — only for the client role. */
  maskReplies?: boolean;
}

/** The decoder's empty control payload (never written to). */
const NO_BYTES = new Uint8Array(0);

const S_HEADER = 0;
const S_DATA = 1;
const S_CONTROL = 2;
const S_DONE = 3;

/**
 * Incremental RFC 6455 decoder for frames sent by a client.
 *
 * `feed()` returns the events found in the bytes given so far. Uncompressed data events are
 * views of the input, unmasked **in place**: the caller must consume them before reusing that
 * buffer. After a `close` or `error` event the decoder ignores all further input.
 *
 * Differences from the reference: with `noMasking`, a frame that still has the mask bit set is
 * unmasked (the reference would misread it); 64-bit lengths above 2^53-1 are a protocol error;
 * compressed messages are bounded by `maxDecompressed`.
 */
export class WsFrameDecoder {
  readonly #requireMask: boolean;
  readonly #maxDecompressed: number;
  readonly #maxCompressed: number;
  readonly #maskReplies: boolean;

  #state = S_HEADER;
  readonly #hdr = new Uint8Array(14);
  #hdrLen = 0;
  #hdrNeed = 2;
  #checked = false;

  #opcode = 0;
  #fin = false;
  #masked = false;
  /** Where the masking key sits in {@link #hdr} (it stays there until the next header). */
  #keyOff = 0;
  #keyPos = 0;
  #rem = 0;

  /** A fragmented text/binary message is open (the reference's `!ff`). */
  #inMessage = false;
  /** The current message is compressed (`fc`). */
  #compressed = false;
  #cparts: Uint8Array[] = [];
  #csize = 0;

  #ctrl: Uint8Array = NO_BYTES;
  #ctrlLen = 0;

  constructor(opts: WsFrameDecoderOptions = {}) {
    this.#requireMask = !opts.noMasking;
    this.#maxDecompressed = opts.maxDecompressed ?? DEFAULT_MAX_DECOMPRESSED;
    this.#maxCompressed = this.#maxDecompressed + (this.#maxDecompressed >>> 4) + 1024;
    this.#maskReplies = opts.maskReplies ?? false;
  }

  /** True after a close or an error: no more events will be produced. */
  get done(): boolean {
    return this.#state === S_DONE;
  }

  /** Decode `input` (any size, any split). See the class notes about in-place unmasking. */
  feed(input: Uint8Array): WsEvent[] {
    const events: WsEvent[] = [];
    const n = input.length;
    let pos = 0;
    while (pos < n && this.#state !== S_DONE) {
      switch (this.#state) {
        case S_HEADER: {
          const hdr = this.#hdr;
          while (this.#hdrLen < this.#hdrNeed && pos < n) hdr[this.#hdrLen++] = input[pos++];
          if (this.#hdrLen < this.#hdrNeed) break;
          if (!this.#checked) {
            this.#checked = true;
            const err = this.#checkStart();
            if (err !== null) {
              this.#fail(events, "protocol", err);
              break;
            }
            if (this.#hdrLen < this.#hdrNeed) break;
          }
          this.#finishHeader(events);
          break;
        }
        case S_DATA: {
          const take = Math.min(this.#rem, n - pos);
          const chunk = input.subarray(pos, pos + take);
          pos += take;
          this.#rem -= take;
          if (this.#masked) {
            this.#keyPos = maskInPlace(chunk, this.#hdr, this.#keyPos, this.#keyOff);
          }
          if (this.#compressed) {
            this.#csize += take;
            if (this.#csize > this.#maxCompressed) {
              this.#tooBig(events);
              break;
            }
            this.#cparts.push(chunk.slice());
          } else if (take > 0) {
            events.push({ type: "data", data: chunk });
          }
          if (this.#rem === 0) this.#endDataFrame(events);
          break;
        }
        case S_CONTROL: {
          const take = Math.min(this.#ctrl.length - this.#ctrlLen, n - pos);
          this.#ctrl.set(input.subarray(pos, pos + take), this.#ctrlLen);
          this.#ctrlLen += take;
          pos += take;
          if (this.#ctrlLen === this.#ctrl.length) this.#handleControl(events);
          break;
        }
      }
    }
    return events;
  }

  /** Validate the first two header bytes and compute the full header size. */
  #checkStart(): string | null {
    const b0 = this.#hdr[0];
    const b1 = this.#hdr[1];
    const op = b0 & 0x0f;
    const fin = (b0 & FIN) !== 0;
    const rsv1 = (b0 & RSV1) !== 0;
    const masked = (b1 & MASK) !== 0;
    if (this.#requireMask && !masked) return WS_ERR.MASK_MISSING;
    const len7 = b1 & 0x7f;
    switch (op) {
      case OPCODE.CLOSE:
      case OPCODE.PING:
      case OPCODE.PONG:
        if (len7 > MAX_CONTROL_PAYLOAD) return WS_ERR.CONTROL_TOO_BIG;
        if (!fin) return WS_ERR.CONTROL_NOT_FINAL;
        break;
      case OPCODE.TEXT:
      case OPCODE.BINARY:
        if (this.#inMessage) return WS_ERR.NEW_BEFORE_FINAL;
        this.#inMessage = !fin;
        this.#compressed = rsv1;
        break;
      case OPCODE.CONTINUATION:
        if (!this.#inMessage || rsv1) return WS_ERR.INVALID_CONTINUATION;
        this.#inMessage = !fin;
        break;
      default:
        return unknownOpcodeText(op);
    }
    this.#opcode = op;
    this.#fin = fin;
    this.#masked = masked;
    this.#hdrNeed = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + (masked ? 4 : 0);
    return null;
  }

  #finishHeader(events: WsEvent[]): void {
    const h = this.#hdr;
    let len = h[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      len = (h[2] << 8) | h[3];
      off = 4;
    } else if (len === 127) {
      const hi = ((h[2] << 24) | (h[3] << 16) | (h[4] << 8) | h[5]) >>> 0;
      const lo = ((h[6] << 24) | (h[7] << 16) | (h[8] << 8) | h[9]) >>> 0;
      if (hi > 0x1fffff) {
        this.#fail(events, "protocol", WS_ERR.INVALID_LENGTH);
        return;
      }
      len = hi * 0x100000000 + lo;
      off = 10;
    }
    this.#keyOff = off;
    this.#keyPos = 0;
    this.#rem = len;
    this.#hdrLen = 0;
    this.#hdrNeed = 2;
    this.#checked = false;
    if (this.#opcode >= OPCODE.CLOSE) {
      this.#ctrl = new Uint8Array(len);
      this.#ctrlLen = 0;
      this.#state = S_CONTROL;
      if (len === 0) this.#handleControl(events);
      return;
    }
    this.#state = S_DATA;
    if (len === 0) this.#endDataFrame(events);
  }

  #endDataFrame(events: WsEvent[]): void {
    this.#state = S_HEADER;
    if (this.#compressed && this.#fin) {
      const parts = this.#cparts;
      this.#cparts = [];
      this.#csize = 0;
      this.#compressed = false;
      let out: Uint8Array;
      try {
        out = inflateMessage(parts, this.#maxDecompressed);
      } catch (e) {
        if (e instanceof InflateError && e.tooBig) this.#tooBig(events);
        else this.#fail(events, "inflate", (e as Error).message);
        return;
      }
      if (out.length > 0) events.push({ type: "data", data: out });
    }
  }

  #handleControl(events: WsEvent[]): void {
    const payload = this.#ctrl;
    this.#ctrl = NO_BYTES;
    if (this.#masked) maskInPlace(payload, this.#hdr, 0, this.#keyOff);
    this.#state = S_HEADER;
    const mask = this.#maskReplies;
    switch (this.#opcode) {
      case OPCODE.PING:
        events.push({ type: "ping", payload, reply: encodeFrame(OPCODE.PONG, payload, { mask }) });
        return;
      case OPCODE.PONG:
        events.push({ type: "pong", payload });
        return;
      default: {
        let status: number = CLOSE_STATUS.NO_STATUS;
        let body = "";
        if (payload.length >= 2) {
          status = (payload[0] << 8) | payload[1];
          if (payload.length > 2) {
            try {
              body = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(
                payload.subarray(2),
              );
            } catch {
              status = CLOSE_STATUS.INVALID_PAYLOAD;
              body = WS_ERR.INVALID_UTF8_CLOSE;
            }
          }
        }
        events.push({
          type: "close",
          status,
          body,
          reply: encodeFrame(OPCODE.CLOSE, closePayload(status, body), { mask }),
        });
        this.#state = S_DONE;
      }
    }
  }

  #tooBig(events: WsEvent[]): void {
    const message = `decompressed message exceeds the maximum of ${this.#maxDecompressed} bytes`;
    this.#cparts = [];
    events.push({
      type: "error",
      kind: "too_big",
      message,
      reply: encodeFrame(OPCODE.CLOSE, closePayload(CLOSE_STATUS.MESSAGE_TOO_BIG, message), {
        mask: this.#maskReplies,
      }),
    });
    this.#state = S_DONE;
  }

  #fail(events: WsEvent[], kind: "protocol" | "inflate", message: string): void {
    this.#cparts = [];
    events.push(
      kind === "protocol"
        ? {
          type: "error",
          kind,
          message,
          reply: encodeFrame(OPCODE.CLOSE, closePayload(CLOSE_STATUS.PROTOCOL_ERROR, message), {
            mask: this.#maskReplies,
          }),
        }
        : { type: "error", kind, message },
    );
    this.#state = S_DONE;
  }
}
