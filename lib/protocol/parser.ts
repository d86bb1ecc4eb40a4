/**
 * Byte-level parser for the NATS client protocol. It survives any split of the input (one byte
 * at a time works): partial control lines and payloads are carried over between calls.
 * Payloads are never converted to strings; arguments are handed out as byte views that are only
 * valid during the handler call.
 */
import { tokenString } from "./bytes.ts";
import { Err } from "./errors.ts";
import { Closed } from "../core/close_reasons.ts";

const CR = 13;
const LF = 10;
const SPACE = 32;
const TAB = 9;

/** Client operations, in the reference's spelling (matched case-insensitively). */
const OPS = [
  "PUB",
  "HPUB",
  "SUB",
  "UNSUB",
  "PING",
  "PONG",
  "CONNECT",
  "INFO",
  "+OK",
  "-ERR",
] as const;
type Op = typeof OPS[number];

/** Ops that need at least one space or tab before their arguments. */
const NEEDS_SPACE = new Set<Op>(["PUB", "HPUB", "SUB", "UNSUB", "-ERR"]);
/** Ops whose remaining line is ignored. */
const NO_ARGS = new Set<Op>(["PING", "PONG", "+OK"]);

const enum State {
  Start,
  OpName,
  OpSpace,
  Arg,
  SkipLine,
  Payload,
  Closed,
}

/** What the parser reports. Byte views are valid only for the duration of the call. */
export interface ParserHandler {
  /** A non-CONNECT op arrived first while auth is pending; return true to let it through. */
  onOpBeforeConnect(): boolean;
  onConnect(json: Uint8Array): void;
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
  onSub(subject: Uint8Array, queue: Uint8Array | null, sid: Uint8Array): void;
  onUnsub(sid: Uint8Array, max: number): void;
  onPing(): void;
  onPong(): void;
  onInfo(json: Uint8Array): void;
  /** The peer sent `-ERR`: the reference closes the connection without a reply. */
  onPeerError(text: Uint8Array): void;
  /** A fatal protocol error: send `err` (when not null) and close with `reason`. */
  onFatal(err: string | null, reason: string): void;
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

function upper(b: number): number {
  return b >= 97 && b <= 122 ? b - 32 : b;
}

/** The client protocol state machine over bytes. */
export class Parser {
  readonly limits: ParserLimits;
  /** Set by the handler to stop after the current op (e.g. while auth runs). */
  paused = false;
  private state = State.Start;
  private op: Op | null = null;
  private opName = "";
  /** Carried-over control line bytes when a line spans reads (null when not split). */
  private argBuf: Uint8Array | null = null;
  private argLen = 0;
  private argStart = 0;
  // Pending PUB/HPUB while its payload is read.
  private subject: Uint8Array = new Uint8Array(0);
  private reply: Uint8Array | null = null;
  private sizeTok: Uint8Array = new Uint8Array(0);
  private hdrLen = -1;
  private size = 0;
  private msgBuf: Uint8Array | null = null;
  private msgLen = 0;
  /** False while the reply still points into the caller's (reusable) read buffer. */
  private argsOwned = true;
  /** Token offsets of the current PUB/HPUB line (start, end pairs). */
  private readonly tok = new Int32Array(10);
  /**
   * The previous subject and size token, owned copies: consecutive messages on the same subject
   * get the same object back, so the handler can reuse its decoded string.
   */
  private lastSubject: Uint8Array = new Uint8Array(0);
  /** `lastSubject` decoded (decoded once per distinct subject run, so its hash is cached too). */
  private subjectText = "";
  private lastSize: Uint8Array = new Uint8Array(0);

  constructor(private readonly handler: ParserHandler, limits: ParserLimits) {
    this.limits = limits;
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
            (b === 80 || b === 112) && i + 3 < n && upper(buf[i + 1]) === 85 &&
            upper(buf[i + 2]) === 66 && (buf[i + 3] === SPACE || buf[i + 3] === TAB)
          ) {
            this.op = "PUB";
            this.state = State.OpSpace;
            i += 4;
            continue;
          }
          this.op = null;
          this.opName = "";
          this.state = State.OpName;
          continue;
        }
        case State.OpName: {
          const c = String.fromCharCode(upper(buf[i]));
          if (this.op !== null && this.opName === this.op) {
            // The op name is complete; what follows decides.
            const op = this.op;
            const b = buf[i];
            if (NO_ARGS.has(op)) {
              this.state = State.SkipLine;
              continue;
            }
            if (NEEDS_SPACE.has(op) && b !== SPACE && b !== TAB) return this.parseErr(n);
            this.state = State.OpSpace;
            continue;
          }
          const name = this.opName + c;
          const match = OPS.find((o) => o.startsWith(name));
          if (match === undefined) return this.parseErr(n);
          this.opName = name;
          if (match === name) this.op = match;
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
          if (this.op === "PING") this.handler.onPing();
          else if (this.op === "PONG") this.handler.onPong();
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
          if (e > s && src[e - 1] === CR) e--;
          i = j + 1;
          if (e - s > this.limits.maxControlLine) {
            return this.fatal(Err.maxControlLine, Closed.maxControlLine, n);
          }
          this.state = State.Start;
          const op = this.op;
          const ok = op === "PUB" || op === "HPUB"
            ? this.pubArgs(src, s, e, op === "HPUB")
            : this.dispatchArg(src.subarray(s, e));
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
            this.handler.onMsg(
              this.subjectText,
              this.subject,
              this.reply,
              this.hdrLen,
              this.sizeTok,
              msg,
            );
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
            this.handler.onMsg(
              this.subjectText,
              this.subject,
              this.reply,
              this.hdrLen,
              this.sizeTok,
              msg,
            );
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
  private dispatchArg(arg: Uint8Array): boolean {
    switch (this.op) {
      case "SUB": {
        const a = splitArgs(arg, true);
        if (a.length !== 2 && a.length !== 3) return this.silentClose();
        if (a.length === 2) this.handler.onSub(a[0], null, a[1]);
        else this.handler.onSub(a[0], a[1], a[2]);
        return !this.closed;
      }
      case "UNSUB": {
        const a = splitArgs(arg, true);
        if (a.length !== 1 && a.length !== 2) return this.silentClose();
        this.handler.onUnsub(a[0], a.length === 2 ? parseSize(a[1]) : -1);
        return !this.closed;
      }
      case "CONNECT":
        this.handler.onConnect(arg);
        return !this.closed;
      case "INFO":
        this.handler.onInfo(arg);
        return !this.closed;
      case "-ERR":
        this.handler.onPeerError(arg);
        this.state = State.Closed;
        return false;
      default:
        return this.silentClose();
    }
  }

  /** PUB/HPUB arguments in `arg[from, to)`. */
  private pubArgs(arg: Uint8Array, from: number, to: number, withHeaders: boolean): boolean {
    if (withHeaders && !this.limits.headers) return this.silentClose();
    // Tokenize into offsets (no arrays, no views) — this runs once per published message.
    const t = this.tok;
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
    if (this.limits.pedantic) this.handler.onPubSubject(this.subject);
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
