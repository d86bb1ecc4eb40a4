/**
 * WebSocket frame fuzz against our server as a process (`main.ts -c <file>`, so a crash is an
 * exit): by default 1,000,000 frames — 90 % to the codec engine with compression, 10 % to the
 * native engine — generated deterministically from a seed, over many connections in parallel.
 *
 * Every connection carries a NATS stream (CONNECT, PINGs, PUBs with random binary bodies) cut
 * into WebSocket messages at random byte positions: single frames and fragment chains (empty
 * fragments too), text and binary opcodes, compressed messages (RSV1, also fragmented), control
 * frames between any two frames (inside fragment chains too), non-minimal length encodings, and
 * random write splits. On top of that:
 *
 * * benign mutations, on every connection — things the engine must tolerate: RSV2/RSV3 (and RSV1
 *   on control frames) set on the codec engine, which ignores them as nats-server does; bit flips
 *   in the payload or in the masking key of frames whose payload lies inside a PUB body (the
 *   body changes, the stream stays valid); non-minimal lengths;
 * * fatal-class mutations, on "mutated" connections — reserved opcodes, a missing mask bit,
 *   control frames too big or not final, orphan continuations, a new message before the final
 *   fragment, RSV1 on a continuation, bit flips in the header / extended length / masking key /
 *   protocol bytes, truncated frames, random bytes, compressed garbage or truncated compressed
 *   data, decompression bombs (over max_pending), 64-bit lengths with the top bit set, lengths
 *   of 2^40 that never complete, close frames with odd payloads, RSV bits and invalid UTF-8 text
 *   on the native engine — followed by up to 12 more frames (normal or mutated).
 *
 * What must hold:
 *
 * * a "clean" connection (benign mutations only) stays open and gets exactly what it asked for:
 *   one INFO, one PONG per NATS PING, one pong frame per ping frame with the same payloads in
 *   order (count + hash), no -ERR, no close, and an answer to a last ping frame;
 * * whatever the server sends on any fuzz connection is well-formed: unmasked frames, known
 *   opcodes, no RSV2/RSV3, RSV1 only when compression was negotiated and only on a message's
 *   first frame, valid control frames, compressed data that inflates;
 * * a mutated connection ends within a bound either closed by the server (EOF or reset, after a
 *   close frame or not) or still open and answering: after its frames the test completes any
 *   unfinished frame with zero bytes (when under 1 MiB; a 2^40 length is left stalled) and sends
 *   a ping frame with a unique payload, which must be answered or the connection closed within
 *   {@link PROBE_MS} — never a hang;
 * * a control pair (TCP client ↔ ws client with compression) does PUB/SUB round trips with
 *   random payloads the whole time, against each server, and every one arrives byte-exact
 *   within {@link ROUND_TRIP_MS};
 * * the server processes (run with -D, so the debug log paths run too) never exit, their RSS
 *   stays under {@link RSS_LIMIT_MB}, they answer a fresh TCP and ws client afterwards, log no
 *   uncaught error, and shut down cleanly on SIGINT.
 *
 * The default seed is fixed so CI is deterministic; `FUZZ_SEED=<n>` replays or varies a run and
 * `FUZZ_SEED=random` draws one (the seed is always printed);
 * `FUZZ_FRAMES=<n>` changes the frame count; `FUZZ_ONLY=codec:<i>` or `native:<i>` runs just one
 * connection's plan (printed with any failure).
 *
 * Cost on the 2-core dev machine: ~2,000 connections, ~110 MB of frames; 1M frames in 11–17 s
 * idle (60–100k frames/s), ~25 s while another process ran benchmarks.
 */
import {
  deflateMessage,
  inflateMessage,
  maskInPlace,
  OPCODE,
} from "../../lib/transport/ws/frames.ts";
import { assert, assertEquals } from "../helpers/assert.ts";
import { RawClient } from "../helpers/raw.ts";
import { type ServerProcess, startServerProcess } from "../helpers/server_process.ts";
import { upgradeHead, WsTestClient } from "./_ws_codec_harness.ts";

// ---------------------------------------------------------------------------------------------
// Parameters

const SEED_ENV = Deno.env.get("FUZZ_SEED") ?? "20261129";
const SEED = SEED_ENV === "random"
  ? crypto.getRandomValues(new Uint32Array(1))[0]
  : Number(SEED_ENV) >>> 0;
const FRAMES = Number(Deno.env.get("FUZZ_FRAMES") ?? 1_000_000);
if (!(FRAMES > 0)) throw new Error(`FUZZ_FRAMES must be a positive number`);
const ONLY = Deno.env.get("FUZZ_ONLY");
/** Share of the frames that go to the native engine. */
const NATIVE_SHARE = 0.1;
/** Connections in flight per engine. */
const PARALLEL = { codec: 24, native: 8 };
/** Share of connections with a fatal-class mutation. */
const MUTATED_SHARE = 0.75;
/** Per frame chance of a benign mutation. */
const BENIGN_RATE = 0.12;
/**
 * Mutated codec plans whose index is 13 modulo this start their mutations with a decompression
 * bomb (the server inflates up to max_pending, then closes with 1009): ~12 per million frames.
 */
const BOMB_EVERY = 97;
/** The server's max_pending, which also bounds one inflated message (the bomb limit). */
const MAX_PENDING = 8 * 1024 * 1024;
/** How long a connection may take to answer the probe or close; how long a clean one may take
 * to deliver its last PONG. */
const PROBE_MS = 10_000;
/** One control round trip, each way. */
const ROUND_TRIP_MS = 10_000;
/** Upper bound on a fuzz connection from connect to its end. */
const CONN_MS = 30_000;
/** The whole run (all connections of one engine). */
const RUN_MS = 240_000;
const RSS_LIMIT_MB = 512;
/** A truncated frame missing more than this many bytes is left unfinished (stalled). */
const MAX_PAD = 1024 * 1024;

const te = new TextEncoder();
const td = new TextDecoder();

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** sfc32, seeded through splitmix32. */
class Rng {
  #a: number;
  #b: number;
  #c: number;
  #d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const mix = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#a = mix();
    this.#b = mix();
    this.#c = mix();
    this.#d = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.#a + this.#b) >>> 0) + this.#d) >>> 0;
    this.#d = (this.#d + 1) >>> 0;
    this.#a = this.#b ^ (this.#b >>> 9);
    this.#b = (this.#c + (this.#c << 3)) >>> 0;
    this.#c = ((this.#c << 21) | (this.#c >>> 11)) >>> 0;
    this.#c = (this.#c + t) >>> 0;
    return t;
  }

  /** [0, n) */
  int(n: number): number {
    return Math.floor((this.u32() / 0x100000000) * n);
  }

  /** [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  chance(p: number): boolean {
    return this.u32() < p * 0x100000000;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }

  fill(b: Uint8Array): Uint8Array {
    let i = 0;
    for (; i + 4 <= b.length; i += 4) {
      const v = this.u32();
      b[i] = v;
      b[i + 1] = v >>> 8;
      b[i + 2] = v >>> 16;
      b[i + 3] = v >>> 24;
    }
    for (; i < b.length; i++) b[i] = this.u32();
    return b;
  }

  bytes(n: number): Uint8Array {
    return this.fill(new Uint8Array(n));
  }

  /** Weighted choice over [weight, value] pairs. */
  weighted<T>(table: readonly (readonly [number, T])[]): T {
    let total = 0;
    for (const [w] of table) total += w;
    let x = this.int(total);
    for (const [w, v] of table) {
      if (x < w) return v;
      x -= w;
    }
    return table[table.length - 1][1];
  }
}

/** murmur3's 32-bit finalizer. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Seed of one connection's plan: the run seed and the index, each mixed in fully. */
function planSeed(engine: Engine, index: number): number {
  const run = fmix32((SEED ^ (engine === "codec" ? 0x5bd1e995 : 0x27d4eb2f)) >>> 0);
  return fmix32((run + Math.imul(index + 1, 0x9e3779b1)) >>> 0);
}

/** FNV-1a over (length, bytes) pairs, for ping/pong payload sequences. */
function hashStep(h: number, b: Uint8Array): number {
  h = Math.imul(h ^ b.length, 0x01000193) >>> 0;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193) >>> 0;
  return h;
}
const HASH0 = 0x811c9dc5;

// ---------------------------------------------------------------------------------------------
// The NATS stream a connection carries

/** An endless stream of NATS ops with random PUB bodies; knows where the bodies are. */
class OpStream {
  pings = 0;
  #cur = new Uint8Array(0);
  #pos = 0;
  #bodyStart = 0;
  #bodyEnd = 0;
  #n = 0;

  constructor(readonly rng: Rng, readonly tag: string) {}

  #next(): void {
    const r = this.rng;
    this.#bodyStart = this.#bodyEnd = 0;
    this.#pos = 0;
    const x = r.int(100);
    if (x < 30) {
      this.pings++;
      this.#cur = te.encode("PING\r\n");
    } else if (x < 34) {
      this.#cur = te.encode("PONG\r\n");
    } else {
      const n = r.chance(0.05) ? r.range(201, 3000) : r.range(0, 200);
      const head = te.encode(`PUB fuzz.${this.tag}.${this.#n++ % 16} ${n}\r\n`);
      const op = new Uint8Array(head.length + n + 2);
      op.set(head);
      r.fill(op.subarray(head.length, head.length + n));
      op[op.length - 2] = 13;
      op[op.length - 1] = 10;
      this.#cur = op;
      this.#bodyStart = head.length;
      this.#bodyEnd = head.length + n;
    }
  }

  /** The next `n` bytes, and whether they all lie inside one PUB body. */
  take(n: number): { bytes: Uint8Array; bodyOnly: boolean } {
    const out = new Uint8Array(n);
    let bodyOnly = n > 0;
    let off = 0;
    while (off < n) {
      if (this.#pos >= this.#cur.length) this.#next();
      const k = Math.min(n - off, this.#cur.length - this.#pos);
      if (this.#pos < this.#bodyStart || this.#pos + k > this.#bodyEnd || off > 0) {
        bodyOnly = false;
      }
      out.set(this.#cur.subarray(this.#pos, this.#pos + k), off);
      off += k;
      this.#pos += k;
    }
    return { bytes: out, bodyOnly };
  }

  /** The rest of the current op (so the stream ends at an op boundary). */
  finish(): Uint8Array {
    const rest = this.#cur.slice(this.#pos);
    this.#pos = this.#cur.length;
    return rest;
  }
}

// ---------------------------------------------------------------------------------------------
// Frame writer

const FIN = 0x80;
const RSV1 = 0x40;
const RSV2 = 0x20;
const RSV3 = 0x10;

/** A growable byte buffer that frames are encoded into, recording where each frame ends. */
class Out {
  buf = new Uint8Array(64 * 1024);
  len = 0;
  frameEnds: number[] = [];

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /**
   * One frame. `lenMode` "16"/"64" forces a longer length encoding; `declared` writes a length
   * other than the payload's; `key` null = unmasked.
   */
  frame(
    b0: number,
    payload: Uint8Array,
    key: Uint8Array | null,
    lenMode: "min" | "16" | "64" = "min",
    declared = payload.length,
  ): { start: number; payloadAt: number } {
    const start = this.len;
    this.ensure(14 + payload.length);
    const b = this.buf;
    let p = this.len;
    b[p++] = b0;
    const m = key ? 0x80 : 0;
    if (lenMode === "min" && declared <= 125) {
      b[p++] = m | declared;
    } else if ((lenMode === "min" || lenMode === "16") && declared < 65536) {
      b[p++] = m | 126;
      b[p++] = declared >>> 8;
      b[p++] = declared & 0xff;
    } else {
      b[p++] = m | 127;
      const hi = Math.floor(declared / 0x100000000);
      const lo = declared >>> 0;
      b[p++] = hi >>> 24;
      b[p++] = (hi >>> 16) & 0xff;
      b[p++] = (hi >>> 8) & 0xff;
      b[p++] = hi & 0xff;
      b[p++] = lo >>> 24;
      b[p++] = (lo >>> 16) & 0xff;
      b[p++] = (lo >>> 8) & 0xff;
      b[p++] = lo & 0xff;
    }
    if (key) {
      b.set(key, p);
      p += 4;
    }
    const payloadAt = p;
    b.set(payload, p);
    if (key) maskInPlace(b.subarray(p, p + payload.length), key, 0);
    this.len = p + payload.length;
    this.frameEnds.push(this.len);
    return { start, payloadAt };
  }
}

// ---------------------------------------------------------------------------------------------
// Plans

type Engine = "codec" | "native";

/** Everything one fuzz connection does and expects, generated from its seed. */
interface Plan {
  engine: Engine;
  index: number;
  /** Offers permessage-deflate in the upgrade. */
  offerCompression: boolean;
  /** Benign mutations only: must stay open and answer exactly. */
  clean: boolean;
  bytes: Uint8Array;
  frameEnds: number[];
  /** Write sizes: "bulk" (8–64 KiB) or "split" (1–300 bytes). */
  writes: "bulk" | "split";
  frames: number;
  benign: number;
  fatal: string[];
  /** Clean: PONGs expected. */
  natsPings: number;
  /** Clean: ping frames sent, and the hash of their payloads in order. */
  pings: number;
  pingHash: number;
}

let bombPayload: Uint8Array | undefined;

/** A compressed message that inflates to more than max_pending (zeros deflate ~1000:1). */
function bomb(): Uint8Array {
  bombPayload ??= deflateMessage(new Uint8Array(MAX_PENDING + 1024 * 1024));
  return bombPayload;
}

const FATAL_KINDS = [
  [6, "opcode"],
  [6, "no_mask"],
  [5, "ctl_too_big"],
  [5, "ctl_not_fin"],
  [5, "orphan_continuation"],
  [5, "new_before_final"],
  [4, "continuation_rsv1"],
  [10, "flip_header"],
  [6, "flip_length"],
  [6, "flip_key"],
  [8, "flip_protocol"],
  [8, "truncate"],
  [6, "random_bytes"],
  [5, "compressed_garbage"],
  [4, "compressed_truncated"],
  [3, "invalid_length"],
  [3, "stall_length"],
  [6, "close"],
  [4, "rsv_native"],
  [3, "text_bad_utf8"],
] as const;
type FatalKind = (typeof FATAL_KINDS)[number][1] | "bomb";

/** Builds a connection's bytes. */
class Builder {
  readonly out = new Out();
  readonly ops: OpStream;
  frames = 0;
  benign = 0;
  pings = 0;
  pingHash = HASH0;
  /** A fragmented message is open (continuations expected). */
  open = false;
  /** The message being written is compressed / text. */
  inCompressed = false;
  inText = false;
  fatal: FatalKind[] = [];

  constructor(
    readonly rng: Rng,
    readonly engine: Engine,
    readonly compress: boolean,
    tag: string,
  ) {
    this.ops = new OpStream(rng, tag);
  }

  key(): Uint8Array {
    return this.rng.bytes(4);
  }

  /** A normal data frame, with a benign mutation now and then. */
  data(b0: number, payload: Uint8Array, bodyOnly: boolean): void {
    const r = this.rng;
    let lenMode: "min" | "16" | "64" = "min";
    const key = this.key();
    let p = payload;
    if (r.chance(BENIGN_RATE)) {
      const choices: string[] = ["len"];
      // Payload changes only inside PUB bodies, never in compressed data, and never in text
      // for the native engine (which validates UTF-8).
      const utf8 = this.engine === "native" && this.inText;
      if (bodyOnly && !this.inCompressed && !utf8) choices.push("flip", "key");
      if (this.engine === "codec") choices.push("rsv23");
      const c = r.pick(choices);
      this.benign++;
      if (c === "len") lenMode = r.chance(0.5) ? "16" : "64";
      else if (c === "rsv23") b0 |= r.pick([RSV2, RSV3, RSV2 | RSV3]);
      else if (c === "flip") {
        p = payload.slice();
        for (let i = r.range(1, 4); i > 0; i--) p[r.int(p.length)] ^= 1 << r.int(8);
      } else {
        const at = this.out.frame(b0, p, key, lenMode);
        // The key bytes change after masking: the payload unmasks to other body bytes.
        this.out.buf[at.payloadAt - 4 + r.int(4)] ^= 1 << r.int(8);
        this.frames++;
        return;
      }
    }
    this.out.frame(b0, p, key, lenMode);
    this.frames++;
  }

  /** A ping or pong frame with a random payload (ping payloads are expected back). */
  control(): void {
    const r = this.rng;
    const ping = r.chance(0.7);
    const payload = r.bytes(r.chance(0.2) ? 125 : r.range(0, 40));
    let b0 = FIN | (ping ? OPCODE.PING : OPCODE.PONG);
    if (this.engine === "codec" && r.chance(BENIGN_RATE)) {
      b0 |= r.pick([RSV1, RSV2, RSV3]);
      this.benign++;
    }
    this.out.frame(b0, payload, this.key());
    this.frames++;
    if (ping) {
      this.pings++;
      this.pingHash = hashStep(this.pingHash, payload);
    }
  }

  maybeControl(): void {
    if (this.rng.chance(0.1)) this.control();
  }

  /** One WebSocket message from the op stream (1–6 frames, controls in between). */
  message(): void {
    const r = this.rng;
    const size = r.weighted(
      [
        [5, () => 0],
        [60, () => r.range(1, 40)],
        [25, () => r.range(41, 300)],
        [10, () => r.range(301, 3000)],
      ] as const,
    )();
    const { bytes, bodyOnly } = this.ops.take(size);
    const compressed = this.compress && r.chance(0.12);
    const body = compressed ? deflateMessage(bytes) : bytes;
    const nFrames = r.chance(0.7) ? 1 : r.range(2, 6);
    // Text only where the native engine would accept it (ASCII); the codec takes any bytes.
    const textOk = this.engine === "codec" || bytes.every((b) => b < 0x80);
    const opcode = textOk && r.chance(0.15) ? OPCODE.TEXT : OPCODE.BINARY;
    const cuts = [0, body.length];
    for (let i = 1; i < nFrames; i++) cuts.push(r.range(0, body.length));
    cuts.sort((a, b) => a - b);
    this.inCompressed = compressed;
    this.inText = opcode === OPCODE.TEXT;
    for (let i = 0; i < nFrames; i++) {
      const last = i === nFrames - 1;
      let b0 = (last ? FIN : 0) | (i === 0 ? opcode : OPCODE.CONTINUATION);
      if (i === 0 && compressed) b0 |= RSV1;
      this.open = !last;
      this.data(b0, body.subarray(cuts[i], cuts[i + 1]), bodyOnly && !compressed);
      if (!last) this.maybeControl();
    }
    this.inCompressed = false;
    this.maybeControl();
  }

  /** A normal frame of any sort (used after a fatal mutation). */
  any(): void {
    if (this.rng.chance(0.3)) this.control();
    else this.message();
  }

  /** One fatal-class mutation (`kind` forces one). */
  mutate(forced?: FatalKind): void {
    const r = this.rng;
    const native = this.engine === "native";
    let kind: FatalKind;
    for (;;) {
      kind = forced ?? r.weighted(FATAL_KINDS);
      if (kind === "rsv_native" && !native) continue;
      if ((kind === "compressed_garbage" || kind === "compressed_truncated") && native) continue;
      break;
    }
    this.fatal.push(kind);
    const o = this.out;
    const key = this.key();
    const ops = this.ops;
    const small = () => ops.take(r.range(1, 60)).bytes;
    this.frames++;
    switch (kind) {
      case "opcode":
        o.frame(FIN | r.pick([3, 4, 5, 6, 7, 11, 12, 13, 14, 15]), small(), key);
        return;
      case "no_mask":
        o.frame(FIN | OPCODE.BINARY, small(), null);
        return;
      case "ctl_too_big": {
        const op = r.pick([OPCODE.PING, OPCODE.PONG, OPCODE.CLOSE]);
        o.frame(FIN | op, r.bytes(r.range(126, 300)), key);
        return;
      }
      case "ctl_not_fin":
        o.frame(r.pick([OPCODE.PING, OPCODE.PONG, OPCODE.CLOSE]), r.bytes(r.range(0, 20)), key);
        return;
      case "orphan_continuation":
        if (this.open) o.frame(FIN, new Uint8Array(0), key); // close the open chain first
        o.frame(r.chance(0.5) ? FIN : 0, small(), this.key());
        this.frames++;
        return;
      case "new_before_final":
        o.frame(OPCODE.BINARY, small(), key);
        o.frame(FIN | OPCODE.BINARY, small(), this.key());
        this.frames++;
        return;
      case "continuation_rsv1":
        o.frame(OPCODE.BINARY, small(), key);
        o.frame(FIN | RSV1, small(), this.key());
        this.frames++;
        return;
      case "flip_header":
      case "flip_length":
      case "flip_key":
      case "flip_protocol": {
        const payload = kind === "flip_length"
          ? ops.take(r.range(126, 400)).bytes
          : te.encode(r.pick(["PING\r\n", "PUB a 1\r\nx\r\n", "SUB a 1\r\n", "PONG\r\n"]));
        const at = o.frame(
          FIN | OPCODE.BINARY,
          payload,
          key,
          kind === "flip_length" ? "64" : "min",
        );
        const b = o.buf;
        const bit = 1 << r.int(8);
        if (kind === "flip_header") b[at.start + r.int(2)] ^= bit;
        else if (kind === "flip_length") b[at.start + 2 + r.int(8)] ^= bit;
        else if (kind === "flip_key") b[at.payloadAt - 4 + r.int(4)] ^= bit;
        else b[at.payloadAt + r.int(payload.length)] ^= bit;
        return;
      }
      case "truncate": {
        const payload = ops.take(r.range(1, 300)).bytes;
        const at = o.frame(FIN | OPCODE.BINARY, payload, key);
        o.len -= r.range(1, o.len - at.start - 1); // keep at least the first header byte
        o.frameEnds[o.frameEnds.length - 1] = o.len;
        return;
      }
      case "random_bytes":
        o.raw(r.bytes(r.range(1, 64)));
        o.frameEnds.push(o.len);
        return;
      case "compressed_garbage":
        o.frame(FIN | RSV1 | OPCODE.BINARY, r.bytes(r.range(1, 200)), key);
        return;
      case "compressed_truncated": {
        const z = deflateMessage(ops.take(r.range(100, 2000)).bytes);
        o.frame(FIN | RSV1 | OPCODE.BINARY, z.subarray(0, r.range(0, z.length - 1)), key);
        return;
      }
      case "bomb":
        o.frame(FIN | RSV1 | OPCODE.BINARY, bomb(), key);
        return;
      case "invalid_length": {
        const at = o.frame(FIN | OPCODE.BINARY, small(), key, "64");
        o.buf[at.start + 2] |= 0x80; // 2^63 and up
        return;
      }
      case "stall_length":
        o.frame(FIN | OPCODE.BINARY, small(), key, "64", 2 ** 40);
        return;
      case "close": {
        const variant = r.int(4);
        const payload = variant === 0
          ? new Uint8Array(0)
          : variant === 1
          ? r.bytes(1)
          : variant === 2
          ? new Uint8Array([r.int(256), r.int(256), ...r.bytes(r.range(0, 30))])
          : new Uint8Array([0x03, 0xe8, ...te.encode("bye")]);
        o.frame(FIN | OPCODE.CLOSE, payload, key);
        return;
      }
      case "rsv_native":
        o.frame(FIN | OPCODE.BINARY | r.pick([RSV1, RSV2, RSV3]), small(), key);
        return;
      case "text_bad_utf8":
        o.frame(FIN | OPCODE.TEXT, new Uint8Array([0xff, 0xfe, 0xc0, 0x80]), key);
        return;
    }
  }
}

/** Generates connection `index` of `engine` (deterministic in SEED, engine, index). */
function makePlan(engine: Engine, index: number): Plan {
  const r = new Rng(planSeed(engine, index));
  const offerCompression = engine === "codec" && r.chance(0.85);
  const clean = !r.chance(MUTATED_SHARE);
  const writes = r.chance(0.05) ? "split" : "bulk";
  const b = new Builder(r, engine, offerCompression, `${engine[0]}${index}`);
  const connect = te.encode('CONNECT {"verbose":false,"pedantic":false}\r\n');
  b.out.frame(FIN | OPCODE.BINARY, connect, b.key());
  b.frames++;
  if (clean) {
    const budget = writes === "split" ? r.range(30, 300) : r.range(300, 2500);
    while (b.frames < budget) b.message();
    const last = new Uint8Array([...b.ops.finish(), ...te.encode("PING\r\n")]);
    b.ops.pings++;
    b.out.frame(FIN | OPCODE.BINARY, last, b.key());
    b.frames++;
  } else {
    const prefix = r.int(writes === "split" ? 100 : 400);
    while (b.frames < prefix) b.message();
    b.mutate(engine === "codec" && index % BOMB_EVERY === 13 ? "bomb" : undefined);
    for (let tail = r.int(13); tail > 0; tail--) {
      if (r.chance(0.3)) b.mutate();
      else b.any();
    }
  }
  return {
    engine,
    index,
    offerCompression,
    clean,
    bytes: b.out.buf.subarray(0, b.out.len),
    frameEnds: b.out.frameEnds,
    writes,
    frames: b.frames,
    benign: b.benign,
    fatal: b.fatal,
    natsPings: b.ops.pings,
    pings: b.pings,
    pingHash: b.pingHash,
  };
}

/**
 * Where the stream ends relative to frame boundaries, read as the server reads headers:
 * 0 = at a boundary, n = zero bytes to append to complete the last frame (a cut header is read
 * with the zeros it will get), Infinity = a length that cannot be completed (> {@link MAX_PAD}).
 */
function missingBytes(b: Uint8Array): number {
  const h = new Uint8Array(14);
  for (let p = 0; p < b.length;) {
    h.fill(0);
    h.set(b.subarray(p, Math.min(b.length, p + 14)));
    const len7 = h[1] & 0x7f;
    const ext = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    let len = len7;
    if (len7 === 126) len = (h[2] << 8) | h[3];
    else if (len7 === 127) {
      const hi = ((h[2] << 24) | (h[3] << 16) | (h[4] << 8) | h[5]) >>> 0;
      const lo = ((h[6] << 24) | (h[7] << 16) | (h[8] << 8) | h[9]) >>> 0;
      len = hi * 0x100000000 + lo;
    }
    const end = p + 2 + ext + ((h[1] & 0x80) ? 4 : 0) + len;
    if (end > b.length) return end - b.length > MAX_PAD ? Infinity : end - b.length;
    p = end;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Running one connection

/** Matches a fixed ASCII pattern (no repeated first char) across chunk boundaries. */
class Counter {
  count = 0;
  #state = 0;
  readonly #p: Uint8Array;
  constructor(pattern: string) {
    this.#p = te.encode(pattern);
  }
  feed(b: Uint8Array): void {
    const p = this.#p;
    let s = this.#state;
    for (let i = 0; i < b.length; i++) {
      const c = b[i];
      if (c === p[s]) {
        if (++s === p.length) {
          this.count++;
          s = 0;
        }
      } else s = c === p[0] ? 1 : 0;
    }
    this.#state = s;
  }
}

/** What the server sent on one connection. */
class ServerSide {
  pongs = new Counter("PONG\r\n");
  errs = new Counter("-ERR");
  infos = new Counter("INFO {");
  wsPongs = 0;
  wsPongHash = HASH0;
  probeAnswered = false;
  closeCode: number | undefined;
  eof = false;
  eofAt = 0;
  bytes = 0;
  #pending = new Uint8Array(0);
  #parts: Uint8Array[] = [];
  #rsv1 = false;

  /** Set when the server sent something that is not a well-formed server frame. */
  error = "";

  constructor(readonly probe: Uint8Array, readonly compression: boolean) {}

  /**
   * Parses server frames, checking they are well-formed (unmasked, known opcode, no RSV2/RSV3,
   * RSV1 only with compression and only on a message's first frame, data that inflates);
   * returns whether a close frame came.
   */
  feed(chunk: Uint8Array): boolean {
    try {
      return this.#feed(chunk);
    } catch (err) {
      this.error ||= `undecodable server data: ${err}`;
      return false;
    }
  }

  #feed(chunk: Uint8Array): boolean {
    this.bytes += chunk.length;
    let b = chunk;
    if (this.#pending.length > 0) {
      b = new Uint8Array(this.#pending.length + chunk.length);
      b.set(this.#pending);
      b.set(chunk, this.#pending.length);
    }
    let p = 0;
    let sawClose = false;
    while (b.length - p >= 2) {
      const len7 = b[p + 1] & 0x7f;
      const hdr = len7 === 126 ? 4 : len7 === 127 ? 10 : 2;
      if (b.length - p < hdr) break;
      let len = len7;
      if (len7 === 126) len = (b[p + 2] << 8) | b[p + 3];
      else if (len7 === 127) {
        len = Number(new DataView(b.buffer, b.byteOffset + p + 2, 8).getBigUint64(0));
      }
      if (b.length - p < hdr + len) break;
      const b0 = b[p];
      const payload = b.subarray(p + hdr, p + hdr + len);
      const op = b0 & 0x0f;
      const rsv1 = (b0 & RSV1) !== 0;
      if (
        (b[p + 1] & 0x80) !== 0 || (b0 & (RSV2 | RSV3)) !== 0 ||
        ![0, 1, 2, 8, 9, 10].includes(op) ||
        (rsv1 && (!this.compression || op === OPCODE.CONTINUATION || op >= OPCODE.CLOSE)) ||
        (op >= OPCODE.CLOSE && (len > 125 || (b0 & FIN) === 0))
      ) {
        this.error ||= `malformed server frame: ${
          [...b.subarray(p, p + Math.min(hdr + len, 16))].map((x) => x.toString(16)).join(" ")
        }`;
      }
      p += hdr + len;
      if (op === OPCODE.PONG) {
        this.wsPongs++;
        this.wsPongHash = hashStep(this.wsPongHash, payload);
        if (equalBytes(payload, this.probe)) this.probeAnswered = true;
      } else if (op === OPCODE.CLOSE) {
        this.closeCode = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
        sawClose = true;
      } else if (op === OPCODE.BINARY || op === OPCODE.TEXT || op === OPCODE.CONTINUATION) {
        if (op !== OPCODE.CONTINUATION) this.#rsv1 = (b0 & RSV1) !== 0;
        this.#parts.push(payload.slice());
        if (b0 & FIN) {
          const parts = this.#parts;
          this.#parts = [];
          const data = this.#rsv1 ? inflateMessage(parts) : concat(parts);
          this.pongs.feed(data);
          this.errs.feed(data);
          this.infos.feed(data);
        }
      }
    }
    this.#pending = b.slice(p);
    return sawClose;
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let n = 0;
  for (const x of parts) n += x.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

type Outcome = "clean-ok" | "answered" | "closed" | "stalled-open";

interface Result {
  outcome: Outcome;
  /** Frames whose bytes the socket took completely. */
  framesWritten: number;
  bytesWritten: number;
  closeCode?: number;
  ms: number;
}

/** Reads with a bound; resolves null on EOF/reset, "late" on timeout. */
function readBounded(
  conn: Deno.Conn,
  buf: Uint8Array,
  ms: number,
): Promise<number | null | "late"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    conn.read(buf).catch(() => null),
    new Promise<"late">((r) => timer = setTimeout(() => r("late"), ms)),
  ]).finally(() => clearTimeout(timer));
}

function planName(p: Plan): string {
  return `${p.engine}:${p.index} (FUZZ_SEED=${SEED} FUZZ_ONLY=${p.engine}:${p.index})`;
}

/** Runs one plan against `port`; throws with the plan's name when an expectation fails. */
async function runPlan(p: Plan, port: number): Promise<Result> {
  const t0 = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const fail = (msg: string): never => {
    throw new Error(`${planName(p)}: ${msg}`);
  };
  try {
    const headers: Record<string, string> = p.offerCompression
      ? { "Sec-WebSocket-Extensions": "permessage-deflate" }
      : {};
    await writeAll(conn, te.encode(upgradeHead(headers)));
    // The 101 head.
    const buf = new Uint8Array(64 * 1024);
    let head = new Uint8Array(0);
    let end = -1;
    for (let i = 0; i < 100 && end < 0; i++) {
      const n = await readBounded(conn, buf, PROBE_MS);
      if (n === null || n === "late") fail(`no 101 (${n})`);
      const next = new Uint8Array(head.length + (n as number));
      next.set(head);
      next.set(buf.subarray(0, n as number), head.length);
      head = next;
      for (let j = 3; j < head.length; j++) {
        if (head[j] === 10 && head[j - 1] === 13 && head[j - 2] === 10 && head[j - 3] === 13) {
          end = j + 1;
          break;
        }
      }
    }
    const headText = td.decode(head.subarray(0, end));
    if (!headText.startsWith("HTTP/1.1 101")) fail(`upgrade refused: ${headText}`);
    assertEquals(
      headText.includes("permessage-deflate"),
      p.offerCompression && p.engine === "codec",
      `${planName(p)}: compression negotiation`,
    );

    const probe = te.encode(`probe:${p.engine}:${p.index}:${SEED}`);
    const srv = new ServerSide(probe, p.offerCompression && p.engine === "codec");
    let echoed = false;
    let waker: (() => void) | null = null;
    const onBytes = (b: Uint8Array) => {
      if (srv.feed(b) && !echoed) {
        echoed = true; // answer the close as a client does (best effort)
        conn.write(new Uint8Array([0x88, 0x80, 1, 2, 3, 4])).catch(() => {});
      }
      waker?.();
    };
    if (end < head.length) onBytes(head.subarray(end));
    // Reader: until EOF or the connection's bound.
    const reading = (async () => {
      const deadline = t0 + CONN_MS;
      for (let i = 0; i < 1_000_000; i++) {
        const left = deadline - performance.now();
        if (left <= 0) return;
        const n = await readBounded(conn, buf, left);
        if (n === "late") return;
        if (n === null) {
          srv.eof = true;
          srv.eofAt = performance.now();
          return;
        }
        onBytes(buf.subarray(0, n));
      }
    })();
    reading.then(() => waker?.());
    /** Waits until `cond` (checked after every read) or `ms` pass. */
    const until = async (cond: () => boolean, ms: number): Promise<boolean> => {
      const deadline = performance.now() + ms;
      while (!cond()) {
        const left = deadline - performance.now();
        if (left <= 0 || srv.eof) return cond();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((r) => {
          waker = r;
          timer = setTimeout(r, Math.min(left, 50));
        });
        clearTimeout(timer);
        waker = null;
      }
      return true;
    };

    // Write the frames.
    const r = new Rng(planSeed(p.engine, p.index) ^ 0xa5a5a5a5);
    let written = 0;
    let writeFailed = false;
    while (written < p.bytes.length) {
      const n = Math.min(
        p.bytes.length - written,
        p.writes === "split" ? r.range(1, 300) : r.range(8 * 1024, 64 * 1024),
      );
      try {
        written += await writeBounded(conn, p.bytes.subarray(written, written + n));
      } catch (err) {
        if (err instanceof StalledWrite) fail(err.message);
        writeFailed = true;
        break;
      }
    }
    let framesWritten = 0;
    while (framesWritten < p.frameEnds.length && p.frameEnds[framesWritten] <= written) {
      framesWritten++;
    }
    const result = (outcome: Outcome): Result => ({
      outcome,
      framesWritten,
      bytesWritten: written,
      closeCode: srv.closeCode,
      ms: performance.now() - t0,
    });

    if (p.clean) {
      if (writeFailed) fail(`write failed; close ${srv.closeCode} eof ${srv.eof}`);
      const ok = await until(
        () => srv.pongs.count >= p.natsPings && srv.wsPongs >= p.pings,
        PROBE_MS,
      );
      const state = `PONG ${srv.pongs.count}/${p.natsPings}, ws pongs ${srv.wsPongs}/${p.pings}` +
        `, close ${srv.closeCode}, eof ${srv.eof}, -ERR ${srv.errs.count}, benign ${p.benign}`;
      if (!ok) fail(`clean connection incomplete: ${state}`);
      if (srv.eof || srv.closeCode !== undefined || srv.errs.count > 0) fail(`clean: ${state}`);
      if (srv.pongs.count !== p.natsPings || srv.wsPongs !== p.pings) fail(`clean: ${state}`);
      if (srv.wsPongHash !== p.pingHash) fail(`clean: pong payloads differ from pings (${state})`);
      if (srv.infos.count !== 1) fail(`clean: ${srv.infos.count} INFOs`);
      // Still open and answering after everything.
      await writeAll(conn, pingFrame(probe));
      if (!await until(() => srv.probeAnswered, PROBE_MS) || srv.eof) {
        fail(`clean: no answer to the final ping (eof ${srv.eof})`);
      }
      if (srv.error) fail(srv.error);
      return result("clean-ok");
    }

    // Mutated: complete the last frame when possible, then probe with a ping.
    if (!writeFailed && !srv.eof) {
      const miss = missingBytes(p.bytes);
      if (miss === Infinity) {
        // A length that never completes: the server waits for its payload (or closed already).
        if (srv.error) fail(srv.error);
        return result(srv.eof || srv.closeCode !== undefined ? "closed" : "stalled-open");
      }
      try {
        if (miss > 0) await writeAll(conn, new Uint8Array(miss));
        await writeAll(conn, pingFrame(probe));
      } catch (err) {
        if (err instanceof StalledWrite) fail(err.message);
        writeFailed = true;
      }
    }
    const settled = await until(
      () => srv.probeAnswered || srv.eof || srv.closeCode !== undefined,
      PROBE_MS,
    );
    if (!settled) {
      fail(
        `hang: no pong to the probe and not closed within ${PROBE_MS} ms` +
          ` (fatal ${p.fatal.join(",")}, wrote ${written}/${p.bytes.length})`,
      );
    }
    if (srv.error) fail(srv.error);
    if (srv.probeAnswered && !srv.eof && srv.closeCode === undefined) return result("answered");
    if (srv.closeCode !== undefined && !srv.eof) {
      // A close frame came: the TCP connection must follow (we answered the close).
      if (!await until(() => srv.eof, PROBE_MS)) {
        fail(`close ${srv.closeCode} but the server kept the TCP connection`);
      }
    }
    if (srv.error) fail(srv.error);
    return result("closed");
  } finally {
    try {
      conn.close();
    } catch { /* closed */ }
  }
}

/** A socket write that must complete within {@link PROBE_MS} (a server that stops reading
 * without closing would otherwise hang the test). Rejects on errors (the server closed). */
async function writeBounded(conn: Deno.Conn, b: Uint8Array): Promise<number> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const r = await Promise.race([
    conn.write(b),
    new Promise<"late">((res) => timer = setTimeout(() => res("late"), PROBE_MS)),
  ]).finally(() => clearTimeout(timer));
  if (r === "late") throw new StalledWrite();
  return r;
}

class StalledWrite extends Error {
  constructor() {
    super(`the server stopped reading for ${PROBE_MS} ms without closing`);
  }
}

/** A masked ping frame. */
function pingFrame(payload: Uint8Array): Uint8Array {
  const key = new Uint8Array([9, 8, 7, 6]);
  const f = new Uint8Array(6 + payload.length);
  f[0] = FIN | OPCODE.PING;
  f[1] = 0x80 | payload.length;
  f.set(key, 2);
  f.set(payload, 6);
  maskInPlace(f.subarray(6), key, 0);
  return f;
}

async function writeAll(conn: Deno.Conn, b: Uint8Array): Promise<void> {
  for (let off = 0; off < b.length;) off += await writeBounded(conn, b.subarray(off));
}

// ---------------------------------------------------------------------------------------------
// Control pair: TCP ↔ ws round trips the whole time

interface ControlStats {
  roundTrips: number;
  maxMs: number;
  bytes: number;
}

/**
 * The server PINGs on its own (first soon after CONNECT, to measure the round trip). Such a PING
 * can only stand between whole messages, i.e. before or after the one MSG a round trip expects
 * (payloads here are printable, without CR/LF); this drops them.
 */
function withoutServerPings(text: string): string {
  let t = text;
  while (t.startsWith("PING\r\n")) t = t.slice(6);
  while (t.endsWith("\r\nPING\r\n") && t.startsWith("MSG ")) t = t.slice(0, -6);
  return t;
}

/** Answers each server PING in `text` with a PONG, as a real client does. */
async function answerServerPings(
  text: string,
  send: (pongs: string) => Promise<void>,
): Promise<void> {
  const n = (text.length - withoutServerPings(text).length) / 6;
  if (n > 0) await send("PONG\r\n".repeat(n));
}

async function controlLoop(
  server: ServerProcess,
  stop: () => boolean,
  seed: number,
): Promise<ControlStats> {
  const r = new Rng(seed);
  const tcp = await RawClient.connect(server.port);
  const ws = await WsTestClient.open({ port: server.wsPort! });
  const stats: ControlStats = { roundTrips: 0, maxMs: 0, bytes: 0 };
  try {
    await tcp.info();
    await tcp.send('CONNECT {"verbose":false}\r\nSUB ctl.tcp 1\r\nPING\r\n');
    await tcp.readUntil((s) => s.includes("PONG\r\n"));
    await ws.upgrade({ "Sec-WebSocket-Extensions": "permessage-deflate" });
    await ws.info();
    await ws.send('CONNECT {"verbose":false}\r\nSUB ctl.ws 1\r\nPING\r\n');
    await ws.expectText("PONG\r\n");
    // Printable payloads (0..4000 bytes; > 64 are compressed by the server).
    const payload = () => {
      const n = r.chance(0.2) ? r.range(65, 4000) : r.range(0, 64);
      let s = "";
      for (let i = 0; i < n; i++) s += String.fromCharCode(33 + r.int(94));
      return s;
    };
    for (let i = 0; i < 1_000_000 && !stop(); i++) {
      const t = performance.now();
      tcp.text = "";
      ws.text = "";
      ws.frames = [];
      const a = payload();
      await tcp.send(`PUB ctl.ws ${a.length}\r\n${a}\r\n`);
      const wantWs = `MSG ctl.ws 1 ${a.length}\r\n${a}\r\n`;
      await ws.until((c) => withoutServerPings(c.text).length >= wantWs.length, ROUND_TRIP_MS);
      assertEquals(
        withoutServerPings(ws.text),
        wantWs,
        `control round trip ${i}: ws got other bytes`,
      );
      await answerServerPings(ws.text, (pongs) => ws.send(pongs));
      const b = payload();
      await ws.send(`PUB ctl.tcp ${b.length}\r\n${b}\r\n`);
      const wantTcp = `MSG ctl.tcp 1 ${b.length}\r\n${b}\r\n`;
      await tcp.readUntil((s) => withoutServerPings(s).length >= wantTcp.length, ROUND_TRIP_MS);
      assertEquals(
        withoutServerPings(tcp.text),
        wantTcp,
        `control round trip ${i}: tcp got other bytes`,
      );
      await answerServerPings(tcp.text, (pongs) => tcp.send(pongs));
      stats.roundTrips++;
      stats.bytes += a.length + b.length;
      stats.maxMs = Math.max(stats.maxMs, performance.now() - t);
    }
    return stats;
  } finally {
    ws.shut();
    tcp.close();
  }
}

// ---------------------------------------------------------------------------------------------
// The run

interface EngineRun {
  connections: number;
  frames: number;
  framesWritten: number;
  bytes: number;
  benign: number;
  fatal: Map<string, number>;
  outcomes: Map<Outcome, number>;
  closeCodes: Map<number | "none", number>;
  clean: number;
  maxConnMs: number;
}

function bump<K>(m: Map<K, number>, k: K, n = 1): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

/** Runs plans 0, 1, 2, … of `engine` until `target` frames were generated. */
async function fuzzEngine(
  engine: Engine,
  port: number,
  target: number,
  stopped: () => boolean,
): Promise<EngineRun> {
  const run: EngineRun = {
    connections: 0,
    frames: 0,
    framesWritten: 0,
    bytes: 0,
    benign: 0,
    fatal: new Map(),
    outcomes: new Map(),
    closeCodes: new Map(),
    clean: 0,
    maxConnMs: 0,
  };
  let next = 0;
  const only = ONLY?.startsWith(`${engine}:`) ? Number(ONLY.split(":")[1]) : undefined;
  if (ONLY !== undefined && only === undefined) return run;
  const deadline = performance.now() + RUN_MS;
  // Plans are generated in index order at claim time (synchronously), so the set of plans
  // depends only on the seed and the target.
  const claim = (): Plan | null => {
    if (only !== undefined) return next++ === 0 ? makePlan(engine, only) : null;
    if (run.frames >= target || stopped()) return null;
    const p = makePlan(engine, next++);
    run.frames += p.frames;
    return p;
  };
  const worker = async () => {
    for (let p = claim(); p; p = claim()) {
      if (performance.now() > deadline) throw new Error(`${engine}: run exceeded ${RUN_MS} ms`);
      const res = await runPlan(p, port);
      run.connections++;
      run.framesWritten += res.framesWritten;
      run.bytes += res.bytesWritten;
      run.benign += p.benign;
      if (p.clean) run.clean++;
      for (const k of p.fatal) bump(run.fatal, k);
      bump(run.outcomes, res.outcome);
      bump(run.closeCodes, res.closeCode ?? "none");
      run.maxConnMs = Math.max(run.maxConnMs, res.ms);
      if (res.ms > CONN_MS) throw new Error(`${planName(p)}: took ${res.ms.toFixed(0)} ms`);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL[engine] }, worker));
  if (only !== undefined) run.frames = run.framesWritten;
  return run;
}

function fmtMap<K>(m: Map<K, number>): string {
  return [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(" ");
}

/** A fresh TCP client and ws client still get answers. */
async function assertServes(s: ServerProcess): Promise<void> {
  const tcp = await RawClient.connect(s.port);
  try {
    await tcp.info();
    await tcp.send("CONNECT {}\r\nPING\r\n");
    await tcp.readUntil((t) => t.includes("PONG\r\n"));
  } finally {
    tcp.close();
  }
  const ws = await WsTestClient.open({ port: s.wsPort! });
  try {
    await ws.upgrade();
    await ws.info();
    await ws.send("CONNECT {}\r\nPING\r\n");
    await ws.expectText("PONG\r\n");
  } finally {
    ws.shut();
  }
}

Deno.test("ws frame fuzz: random and mutated frames never crash, hang or disturb the server", async () => {
  console.log(`FUZZ_SEED=${SEED} FUZZ_FRAMES=${FRAMES}${ONLY ? ` FUZZ_ONLY=${ONLY}` : ""}`);
  const base = `max_pending: ${MAX_PENDING}\n`;
  // -D: the debug log paths (every websocket error is logged) run under the fuzz too.
  const codec = await startServerProcess(
    base + `websocket { listen: "127.0.0.1:-1", no_tls: true, compression: true }\n`,
    ["-D"],
  );
  const native = await startServerProcess(
    base + `websocket { listen: "127.0.0.1:-1", no_tls: true, engine: native }\n`,
    ["-D"],
  ).catch(async (err) => {
    await codec.stop();
    throw err;
  });
  const servers = { codec, native };
  const rss = { codec: [] as number[], native: [] as number[] };
  let sampling: Promise<void> | null = null;
  const sample = () =>
    sampling ??= (async () => {
      for (const e of ["codec", "native"] as const) {
        const v = await servers[e].rss();
        if (v !== null) rss[e].push(v);
      }
    })().finally(() => sampling = null);
  let sampler: ReturnType<typeof setInterval> | undefined;
  let fuzzing = true;
  let exits: Deno.CommandStatus[] = [];
  const t0 = performance.now();
  try {
    await sample();
    assert(rss.codec.length === 1 && rss.native.length === 1, "server RSS cannot be measured");
    sampler = setInterval(sample, 250);
    assert(codec.stderr().includes("Websocket engine: codec"), codec.stderr());
    assert(native.stderr().includes("Websocket engine: native"), native.stderr());
    const controls = Promise.all([
      controlLoop(codec, () => !fuzzing, SEED ^ 1),
      controlLoop(native, () => !fuzzing, SEED ^ 2),
    ]);
    // A failing control loop or fuzz connection ends the fuzz at once (reported below).
    controls.catch(() => fuzzing = false);
    const stopped = () => !fuzzing;
    let runs: [EngineRun, EngineRun];
    try {
      runs = await Promise.all([
        fuzzEngine("codec", codec.wsPort!, Math.round(FRAMES * (1 - NATIVE_SHARE)), stopped),
        fuzzEngine("native", native.wsPort!, Math.round(FRAMES * NATIVE_SHARE), stopped),
      ]);
    } finally {
      fuzzing = false;
    }
    const [ctlCodec, ctlNative] = await controls;
    const elapsed = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    await sampling;
    await sample();

    const total = runs[0].frames + runs[1].frames;
    const written = runs[0].framesWritten + runs[1].framesWritten;
    const lines = [
      `fuzz: ${total} frames generated, ${written} written in full, in ${elapsed.toFixed(1)} s ` +
      `(${(written / elapsed).toFixed(0)} frames/s, ${
        ((runs[0].bytes + runs[1].bytes) / elapsed / 1e6).toFixed(1)
      } MB/s)`,
    ];
    for (const [i, e] of (["codec", "native"] as const).entries()) {
      const r = runs[i];
      const peak = Math.max(...rss[e]) / 1048576;
      lines.push(
        `  ${e}: ${r.connections} connections (${r.clean} clean), ${r.frames} frames, ` +
          `${r.benign} benign mutations, ${[...r.fatal.values()].reduce((a, b) => a + b, 0)} ` +
          `fatal-class; slowest connection ${r.maxConnMs.toFixed(0)} ms`,
        `    outcomes: ${fmtMap(r.outcomes)}`,
        `    server close codes: ${fmtMap(r.closeCodes)}`,
        `    fatal kinds: ${fmtMap(r.fatal)}`,
        `    RSS MB over the run: ${
          [0, 0.25, 0.5, 0.75, 1].map((f) =>
            (rss[e][Math.round(f * (rss[e].length - 1))] / 1048576).toFixed(0)
          ).join(" → ")
        }, peak ${peak.toFixed(0)}`,
      );
    }
    for (const [e, c] of [["codec", ctlCodec], ["native", ctlNative]] as const) {
      lines.push(
        `  control pair (${e}): ${c.roundTrips} round trips, ${c.bytes} payload bytes, ` +
          `slowest ${c.maxMs.toFixed(0)} ms`,
      );
    }
    console.log(lines.join("\n"));

    // Never crashed, stayed bounded, still serves, no uncaught error.
    for (const e of ["codec", "native"] as const) {
      const s = servers[e];
      assertEquals(s.exited(), null, `${e} server exited:\n${s.stderr().slice(-2000)}`);
      const peak = Math.max(...rss[e]) / 1048576;
      assert(peak < RSS_LIMIT_MB, `${e} server RSS peaked at ${peak.toFixed(0)} MB`);
      await assertServes(s);
      assert(!/Uncaught|panicked|RUST_BACKTRACE/.test(s.stderr()), s.stderr().slice(-2000));
      // Every ws connection the server created is closed once the clients are gone: none
      // leaked, none left half-open (the debug log has one line each).
      const count = (log: string, what: string) =>
        log.split(`- Client connection ${what}`).length - 1;
      const balanced = (log: string) =>
        count(log, "created") > 0 && count(log, "created") === count(log, "closed");
      if (!await s.waitForLog(balanced, PROBE_MS)) {
        const log = s.stderr();
        assert(
          false,
          `${e}: ${count(log, "created")} connections created, ${count(log, "closed")} closed`,
        );
      }
    }
    if (ONLY === undefined) {
      assert(total >= FRAMES, `only ${total} of ${FRAMES} frames`);
      assert(ctlCodec.roundTrips > 0 && ctlNative.roundTrips > 0, "control loops ran");
      for (const r of runs) {
        assert((r.outcomes.get("clean-ok") ?? 0) > 0, "some clean connections");
        assert((r.outcomes.get("closed") ?? 0) > 0, "some connections closed by the server");
      }
    }
  } finally {
    fuzzing = false;
    clearInterval(sampler);
    await sampling;
    exits = await Promise.all([codec.stop(), native.stop()]);
  }
  // SIGINT → exit 0: the servers were not wedged (checked only when nothing failed before).
  assertEquals(exits.map((x) => x.code), [0, 0], "servers exit 0 on SIGINT");
});
