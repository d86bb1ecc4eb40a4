import zlib from "node:zlib";
import type { WsEvent } from "../../../lib/transport/ws/mod.ts";

export const te = new TextEncoder();
export const td = new TextDecoder();

/** Compress like a client: raw deflate, sync flush, `00 00 ff ff` tail removed. */
export function clientDeflate(payload: Uint8Array, level = 6): Uint8Array {
  const out = zlib.deflateRawSync(payload, { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const tail = [...out.subarray(out.length - 4)];
  if (tail.join() !== "0,0,255,255") throw new Error("no sync-flush tail");
  return new Uint8Array(out.subarray(0, out.length - 4));
}

/**
 * Port of the reference's testWSCreateClientMsg: a masked client frame (key 1,2,3,4).
 * `frameNum` 1 writes the opcode; later frames are continuations (opcode 0).
 */
export function clientMsg(
  frameType: number,
  frameNum: number,
  final: boolean,
  compressed: boolean,
  payload: Uint8Array | string,
  opts: { mask?: boolean; preCompressed?: boolean } = {},
): Uint8Array {
  let p = typeof payload === "string" ? te.encode(payload) : payload;
  if (compressed && !opts.preCompressed) p = clientDeflate(p, 1);
  const mask = opts.mask ?? true;
  const frame = new Uint8Array(14 + p.length);
  if (frameNum === 1) frame[0] = frameType;
  if (final) frame[0] |= 0x80;
  if (compressed) frame[0] |= 0x40;
  const m = mask ? 0x80 : 0;
  let pos: number;
  if (p.length <= 125) {
    frame[1] = p.length | m;
    pos = 2;
  } else if (p.length < 65536) {
    frame[1] = 126 | m;
    new DataView(frame.buffer).setUint16(2, p.length);
    pos = 4;
  } else {
    frame[1] = 127 | m;
    new DataView(frame.buffer).setBigUint64(2, BigInt(p.length));
    pos = 10;
  }
  const key = [1, 2, 3, 4];
  if (mask) {
    frame.set(key, pos);
    pos += 4;
  }
  for (let i = 0; i < p.length; i++) frame[pos + i] = mask ? p[i] ^ key[i & 3] : p[i];
  return frame.subarray(0, pos + p.length);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A comparable summary of events: data as text (joined across consecutive data events). */
export type Summary =
  | ["data", string]
  | ["ping", string]
  | ["pong", string]
  | ["close", number, string]
  | ["error", string, string];

export function summarize(events: WsEvent[]): Summary[] {
  const out: Summary[] = [];
  for (const e of events) {
    switch (e.type) {
      case "data": {
        const last = out[out.length - 1];
        if (last && last[0] === "data") last[1] += td.decode(e.data);
        else out.push(["data", td.decode(e.data)]);
        break;
      }
      case "ping":
        out.push(["ping", td.decode(e.payload)]);
        break;
      case "pong":
        out.push(["pong", td.decode(e.payload)]);
        break;
      case "close":
        out.push(["close", e.status, e.body]);
        break;
      case "error":
        out.push(["error", e.kind, e.message]);
        break;
    }
  }
  return out;
}

/** Merge adjacent data entries produced by different feeds. */
export function mergeData(s: Summary[]): Summary[] {
  const out: Summary[] = [];
  for (const e of s) {
    const last = out[out.length - 1];
    if (e[0] === "data" && last && last[0] === "data") last[1] += e[1];
    else out.push([...e] as Summary);
  }
  return out;
}
