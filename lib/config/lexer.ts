/**
 * Lexer for the nats-server configuration format.
 *
 * The behaviour (which inputs are accepted, the token boundaries, the error texts and the
 * reported line/position of every token) is that of nats-server 2.9.10 `conf/lex.go`; the
 * reference's positions are reproduced on purpose, quirks included (the column is counted from
 * the previous newline character, so it is 0-based on line 1 and 1-based afterwards, and it is a
 * byte offset). The lexer is a small state machine over the UTF-8 bytes of the input: each state
 * consumes a little input and returns the next state; a stack of states remembers where to go
 * after a value, a comment or a nested map/array.
 */

export const enum Tok {
  Error,
  EOF,
  Key,
  Text,
  String,
  Bool,
  Integer,
  Float,
  Datetime,
  ArrayStart,
  ArrayEnd,
  MapStart,
  MapEnd,
  CommentStart,
  Variable,
  Include,
}

export interface Item {
  typ: Tok;
  val: string;
  line: number;
  pos: number;
}

type State = (lx: Lexer) => State | null;

const EOF = 0;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const isWhitespace = (r: number) => r === 0x09 || r === 0x20;
const isNL = (r: number) => r === 0x0a || r === 0x0d;
const isKeySeparator = (r: number) => r === 0x3d /* = */ || r === 0x3a; /* : */

/** Unicode White_Space, the table Go's unicode.IsSpace uses. */
function isSpace(r: number): boolean {
  if (r <= 0xff) {
    return (r >= 0x09 && r <= 0x0d) || r === 0x20 || r === 0x85 || r === 0xa0;
  }
  return r === 0x1680 || (r >= 0x2000 && r <= 0x200a) || r === 0x2028 || r === 0x2029 ||
    r === 0x202f || r === 0x205f || r === 0x3000;
}

const ND = /^\p{Nd}$/u;
/** Unicode decimal digit (Go's unicode.IsDigit). */
function isDigit(r: number): boolean {
  if (r < 0x80) return r >= 0x30 && r <= 0x39;
  if (r <= 0xff) return false;
  return ND.test(String.fromCodePoint(r));
}

function isNumberSuffix(r: number): boolean {
  switch (r) {
    case 0x6b: // k
    case 0x4b:
    case 0x6d: // m
    case 0x4d:
    case 0x67: // g
    case 0x47:
    case 0x74: // t
    case 0x54:
    case 0x70: // p
    case 0x50:
    case 0x65: // e
    case 0x45:
      return true;
  }
  return false;
}

/** How a rune is shown inside an error message (Go's `escapeSpecial` + `%v`). */
function showRune(r: number): string {
  if (r === 0x0a) return "\\n";
  return String.fromCodePoint(r);
}

export class Lexer {
  readonly input: Uint8Array;
  start = 0;
  pos = 0;
  width = 0;
  line = 1;
  /** Byte index of the newline that started the current line (0 on line 1). */
  lstart = 0;
  /** `lstart` as it was when the current item started. */
  ilstart = 0;
  private stack: State[] = [];
  /** Pieces of a string built from escape sequences. */
  private parts: Uint8Array[] = [];
  private partsLen = 0;
  private stringState: State = lexString;
  private state: State | null = lexTop;
  private items: Item[] = [];
  private head = 0;
  private budget: number;

  /** The input as a string when it is pure ASCII (byte offsets are then string offsets). */
  private readonly ascii: string | null;

  constructor(input: Uint8Array | string) {
    if (typeof input === "string") {
      this.input = encoder.encode(input);
      this.ascii = this.input.length === input.length ? input : null;
    } else {
      this.input = input;
      let ascii = true;
      for (let i = 0; i < input.length; i++) {
        if (input[i] >= 0x80) {
          ascii = false;
          break;
        }
      }
      this.ascii = ascii ? decoder.decode(input) : null;
    }
    // Every state either consumes input or moves to a state that does; this bound only exists
    // to turn a hypothetical lexer bug into an error instead of a hang.
    this.budget = 64 * (this.input.length + 64);
  }

  nextItem(): Item {
    while (this.head >= this.items.length) {
      if (this.state === null || --this.budget < 0) {
        if (this.state !== null) {
          this.state = null;
          return { typ: Tok.Error, val: "lexer did not terminate", line: this.line, pos: 0 };
        }
        return { typ: Tok.EOF, val: "", line: this.line, pos: 0 };
      }
      this.state = this.state(this);
    }
    const it = this.items[this.head++];
    if (this.head > 64 && this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return it;
  }

  push(s: State): void {
    this.stack.push(s);
  }

  pop(): State | null {
    const s = this.stack.pop();
    if (s === undefined) return this.errorf("BUG in lexer: no states to pop.");
    return s;
  }

  /** Decodes the rune at `pos` (Go's utf8.DecodeRune: invalid input is U+FFFD of width 1). */
  next(): number {
    const b = this.input;
    const p = this.pos;
    if (p >= b.length) {
      this.width = 0;
      return EOF;
    }
    const c = b[p];
    if (c === 0x0a) {
      this.line++;
      this.lstart = p;
    }
    if (c < 0x80) {
      this.width = 1;
      this.pos = p + 1;
      return c;
    }
    let r = 0xfffd;
    let w = 1;
    const c1 = p + 1 < b.length ? b[p + 1] : -1;
    const c2 = p + 2 < b.length ? b[p + 2] : -1;
    const c3 = p + 3 < b.length ? b[p + 3] : -1;
    const cont = (x: number) => x >= 0x80 && x <= 0xbf;
    if (c >= 0xc2 && c <= 0xdf && cont(c1)) {
      r = ((c & 0x1f) << 6) | (c1 & 0x3f);
      w = 2;
    } else if (c >= 0xe0 && c <= 0xef && cont(c1) && cont(c2)) {
      const v = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
      if (v >= 0x800 && !(v >= 0xd800 && v <= 0xdfff)) {
        r = v;
        w = 3;
      }
    } else if (c >= 0xf0 && c <= 0xf4 && cont(c1) && cont(c2) && cont(c3)) {
      const v = ((c & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f);
      if (v >= 0x10000 && v <= 0x10ffff) {
        r = v;
        w = 4;
      }
    }
    this.width = w;
    this.pos = p + w;
    return r;
  }

  backup(): void {
    this.pos -= this.width;
    if (this.pos < this.input.length && this.input[this.pos] === 0x0a) this.line--;
  }

  peek(): number {
    const r = this.next();
    this.backup();
    return r;
  }

  ignore(): void {
    this.start = this.pos;
    this.ilstart = this.lstart;
  }

  text(from: number, to: number): string {
    if (this.ascii !== null) return this.ascii.slice(from, to);
    return decoder.decode(this.input.subarray(from, to));
  }

  emit(typ: Tok): void {
    let val: string;
    let len: number;
    if (this.parts.length > 0) {
      const raw = this.input.subarray(this.start, this.pos);
      val = decoder.decode(this.concatParts(raw));
      len = this.partsLen + raw.length;
    } else {
      val = this.text(this.start, this.pos);
      len = this.pos - this.start;
    }
    this.items.push({ typ, val, line: this.line, pos: this.pos - this.ilstart - len });
    this.start = this.pos;
    this.ilstart = this.lstart;
  }

  emitString(): void {
    this.emit(Tok.String);
    this.parts = [];
    this.partsLen = 0;
  }

  private concatParts(tail: Uint8Array): Uint8Array {
    const out = new Uint8Array(this.partsLen + tail.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    out.set(tail, o);
    return out;
  }

  addCurrentStringPart(offset: number): void {
    this.addPart(this.input.slice(this.start, this.pos - offset));
    this.start = this.pos;
  }

  addStringPart(s: Uint8Array): State {
    this.addPart(s);
    this.start = this.pos;
    return this.stringState;
  }

  private addPart(p: Uint8Array): void {
    this.parts.push(p);
    this.partsLen += p.length;
  }

  hasEscapedParts(): boolean {
    return this.parts.length > 0;
  }

  setStringState(s: State): void {
    this.stringState = s;
  }

  getStringState(): State {
    return this.stringState;
  }

  errorf(msg: string): null {
    this.items.push({ typ: Tok.Error, val: msg, line: this.line, pos: this.pos - this.lstart });
    return null;
  }

  currentLower(): string {
    return this.text(this.start, this.pos).toLowerCase();
  }
}

const skipStates = new Map<State, State>();

/** A state that drops the input read so far and continues with `next` (cached per target). */
function skip(next: State): State {
  let s = skipStates.get(next);
  if (s === undefined) {
    s = (lx) => {
      lx.ignore();
      return next;
    };
    skipStates.set(next, s);
  }
  return s;
}

function lexTop(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexTop);
  switch (r) {
    case 0x7b: // '{' at the top level is skipped (JSON files)
      return skip(lexTop);
    case 0x23: // '#'
      lx.push(lexTop);
      return lexCommentStart;
    case 0x2f: { // '/'
      const rn = lx.next();
      if (rn === 0x2f) {
        lx.push(lexTop);
        return lexCommentStart;
      }
      lx.backup();
      return topEOF(lx);
    }
    case EOF:
      return topEOF(lx);
  }
  lx.backup();
  lx.push(lexTopValueEnd);
  return lexKeyStart;
}

function topEOF(lx: Lexer): State | null {
  if (lx.pos > lx.start) return lx.errorf("Unexpected EOF.");
  lx.emit(Tok.EOF);
  return null;
}

function lexTopValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (r === 0x23) {
    lx.push(lexTop);
    return lexCommentStart;
  }
  if (r === 0x2f) {
    const rn = lx.next();
    if (rn === 0x2f) {
      lx.push(lexTop);
      return lexCommentStart;
    }
    lx.backup();
    return lexTopValueEnd;
  }
  if (isWhitespace(r)) return lexTopValueEnd;
  if (isNL(r) || r === EOF || r === 0x3b || r === 0x2c || r === 0x7d) {
    lx.ignore();
    return lexTop;
  }
  return lx.errorf(
    `Expected a top-level value to end with a new line, comment or EOF, but got '${
      showRune(r)
    }' instead.`,
  );
}

function lexKeyStart(lx: Lexer): State | null {
  const r = lx.peek();
  if (isKeySeparator(r)) return lx.errorf(`Unexpected key separator '${showRune(r)}'`);
  if (isSpace(r)) {
    lx.next();
    return skip(lexKeyStart);
  }
  if (r === 0x22) {
    lx.next();
    return skip(lexDubQuotedKey);
  }
  if (r === 0x27) {
    lx.next();
    return skip(lexQuotedKey);
  }
  lx.ignore();
  lx.next();
  return lexKey;
}

/**
 * A quoted key. At the top level an unterminated key is "Unexpected EOF." (or a clean EOF when
 * nothing was read); inside a map it has its own message.
 */
function quotedKey(quote: number, after: State, mapEofMsg: string | null): State {
  const st: State = (lx) => {
    const r = lx.peek();
    if (r === quote) {
      lx.emit(Tok.Key);
      lx.next();
      return skip(after);
    }
    if (r === EOF) {
      if (mapEofMsg !== null) return lx.errorf(mapEofMsg);
      if (lx.pos > lx.start) return lx.errorf("Unexpected EOF.");
      lx.emit(Tok.EOF);
      return null;
    }
    lx.next();
    return st;
  };
  return st;
}

const lexDubQuotedKey = quotedKey(0x22, lexKeyEnd, null);
const lexQuotedKey = quotedKey(0x27, lexKeyEnd, null);
const lexMapQuotedKey = quotedKey(0x27, lexMapKeyEnd, "Unexpected EOF processing quoted map key.");
const lexMapDubQuotedKey = quotedKey(
  0x22,
  lexMapKeyEnd,
  "Unexpected EOF processing double quoted map key.",
);

/** A bare key followed by whitespace may be the `include` keyword. */
function keyCheckKeyword(lx: Lexer, fallThrough: State, push: State | null): State | null {
  if (lx.pos - lx.start === 7 && lx.currentLower() === "include") {
    lx.ignore();
    if (push !== null) lx.push(push);
    return lexIncludeStart;
  }
  lx.emit(Tok.Key);
  return fallThrough;
}

function lexIncludeStart(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skip(lexIncludeStart);
  lx.backup();
  return lexInclude;
}

function includeQuoted(quote: number, eofMsg: string): State {
  const st: State = (lx) => {
    const r = lx.next();
    if (r === quote) {
      lx.backup();
      lx.emit(Tok.Include);
      lx.next();
      lx.ignore();
      return lx.pop();
    }
    if (r === EOF) return lx.errorf(eofMsg);
    return st;
  };
  return st;
}

const lexIncludeQuotedString = includeQuoted(0x27, "Unexpected EOF in quoted include");
const lexIncludeDubQuotedString = includeQuoted(0x22, "Unexpected EOF in double quoted include");

function lexIncludeString(lx: Lexer): State | null {
  const r = lx.next();
  if (isNL(r) || r === EOF || r === 0x3b || r === 0x7d || isWhitespace(r)) {
    lx.backup();
    lx.emit(Tok.Include);
    return lx.pop();
  }
  if (r === 0x27) {
    lx.backup();
    lx.emit(Tok.Include);
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  return lexIncludeString;
}

function lexInclude(lx: Lexer): State | null {
  const r = lx.next();
  switch (r) {
    case 0x27:
      lx.ignore();
      return lexIncludeQuotedString;
    case 0x22:
      lx.ignore();
      return lexIncludeDubQuotedString;
    case 0x5b:
      return lx.errorf("Expected include value but found start of an array");
    case 0x7b:
      return lx.errorf("Expected include value but found start of a map");
    case 0x28:
      return lx.errorf("Expected include value but found start of a block");
    case 0x5c:
      return lx.errorf("Expected include value but found escape sequence");
  }
  if (isDigit(r) || r === 0x2d) {
    return lx.errorf("Expected include value but found start of a number");
  }
  if (isNL(r)) return lx.errorf("Expected include value but found new line");
  lx.backup();
  return lexIncludeString;
}

function lexKey(lx: Lexer): State | null {
  const r = lx.peek();
  if (isSpace(r)) return keyCheckKeyword(lx, lexKeyEnd, null);
  if (isKeySeparator(r) || r === EOF) {
    lx.emit(Tok.Key);
    return lexKeyEnd;
  }
  lx.next();
  return lexKey;
}

function lexKeyEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexKeyEnd);
  if (isKeySeparator(r)) return skip(lexValue);
  if (r === EOF) {
    lx.emit(Tok.EOF);
    return null;
  }
  lx.backup();
  return lexValue;
}

function lexValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skip(lexValue);
  switch (r) {
    case 0x5b: // [
      lx.ignore();
      lx.emit(Tok.ArrayStart);
      return lexArrayValue;
    case 0x7b: // {
      lx.ignore();
      lx.emit(Tok.MapStart);
      return lexMapKeyStart;
    case 0x27: // '
      lx.ignore();
      return lexQuotedString;
    case 0x22: // "
      lx.ignore();
      lx.setStringState(lexDubQuotedString);
      return lexDubQuotedString;
    case 0x2d: // -
      return lexNegNumberStart;
    case 0x28: // (
      lx.ignore();
      return lexBlock;
    case 0x2e: // .
      return lx.errorf("Floats must start with a digit");
  }
  if (isDigit(r)) {
    lx.backup();
    return lexNumberOrDateOrStringOrIPStart;
  }
  if (isNL(r)) return lx.errorf("Expected value but found new line");
  lx.backup();
  lx.setStringState(lexString);
  return lexString;
}

function lexArrayValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexArrayValue);
  if (r === 0x23) {
    lx.push(lexArrayValue);
    return lexCommentStart;
  }
  if (r === 0x2f) {
    const rn = lx.next();
    if (rn === 0x2f) {
      lx.push(lexArrayValue);
      return lexCommentStart;
    }
    lx.backup();
    return lx.errorf("Unexpected array value terminator ','.");
  }
  if (r === 0x2c) return lx.errorf("Unexpected array value terminator ','.");
  if (r === 0x5d) return lexArrayEnd;
  lx.backup();
  lx.push(lexArrayValueEnd);
  return lexValue;
}

function lexArrayValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skip(lexArrayValueEnd);
  if (r === 0x23) {
    lx.push(lexArrayValueEnd);
    return lexCommentStart;
  }
  if (r === 0x2f) {
    const rn = lx.next();
    if (rn === 0x2f) {
      lx.push(lexArrayValueEnd);
      return lexCommentStart;
    }
    lx.backup();
    return skip(lexArrayValue);
  }
  if (r === 0x2c || isNL(r)) return skip(lexArrayValue);
  if (r === 0x5d) return lexArrayEnd;
  return lx.errorf(
    `Expected an array value terminator "," or an array terminator "]", but got '${
      showRune(r)
    }' instead.`,
  );
}

function lexArrayEnd(lx: Lexer): State | null {
  lx.ignore();
  lx.emit(Tok.ArrayEnd);
  return lx.pop();
}

function lexMapKeyStart(lx: Lexer): State | null {
  const r = lx.peek();
  if (isKeySeparator(r)) return lx.errorf(`Unexpected key separator '${showRune(r)}'.`);
  if (r === 0x5d) return lx.errorf(`Unexpected array end '${showRune(r)}' processing map.`);
  if (isSpace(r)) {
    lx.next();
    return skip(lexMapKeyStart);
  }
  switch (r) {
    case 0x7d:
      lx.next();
      return skip(lexMapEnd);
    case 0x23:
      lx.next();
      lx.push(lexMapKeyStart);
      return lexCommentStart;
    case 0x2f: {
      lx.next();
      const rn = lx.next();
      if (rn === 0x2f) {
        lx.push(lexMapKeyStart);
        return lexCommentStart;
      }
      lx.backup();
      break;
    }
    case 0x27:
      lx.next();
      return skip(lexMapQuotedKey);
    case 0x22:
      lx.next();
      return skip(lexMapDubQuotedKey);
    case EOF:
      return lx.errorf("Unexpected EOF processing map.");
  }
  lx.ignore();
  lx.next();
  return lexMapKey;
}

function lexMapKey(lx: Lexer): State | null {
  const r = lx.peek();
  if (r === EOF) return lx.errorf("Unexpected EOF processing map key.");
  if (isSpace(r)) return keyCheckKeyword(lx, lexMapKeyEnd, lexMapValueEnd);
  if (isKeySeparator(r)) {
    lx.emit(Tok.Key);
    return lexMapKeyEnd;
  }
  lx.next();
  return lexMapKey;
}

function lexMapKeyEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexMapKeyEnd);
  if (isKeySeparator(r)) return skip(lexMapValue);
  lx.backup();
  return lexMapValue;
}

function lexMapValue(lx: Lexer): State | null {
  const r = lx.next();
  if (isSpace(r)) return skip(lexMapValue);
  if (r === 0x2c) return lx.errorf(`Unexpected map value terminator ",".`);
  if (r === 0x7d) return skip(lexMapEnd);
  lx.backup();
  lx.push(lexMapValueEnd);
  return lexValue;
}

function lexMapValueEnd(lx: Lexer): State | null {
  const r = lx.next();
  if (isWhitespace(r)) return skip(lexMapValueEnd);
  if (r === 0x23) {
    lx.push(lexMapValueEnd);
    return lexCommentStart;
  }
  if (r === 0x2f) {
    const rn = lx.next();
    if (rn === 0x2f) {
      lx.push(lexMapValueEnd);
      return lexCommentStart;
    }
    lx.backup();
    return skip(lexMapKeyStart);
  }
  if (r === 0x3b || r === 0x2c || isNL(r)) return skip(lexMapKeyStart);
  if (r === 0x7d) return skip(lexMapEnd);
  return lx.errorf(
    `Expected a map value terminator "," or a map terminator "}", but got '${
      showRune(r)
    }' instead.`,
  );
}

function lexMapEnd(lx: Lexer): State | null {
  lx.ignore();
  lx.emit(Tok.MapEnd);
  return lx.pop();
}

function isBool(lx: Lexer): boolean {
  const n = lx.pos - lx.start;
  if (n < 2 || n > 5) return false;
  const s = lx.currentLower();
  return s === "true" || s === "false" || s === "on" || s === "off" || s === "yes" || s === "no";
}

function isVariable(lx: Lexer): boolean {
  if (lx.start >= lx.input.length) return false;
  if (lx.input[lx.start] === 0x24) {
    lx.start += 1;
    return true;
  }
  return false;
}

function lexQuotedString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === 0x27) {
    lx.backup();
    lx.emit(Tok.String);
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  if (r === EOF) return valueEOF(lx);
  return lexQuotedString;
}

function valueEOF(lx: Lexer): State | null {
  if (lx.pos > lx.start) return lx.errorf("Unexpected EOF.");
  lx.emit(Tok.EOF);
  return null;
}

function lexDubQuotedString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === 0x5c) {
    lx.addCurrentStringPart(1);
    return lexStringEscape;
  }
  if (r === 0x22) {
    lx.backup();
    lx.emitString();
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  if (r === EOF) return valueEOF(lx);
  return lexDubQuotedString;
}

function lexString(lx: Lexer): State | null {
  const r = lx.next();
  if (r === 0x5c) {
    lx.addCurrentStringPart(1);
    return lexStringEscape;
  }
  if (
    isNL(r) || r === EOF || r === 0x3b || r === 0x2c || r === 0x5d || r === 0x7d ||
    isWhitespace(r)
  ) {
    lx.backup();
    if (lx.hasEscapedParts()) lx.emitString();
    else if (isBool(lx)) lx.emit(Tok.Bool);
    else if (isVariable(lx)) lx.emit(Tok.Variable);
    else lx.emitString();
    return lx.pop();
  }
  if (r === 0x27) {
    lx.backup();
    lx.emitString();
    lx.next();
    lx.ignore();
    return lx.pop();
  }
  return lexString;
}

/** A block string: raw text up to a ')' that is alone on its line. */
function lexBlock(lx: Lexer): State | null {
  const r = lx.next();
  if (r === 0x29) {
    lx.backup();
    lx.backup();
    if (lx.next() !== 0x0a) {
      lx.next();
      return lexBlock;
    }
    lx.next();
    const after = lx.next();
    if (after === 0x0a || after === EOF) {
      lx.backup();
      lx.backup();
      lx.emit(Tok.String);
      lx.next();
      lx.ignore();
      return lx.pop();
    }
    lx.backup();
    return lexBlock;
  }
  if (r === EOF) return lx.errorf("Unexpected EOF processing block.");
  return lexBlock;
}

const ESC_TAB = encoder.encode("\t");
const ESC_NL = encoder.encode("\n");
const ESC_CR = encoder.encode("\r");
const ESC_DQ = encoder.encode('"');
const ESC_BS = encoder.encode("\\");

function lexStringEscape(lx: Lexer): State | null {
  const r = lx.next();
  switch (r) {
    case 0x78: // x
      return lexStringBinary;
    case 0x74:
      return lx.addStringPart(ESC_TAB);
    case 0x6e:
      return lx.addStringPart(ESC_NL);
    case 0x72:
      return lx.addStringPart(ESC_CR);
    case 0x22:
      return lx.addStringPart(ESC_DQ);
    case 0x5c:
      return lx.addStringPart(ESC_BS);
  }
  return lx.errorf(
    `Invalid escape character '${
      showRune(r)
    }'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\", \\\\.`,
  );
}

function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

function lexStringBinary(lx: Lexer): State | null {
  const eol = "Expected two hexadecimal digits after '\\x', but hit end of line";
  if (isNL(lx.next())) return lx.errorf(eol);
  if (isNL(lx.next())) return lx.errorf(eol);
  const off = lx.pos - 2;
  const hi = hexVal(lx.input[off] ?? -1);
  const lo = hexVal(lx.input[off + 1] ?? -1);
  if (off < 0 || hi < 0 || lo < 0 || lx.pos > lx.input.length) {
    return lx.errorf(
      `Expected two hexadecimal digits after '\\x', but got '${lx.text(Math.max(off, 0), lx.pos)}'`,
    );
  }
  lx.addStringPart(new Uint8Array([hi * 16 + lo]));
  return lx.getStringState();
}

function isNumberEnd(r: number): boolean {
  return isNL(r) || r === EOF || r === 0x7d || r === 0x3b || r === 0x2c || isWhitespace(r);
}

function lexNumberOrDateOrStringOrIPStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    if (r === 0x2e) return lx.errorf("Floats must start with a digit, not '.'.");
    return lx.errorf(`Expected a digit but got '${showRune(r)}'.`);
  }
  return lexNumberOrDateOrStringOrIP;
}

function lexNumberOrDateOrStringOrIP(lx: Lexer): State | null {
  const r = lx.next();
  if (r === 0x2d) {
    if (lx.pos - lx.start !== 5) return lx.errorf("All ISO8601 dates must be in full Zulu form.");
    return lexDateAfterYear;
  }
  if (isDigit(r)) return lexNumberOrDateOrStringOrIP;
  if (r === 0x2e) return lexFloatStart;
  if (isNumberSuffix(r)) return lexConvenientNumber;
  if (!isNumberEnd(r)) {
    lx.setStringState(lexString);
    return lexString;
  }
  lx.backup();
  lx.emit(Tok.Integer);
  return lx.pop();
}

function lexConvenientNumber(lx: Lexer): State | null {
  const r = lx.next();
  if (r === 0x62 || r === 0x42 || r === 0x69 || r === 0x49) return lexConvenientNumber;
  lx.backup();
  if (isNumberEnd(r) || isDigit(r)) {
    lx.emit(Tok.Integer);
    return lx.pop();
  }
  lx.setStringState(lexString);
  return lexString;
}

const DATE_FORMAT = "00-00T00:00:00Z";

function lexDateAfterYear(lx: Lexer): State | null {
  for (let i = 0; i < DATE_FORMAT.length; i++) {
    const f = DATE_FORMAT.charCodeAt(i);
    const r = lx.next();
    if (f === 0x30) {
      if (!isDigit(r)) {
        return lx.errorf(
          `Expected digit in ISO8601 datetime, but found '${showRune(r)}' instead.`,
        );
      }
    } else if (f !== r) {
      return lx.errorf(
        `Expected '${String.fromCharCode(f)}' in ISO8601 datetime, but found '${
          showRune(r)
        }' instead.`,
      );
    }
  }
  lx.emit(Tok.Datetime);
  return lx.pop();
}

function lexNegNumberStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    if (r === 0x2e) return lx.errorf("Floats must start with a digit, not '.'.");
    return lx.errorf(`Expected a digit but got '${showRune(r)}'.`);
  }
  return lexNegNumber;
}

function lexNegNumber(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r)) return lexNegNumber;
  if (r === 0x2e) return lexFloatStart;
  if (isNumberSuffix(r)) return lexConvenientNumber;
  lx.backup();
  lx.emit(Tok.Integer);
  return lx.pop();
}

function lexFloatStart(lx: Lexer): State | null {
  const r = lx.next();
  if (!isDigit(r)) {
    return lx.errorf(
      `Floats must have a digit after the '.', but got '${showRune(r)}' instead.`,
    );
  }
  return lexFloat;
}

function lexFloat(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r)) return lexFloat;
  if (r === 0x2e) return lexIPAddr;
  lx.backup();
  lx.emit(Tok.Float);
  return lx.pop();
}

function lexIPAddr(lx: Lexer): State | null {
  const r = lx.next();
  if (isDigit(r) || r === 0x2e || r === 0x3a || r === 0x2d) return lexIPAddr;
  lx.backup();
  lx.emit(Tok.String);
  return lx.pop();
}

function lexCommentStart(lx: Lexer): State | null {
  lx.ignore();
  lx.emit(Tok.CommentStart);
  return lexComment;
}

function lexComment(lx: Lexer): State | null {
  // Fast path: jump to the end of the line (same result as peeking one rune at a time).
  const b = lx.input;
  let p = lx.pos;
  while (p < b.length && b[p] !== 0x0a && b[p] !== 0x0d && b[p] !== 0) p++;
  // Runes are whole here: a multi-byte rune never contains these bytes.
  lx.pos = p;
  lx.width = 0;
  const r = lx.peek();
  if (isNL(r) || r === EOF) {
    lx.emit(Tok.Text);
    return lx.pop();
  }
  lx.next();
  return lexComment;
}

export { isDigit, isSpace };
