/**
 * A tiny byte-level reader for the server→client side of the NATS protocol, built to count
 * messages without decoding strings: it finds each control line with `indexOf(LF)`, reads the
 * payload size from the end of a `MSG`/`HMSG` line and skips the payload bytes.
 * Plus helpers that pre-build PUB batches.
 */
import { concatBytes } from "../../lib/transport/ws/frames.ts";

const CR = 13;
const LF = 10;
const SP = 32;
const TAB = 9;
const MAX_CONTROL_LINE = 64 * 1024;

export const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Callbacks for the few protocol events the load generator cares about. */
export interface ProtoEvents {
  /** A MSG/HMSG has been read completely. `reply` is set only when the reader keeps replies. */
  onMsg?(reply: Uint8Array | null): void;
  onPing(): void;
  onPong(): void;
  onErr(text: string): void;
}

/** Incremental parser; feed it whatever `read` returned. */
export class ProtoReader {
  /** Messages read completely (payload and trailing CRLF). */
  msgs = 0;
  /** Payload bytes of those messages (for HMSG: headers + payload). */
  payloadBytes = 0;
  pongs = 0;
  /** True once the first INFO line arrived. */
  gotInfo = false;
  /** The first INFO JSON text. */
  infoText = "";

  #skip = 0; // payload bytes + CRLF still to consume for the current message
  #carry = new Uint8Array(4096);
  #carryLen = 0;
  #reply: Uint8Array | null = null;

  constructor(private readonly ev: ProtoEvents, private readonly keepReply = false) {}

  /** Consume one chunk. The chunk may be reused by the caller afterwards. */
  feed(chunk: Uint8Array): void {
    const n = chunk.length;
    let pos = 0;
    if (this.#carryLen > 0 && this.#skip === 0) {
      // Finish a control line split over two reads.
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.#appendCarry(chunk);
        return;
      }
      this.#appendCarry(chunk.subarray(0, nl + 1));
      const line = this.#carry;
      const len = this.#carryLen;
      this.#carryLen = 0;
      this.#line(line, 0, len - 1);
      pos = nl + 1;
    }
    // Bounded: every iteration advances `pos` or returns.
    while (pos < n) {
      if (this.#skip > 0) {
        const avail = n - pos;
        if (avail < this.#skip) {
          this.#skip -= avail;
          return;
        }
        pos += this.#skip;
        this.#skip = 0;
        this.#done();
        continue;
      }
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) {
        this.#appendCarry(chunk.subarray(pos));
        return;
      }
      this.#line(chunk, pos, nl);
      pos = nl + 1;
    }
  }

  #done(): void {
    this.msgs++;
    const ev = this.ev;
    if (ev.onMsg !== undefined) {
      const r = this.#reply;
      this.#reply = null;
      ev.onMsg(r);
    }
  }

  #appendCarry(part: Uint8Array): void {
    const need = this.#carryLen + part.length;
    if (need > MAX_CONTROL_LINE) throw new Error("control line too long from server");
    if (need > this.#carry.length) {
      const bigger = new Uint8Array(Math.max(need, this.#carry.length * 2));
      bigger.set(this.#carry.subarray(0, this.#carryLen));
      this.#carry = bigger;
    }
    this.#carry.set(part, this.#carryLen);
    this.#carryLen = need;
  }

  /** One control line: `buf[start..lf)`, `lf` is the index of the LF. */
  #line(buf: Uint8Array, start: number, lf: number): void {
    let end = lf;
    if (end > start && buf[end - 1] === CR) end--;
    if (end <= start) return;
    const c0 = buf[start] | 0x20; // lower-case
    if (c0 === 0x6d /* m */ || c0 === 0x68 /* h */) {
      // MSG <subject> <sid> [reply] <#bytes>  /  HMSG <subject> <sid> [reply] <#hdr> <#total>
      let size = 0;
      let mul = 1;
      let i = end - 1;
      while (i > start) {
        const d = buf[i] - 48;
        if (d < 0 || d > 9) break;
        size += d * mul;
        mul *= 10;
        i--;
      }
      if (this.keepReply) this.#reply = replyOf(buf, start, end, c0 === 0x68);
      this.payloadBytes += size;
      this.#skip = size + 2;
      return;
    }
    if (c0 === 0x70 /* p */) {
      const c1 = buf[start + 1] | 0x20;
      if (c1 === 0x6f /* o */) {
        this.pongs++;
        this.ev.onPong();
      } else if (c1 === 0x69 /* i */) {
        this.ev.onPing();
      }
      return;
    }
    if (c0 === 0x69 /* i */) {
      if (!this.gotInfo) {
        this.gotInfo = true;
        this.infoText = decoder.decode(buf.subarray(start + 5, end));
      }
      return;
    }
    if (buf[start] === 0x2d /* - */) {
      this.ev.onErr(decoder.decode(buf.subarray(start, end)));
    }
    // "+OK" and anything else: ignored.
  }
}

/** The reply subject of a MSG/HMSG line, copied out, or null when there is none. */
function replyOf(buf: Uint8Array, start: number, end: number, hmsg: boolean): Uint8Array | null {
  const toks: [number, number][] = [];
  let i = start;
  // Bounded by `end`.
  while (i < end && toks.length < 7) {
    while (i < end && (buf[i] === SP || buf[i] === TAB)) i++;
    if (i >= end) break;
    const s = i;
    while (i < end && buf[i] !== SP && buf[i] !== TAB) i++;
    toks.push([s, i]);
  }
  const want = hmsg ? 6 : 5;
  if (toks.length !== want) return null;
  const [s, e] = toks[3];
  return buf.slice(s, e);
}

/** Concatenate byte arrays (the server's helper). */
export const concat = concatBytes;

/** A payload of `size` printable bytes. */
export function makePayload(size: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = 97 + (i % 26);
  return p;
}

/** One wire-form `PUB subject [reply] size\r\npayload\r\n`. */
export function pubFrame(subject: string, reply: string | null, payload: Uint8Array): Uint8Array {
  const head = reply === null
    ? `PUB ${subject} ${payload.length}\r\n`
    : `PUB ${subject} ${reply} ${payload.length}\r\n`;
  return concat([encoder.encode(head), payload, encoder.encode("\r\n")]);
}

/**
 * `size`-independent source text for payloads that compress like real data: JSON-ish records
 * with pseudo-random ids and values (a fixed-seed generator, so every target gets the same
 * bytes); about 40-50 % of its size after deflate level 1.
 */
export function recordsText(bytes: number, seed = 1): Uint8Array {
  let x = seed >>> 0;
  const next = () => (x = (Math.imul(x, 1664525) + 1013904223) >>> 0);
  let s = "";
  for (let i = 0; s.length < bytes; i++) {
    s += `{"seq":${i},"id":"${next().toString(16)}","v":${next() % 100000}},`;
  }
  return encoder.encode(s.slice(0, bytes));
}

/**
 * `count` PUBs, optionally followed by `PING\r\n`. Without `text` they are copies of one PUB
 * carrying `payload`; with `text`, message i carries the `payload.length` bytes of `text` at
 * offset i * payload.length (wrapping), so no two messages of a batch are alike as long as the
 * text is longer than the batch's payload bytes.
 */
export function pubBatch(
  subject: string,
  payload: Uint8Array,
  count: number,
  withPing: boolean,
  text?: Uint8Array,
): Uint8Array {
  const one = pubFrame(subject, null, payload);
  const ping = withPing ? PING : new Uint8Array(0);
  const out = new Uint8Array(one.length * count + ping.length);
  for (let i = 0; i < count; i++) out.set(one, i * one.length);
  if (text !== undefined && text.length > payload.length) {
    const size = payload.length;
    const at = one.length - 2 - size; // payload offset inside one PUB
    const span = text.length - size;
    for (let i = 0; i < count; i++) {
      const from = (i * size) % span;
      out.set(text.subarray(from, from + size), i * one.length + at);
    }
  }
  out.set(ping, one.length * count);
  return out;
}

/** Size in bytes of one PUB of `payloadSize` on `subject`. */
export function pubSize(subject: string, payloadSize: number): number {
  return `PUB ${subject} ${payloadSize}\r\n`.length + payloadSize + 2;
}

export const PING = encoder.encode("PING\r\n");
export const PONG = encoder.encode("PONG\r\n");

/** The CONNECT line the load generator sends: no echo of +OK, no pedantic checks. */
export function connectLine(name: string): Uint8Array {
  const opts = {
    verbose: false,
    pedantic: false,
    tls_required: false,
    name,
    lang: "deno-loadgen",
    version: "0.1.0",
    protocol: 1,
    echo: true,
    headers: false,
    no_responders: false,
  };
  return encoder.encode(`CONNECT ${JSON.stringify(opts)}\r\n`);
}
