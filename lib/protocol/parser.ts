/**
 * Byte-level parser for the NATS protocol, one state machine for every connection kind: what
 * differs per kind (client, leafnode, later route) is the {@link OpTable} it is built with, the
 * ops and what each does. It survives any split of the input (one byte at a time works):
 * partial control lines and payloads are carried over between calls. Payloads are never
 * converted to strings; arguments are handed out as byte views that are only valid during the
 * handler call.
 */
import { tokenString } from "./bytes.ts";
import { Err } from "./errors.ts";
import { Closed } from "../core/close_reasons.ts";

const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;

const enum State {
  Start,
  OpName,
  OpSpace,
  Arg,
  SkipLine,
  Payload,
  Closed,
}

/** What every connection kind's handler gives the parser. */
export interface OpHandler {
  /** A non-CONNECT op arrived first while auth is pending; return true to let it through. */
  onOpBeforeConnect(): boolean;
  /** A fatal protocol error: send `err` (when not null) and close with `reason`. */
  onFatal(err: string | null, reason: string): void;
}

/** The handler of the built-in PUB/HPUB ops (the hot path, parsed without allocations). */
export interface PubHandler extends OpHandler {
  /** Called at argument time when `pedantic` is set, before the payload is read. */
  onPubSubject(subject: Uint8Array): void;
  /**
   * A complete PUB (hdrLen < 0) or HPUB. `subjectText` is `subject` decoded (the same string
   * object while the subject repeats), `size` is the raw total-size token, `msg` is the header
   * block plus payload.
   */
  onMsg(
    subjectText: string,
    subject: Uint8Array,
    reply: Uint8Array | null,
    hdrLen: number,
    size: Uint8Array,
    msg: Uint8Array,
  ): void;
}

/**
 * How one op is read, in the reference's spelling (matched case-insensitively):
 * - `none`: the rest of the line is ignored; `run` gets an empty view at the line's end.
 * - `line`: `run` gets the control line's arguments.
 * - `payload`: `size` reads the arguments and returns the payload size (it must copy what it
 *   keeps: the view dies with the call), then `body` gets the payload without its CRLF.
 * - `pub` / `hpub`: the built-in PUB/HPUB reader; the handler must be a {@link PubHandler}.
 * `run` and `size` return false / a negative size for a protocol violation (closed silently).
 */
export type OpSpec<H> =
  | {
    readonly name: string;
    readonly kind: "none" | "line";
    /** At least one space or tab must follow the name. */
    readonly needsSpace?: boolean;
    /** The connection is closed after the op (e.g. `-ERR` from the peer). */
    readonly closes?: boolean;
    readonly run?: (h: H, arg: Uint8Array) => boolean;
  }
  | {
    readonly name: string;
    readonly kind: "payload";
    readonly size: (h: H, arg: Uint8Array) => number;
    readonly body: (h: H, payload: Uint8Array) => void;
  }
  | { readonly name: "PUB" | "HPUB"; readonly kind: "pub" | "hpub" };

/** The op set of one connection kind. */
export interface OpTable<H> {
  /** The ops, any order (names are unique). */
  readonly ops: readonly OpSpec<H>[];
  /**
   * The kind's hot op besides PUB (e.g. a leafnode's `LMSG`): matched in one step at the start
   * of a line instead of letter by letter.
   */
  readonly hot?: string;
  /** False: `max_control_line` does not apply (the reference checks it for clients only). */
  readonly limitsControlLine?: boolean;
}

/** Limits the parser enforces itself. */
export interface ParserLimits {
  maxControlLine: number;
  /** Negative = no limit. */
  maxPayload: number;
  /** HPUB allowed (client announced headers and the server supports them). */
  headers: boolean;
  pedantic: boolean;
  /** When true, the first op must be CONNECT (auth is required). */
  awaitingConnect: boolean;
}

/** Splits arguments on runs of space/tab (and CR/LF when `lineBreaks`). */
export function splitArgs(arg: Uint8Array, lineBreaks = false): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = -1;
  for (let i = 0; i < arg.length; i++) {
    const b = arg[i];
    if (b === SPACE || b === TAB || (lineBreaks && (b === CR || b === LF))) {
      if (start >= 0) {
        out.push(arg.subarray(start, i));
        start = -1;
      }
    } else if (start < 0) start = i;
  }
  if (start >= 0) out.push(arg.subarray(start));
  return out;
}

/** Parses a decimal size token; -1 when empty, not all digits, or too large. */
export function parseSize(tok: Uint8Array): number {
  if (tok.length === 0 || tok.length > 15) return -1;
  let n = 0;
  for (let i = 0; i < tok.length; i++) {
    const d = tok[i] - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** `prev` when `buf[start, end)` holds the same bytes, else an owned copy of them. */
function intern(prev: Uint8Array, buf: Uint8Array, start: number, end: number): Uint8Array {
  const len = end - start;
  if (prev.length === len) {
    let i = 0;
    while (i < len && buf[start + i] === prev[i]) i++;
    if (i === len) return prev;
  }
  return buf.slice(start, end);
}

const EMPTY = new Uint8Array(0);
/**
 * Token offsets of the PUB/HPUB line being handled (start, end pairs). One for all parsers: a
 * line is tokenized and its offsets read within one synchronous call, before any handler runs.
 */
const TOK = new Int32Array(10);
/** The hot op's name bytes per name (shared by every parser of a table). */
const hotNames = new Map<string, Uint8Array>();

function hotNameBytes(name: string): Uint8Array {
  let b = hotNames.get(name);
  if (b === undefined) hotNames.set(name, b = new TextEncoder().encode(name));
  return b;
}

function needsSpace<H>(op: OpSpec<H>): boolean {
  return op.kind === "line" || op.kind === "none" ? op.needsSpace === true : true;
}

function upper(b: number): number {
  return b >= 97 && b <= 122 ? b - 32 : b;
}

/** The protocol state machine over bytes, for the op set of one connection kind. */
export class Parser<H extends OpHandler = OpHandler> {
  readonly limits: ParserLimits;
  /** Set by the handler to stop after the current op (e.g. while auth runs). */
  paused = false;
  private state = State.Start;
  private op: OpSpec<H> | null = null;
  private opName = "";
  private readonly ops: readonly OpSpec<H>[];
  /** The PUB op when the table has it (the fast path at the start of a line). */
  private readonly pubOp: OpSpec<H> | null;
  /** The table's hot op and its name's bytes (upper case), when it has one. */
  private readonly hotOp: OpSpec<H> | null;
  private readonly hotName: Uint8Array;
  /** Carried-over control line bytes when a line spans reads (null when not split). */
  private argBuf: Uint8Array | null = null;
  private argLen = 0;
  private argStart = 0;
  // Pending PUB/HPUB while its payload is read.
  private subject: Uint8Array = EMPTY;
  private reply: Uint8Array | null = null;
  private sizeTok: Uint8Array = EMPTY;
  private hdrLen = -1;
  private size = 0;
  private msgBuf: Uint8Array | null = null;
  private msgLen = 0;
  /** False while the reply still points into the caller's (reusable) read buffer. */
  private argsOwned = true;
  /**
   * The previous subject and size token, owned copies: consecutive messages on the same subject
   * get the same object back, so the handler can reuse its decoded string.
   */
  private lastSubject: Uint8Array = EMPTY;
  /** `lastSubject` decoded (decoded once per distinct subject run, so its hash is cached too). */
  private subjectText = "";
  private lastSize: Uint8Array = EMPTY;

  constructor(private readonly handler: H, limits: ParserLimits, table: OpTable<H>) {
    this.limits = limits;
    this.ops = table.ops;
    this.pubOp = table.ops.find((o) => o.kind === "pub") ?? null;
    this.hotOp = table.hot === undefined ? null : table.ops.find((o) => o.name === table.hot)!;
    this.hotName = hotNameBytes(table.hot ?? "");
  }

  /** Feeds bytes; returns how many were consumed (less than all only when paused or closed). */
  parse(buf: Uint8Array): number {
    const used = this.run(buf);
    // A PUB whose payload has not arrived yet must not keep views into the caller's buffer.
    if (this.state === State.Payload && !this.argsOwned) this.ownArgs();
    return used;
  }

  private ownArgs(): void {
    this.reply = this.reply ? this.reply.slice() : null;
    this.argsOwned = true;
  }

  private run(buf: Uint8Array): number {
    const n = buf.length;
    let i = 0;
    while (i < n) {
      if (this.paused) return i;
      switch (this.state) {
        case State.Start: {
          const b = buf[i];
          if (this.limits.awaitingConnect && b !== 67 && b !== 99) {
            if (!this.handler.onOpBeforeConnect()) {
              return this.fatal(Err.authViolation, Closed.authViolation, n);
            }
            this.limits.awaitingConnect = false;
          }
          // Fast path for the hot op.
          if (
            (b === 80 || b === 112) && this.pubOp !== null && i + 3 < n &&
            upper(buf[i + 1]) === 85 && upper(buf[i + 2]) === 66 &&
            (buf[i + 3] === SPACE || buf[i + 3] === TAB)
          ) {
            this.op = this.pubOp;
            const next = this.fastPub(buf, i + 4, n);
            if (next === -2) return n;
            if (next >= 0) {
              i = next;
              continue;
            }
            this.state = State.OpSpace;
            i += 4;
            continue;
          }
          const hot = this.hotName;
          const hl = hot.length;
          if (hl > 0 && upper(b) === hot[0] && i + hl < n) {
            let k = 1;
            while (k < hl && upper(buf[i + k]) === hot[k]) k++;
            if (k === hl && (buf[i + hl] === SPACE || buf[i + hl] === TAB)) {
              this.op = this.hotOp;
              this.state = State.OpSpace;
              i += hl + 1;
              continue;
            }
          }
          this.op = null;
          this.opName = "";
          this.state = State.OpName;
          continue;
        }
        case State.OpName: {
          const c = String.fromCharCode(upper(buf[i]));
          if (this.op !== null && this.opName === this.op.name) {
            // The op name is complete; what follows decides.
            const op = this.op;
            const b = buf[i];
            if (op.kind === "none") {
              this.state = State.SkipLine;
              continue;
            }
            if (needsSpace(op) && b !== SPACE && b !== TAB) return this.parseErr(n);
            this.state = State.OpSpace;
            continue;
          }
          const name = this.opName + c;
          const match = this.ops.find((o) => o.name.startsWith(name));
          if (match === undefined) return this.parseErr(n);
          this.opName = name;
          if (match.name === name) this.op = match;
          i++;
          continue;
        }
        case State.OpSpace: {
          const b = buf[i];
          if (b === SPACE || b === TAB) {
            i++;
            continue;
          }
          // Like the reference, the byte that ends the spaces starts the argument unexamined.
          this.state = State.Arg;
          this.argStart = i;
          this.argBuf = null;
          this.argLen = 0;
          i++;
          if (i === n) this.saveArg(buf.subarray(this.argStart, n));
          continue;
        }
        case State.SkipLine: {
          const j = buf.indexOf(LF, i);
          if (j < 0) return n;
          i = j + 1;
          this.state = State.Start;
          const op = this.op;
          if (op !== null && op.kind === "none" && op.run !== undefined) {
            op.run(this.handler, EMPTY);
          }
          continue;
        }
        case State.Arg: {
          const j = buf.indexOf(LF, i);
          if (j < 0) {
            this.saveArg(buf.subarray(this.argBuf ? i : this.argStart, n));
            if (this.argLen > this.limits.maxControlLine) {
              return this.fatal(Err.maxControlLine, Closed.maxControlLine, n);
            }
            return n;
          }
          // The line is src[s, e), without its CR.
          let src = buf;
          let s = this.argStart;
          let e = j;
          if (this.argBuf) {
            this.saveArg(buf.subarray(i, j));
            src = this.argBuf;
            s = 0;
            e = this.argLen;
            this.argBuf = null;
          }
          // As the reference: a CR anywhere in the line drops the byte before the LF (usually
          // that CR; in `UNSUB 1 4\r*\n` the `*`).
          if (e > s && (src[e - 1] === CR || src.subarray(s, e).includes(CR))) e--;
          i = j + 1;
          if (e - s > this.limits.maxControlLine) {
            return this.fatal(Err.maxControlLine, Closed.maxControlLine, n);
          }
          this.state = State.Start;
          const op = this.op!;
          const ok = op.kind === "pub" || op.kind === "hpub"
            ? this.pubArgs(src, s, e, op.kind === "hpub")
            : this.dispatchArg(op, src.subarray(s, e));
          if (!ok) return n;
          continue;
        }
        case State.Payload: {
          const total = this.size + 2;
          if (this.msgBuf === null && n - i >= total) {
            if (buf[i + this.size] !== CR || buf[i + this.size + 1] !== LF) return this.parseErr(n);
            const msg = buf.subarray(i, i + this.size);
            i += total;
            this.state = State.Start;
            this.payloadDone(msg);
            continue;
          }
          if (this.msgBuf === null) {
            // Split payload: keep the args alive beyond this read buffer.
            if (!this.argsOwned) this.ownArgs();
            this.msgBuf = new Uint8Array(total);
            this.msgLen = 0;
          }
          const take = Math.min(total - this.msgLen, n - i);
          this.msgBuf.set(buf.subarray(i, i + take), this.msgLen);
          this.msgLen += take;
          i += take;
          if (this.msgLen > this.size && this.msgBuf[this.size] !== CR) return this.parseErr(n);
          if (this.msgLen === total) {
            if (this.msgBuf[this.size + 1] !== LF) return this.parseErr(n);
            const msg = this.msgBuf.subarray(0, this.size);
            this.msgBuf = null;
            this.state = State.Start;
            this.payloadDone(msg);
          }
          continue;
        }
        case State.Closed:
          return n;
      }
    }
    return n;
  }

  /** True once a fatal error was reported; further input is ignored. */
  get closed(): boolean {
    return this.state === State.Closed;
  }

  private saveArg(part: Uint8Array): void {
    const need = this.argLen + part.length;
    if (this.argBuf === null || this.argBuf.length < need) {
      const next = new Uint8Array(Math.max(need, 256, (this.argBuf?.length ?? 0) * 2));
      if (this.argBuf) next.set(this.argBuf.subarray(0, this.argLen));
      this.argBuf = next;
    }
    this.argBuf.set(part, this.argLen);
    this.argLen = need;
  }

  /** Handles a complete control line. Returns false when the connection must stop. */
  private dispatchArg(op: OpSpec<H>, arg: Uint8Array): boolean {
    if (op.kind === "payload") {
      const size = op.size(this.handler, arg);
      if (this.closed) return false;
      if (size < 0) return this.silentClose();
      return this.expectPayload(size);
    }
    if (op.kind !== "line" || op.run === undefined) return this.silentClose();
    if (!op.run(this.handler, arg)) return this.silentClose();
    if (op.closes) {
      this.state = State.Closed;
      return false;
    }
    return !this.closed;
  }

  /** A complete payload of the current op. */
  private payloadDone(msg: Uint8Array): void {
    const op = this.op!;
    if (op.kind === "payload") op.body(this.handler, msg);
    else {
      (this.handler as unknown as PubHandler).onMsg(
        this.subjectText,
        this.subject,
        this.reply,
        this.hdrLen,
        this.sizeTok,
        msg,
      );
    }
  }

  /** Reads a payload of `size` bytes next (limits checked). */
  private expectPayload(size: number): boolean {
    if (this.limits.maxPayload >= 0 && size > this.limits.maxPayload) {
      this.fatal(Err.maxPayload, Closed.maxPayload, 0);
      return false;
    }
    this.size = size;
    this.state = State.Payload;
    this.msgBuf = null;
    return true;
  }

  /**
   * A whole PUB control line in `buf` from `from` (just after "PUB "): finds its end and its
   * tokens in one pass and handles it. Returns the index after its LF, -2 when the connection
   * must stop, or -1 (nothing changed) when the general path must read it: line not complete in
   * this read, too long, more than 4 tokens.
   */
  private fastPub(buf: Uint8Array, from: number, n: number): number {
    let k = from;
    while (k < n && (buf[k] === SPACE || buf[k] === TAB)) k++;
    if (k >= n) return -1;
    const argStart = k;
    const t = TOK;
    let count = 0;
    let start = k++;
    const limit = this.limits.maxControlLine;
    const max = Math.min(n, argStart + limit + 2);
    for (; k < max; k++) {
      const b = buf[k];
      if (b === LF) break;
      if (b === SPACE || b === TAB) {
        if (start >= 0) {
          if (count === 4) return -1;
          t[count * 2] = start;
          t[count * 2 + 1] = k;
          count++;
          start = -1;
        }
      } else if (start < 0) start = k;
    }
    if (k >= max) return -1;
    let e = k;
    if (buf[e - 1] === CR) e--;
    if (e - argStart > limit) return -1;
    if (start >= 0 && start < e) {
      if (count === 4) return -1;
      t[count * 2] = start;
      t[count * 2 + 1] = e;
      count++;
    }
    this.state = State.Start;
    if (!this.pubTokens(buf, count, false)) return -2;
    // The payload too, when it is all here and well terminated (else the Payload state reads it).
    const p = k + 1;
    const size = this.size;
    if (n - p < size + 2 || buf[p + size] !== CR || buf[p + size + 1] !== LF) return p;
    this.state = State.Start;
    this.payloadDone(buf.subarray(p, p + size));
    return p + size + 2;
  }

  /** PUB/HPUB arguments in `arg[from, to)`. */
  private pubArgs(arg: Uint8Array, from: number, to: number, withHeaders: boolean): boolean {
    if (withHeaders && !this.limits.headers) return this.silentClose();
    // Tokenize into offsets (no arrays, no views) — this runs once per published message.
    const t = TOK;
    let count = 0;
    let start = -1;
    for (let i = from; i <= to; i++) {
      const b = i < to ? arg[i] : SPACE;
      if (b === SPACE || b === TAB) {
        if (start >= 0) {
          if (count === 5) return this.silentClose();
          t[count * 2] = start;
          t[count * 2 + 1] = i;
          count++;
          start = -1;
        }
      } else if (start < 0) start = i;
    }
    return this.pubTokens(arg, count, withHeaders);
  }

  /** PUB/HPUB with `count` tokens at {@link TOK} offsets into `arg`. */
  private pubTokens(arg: Uint8Array, count: number, withHeaders: boolean): boolean {
    const t = TOK;
    const base = withHeaders ? 3 : 2;
    if (count !== base && count !== base + 1) return this.silentClose();
    const last = count - 1;
    const subject = intern(this.lastSubject, arg, t[0], t[1]);
    if (subject !== this.lastSubject) {
      this.lastSubject = subject;
      this.subjectText = tokenString(subject);
    }
    this.subject = subject;
    this.sizeTok = this.lastSize = intern(this.lastSize, arg, t[last * 2], t[last * 2 + 1]);
    if (count === base + 1) {
      this.reply = arg.subarray(t[2], t[3]);
      this.argsOwned = false;
    } else this.reply = null;
    this.hdrLen = withHeaders ? parseSize(arg.subarray(t[last * 2 - 2], t[last * 2 - 1])) : -1;
    this.size = parseSize(this.sizeTok);
    if ((withHeaders && this.hdrLen < 0) || this.size < 0) return this.silentClose();
    if (this.limits.maxPayload >= 0 && this.size > this.limits.maxPayload) {
      this.fatal(Err.maxPayload, Closed.maxPayload, 0);
      return false;
    }
    if (withHeaders && this.hdrLen > this.size) return this.silentClose();
    if (this.limits.pedantic) (this.handler as unknown as PubHandler).onPubSubject(this.subject);
    this.state = State.Payload;
    this.msgBuf = null;
    return !this.closed;
  }

  private silentClose(): boolean {
    this.fatal(null, Closed.protocolViolation, 0);
    return false;
  }

  private parseErr(n: number): number {
    return this.fatal(Err.unknownOp, Closed.protocolViolation, n);
  }

  private fatal(err: string | null, reason: string, n: number): number {
    if (this.state !== State.Closed) {
      this.state = State.Closed;
      this.handler.onFatal(err, reason);
    }
    return n;
  }
}
