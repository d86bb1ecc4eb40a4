/**
 * The parser takes its op table per connection kind: a second table (ops shaped like the
 * leafnode protocol's LS+, LS- and LMSG, with no leafnode semantics) parses the same whether
 * the input comes whole, byte by byte, or split at any position, and the client ops are
 * unknown to it.
 */
import { Closed } from "../../lib/core/close_reasons.ts";
import { Err } from "../../lib/protocol/errors.ts";
import {
  type OpHandler,
  type OpTable,
  Parser,
  parseSize,
  splitArgs,
} from "../../lib/protocol/parser.ts";
import { assertEquals } from "../helpers/assert.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Records every op as text. */
class Recorder implements OpHandler {
  events: string[] = [];
  /** LMSG arguments kept until its payload arrives (the views die with the call). */
  pending = "";
  onOpBeforeConnect(): boolean {
    return false;
  }
  onFatal(err: string | null, reason: string): void {
    this.events.push(`fatal ${err} / ${reason}`);
  }
}

const TEST_OPS: OpTable<Recorder> = {
  ops: [
    {
      name: "LS+",
      kind: "line",
      needsSpace: true,
      run: (h, arg) => {
        const a = splitArgs(arg);
        if (a.length < 1 || a.length > 3) return false;
        h.events.push(`LS+ ${a.map((t) => dec.decode(t)).join("|")}`);
        return true;
      },
    },
    {
      name: "LS-",
      kind: "line",
      needsSpace: true,
      run: (h, arg) => {
        const a = splitArgs(arg);
        if (a.length < 1 || a.length > 2) return false;
        h.events.push(`LS- ${a.map((t) => dec.decode(t)).join("|")}`);
        return true;
      },
    },
    {
      name: "LMSG",
      kind: "payload",
      size: (h, arg) => {
        const a = splitArgs(arg);
        if (a.length < 2) return -1;
        h.pending = a.slice(0, -1).map((t) => dec.decode(t)).join("|");
        return parseSize(a[a.length - 1]);
      },
      body: (h, payload) => h.events.push(`LMSG ${h.pending} [${dec.decode(payload)}]`),
    },
    { name: "PING", kind: "none", run: (h) => (h.events.push("PING"), true) },
    { name: "PONG", kind: "none", run: (h) => (h.events.push("PONG"), true) },
  ],
};

const INPUT = "LS+ foo\r\nLS+ bar.* q 3\r\nLMSG foo + reply q1 q2 5\r\nhello\r\n" +
  "LMSG bar.x 0\r\n\r\nls- bar.* q\r\nPING\r\nLMSG a 4\r\n\r\n\r\n\r\nPONG\r\n";

const EXPECTED = [
  "LS+ foo",
  "LS+ bar.*|q|3",
  "LMSG foo|+|reply|q1|q2 [hello]",
  "LMSG bar.x []",
  "LS- bar.*|q",
  "PING",
  "LMSG a [\r\n\r\n]",
  "PONG",
];

function feed(parts: Uint8Array[]): string[] {
  const h = new Recorder();
  const p = new Parser(h, {
    maxControlLine: 4096,
    maxPayload: 1024,
    headers: false,
    pedantic: false,
    awaitingConnect: false,
  }, TEST_OPS);
  // One reused read buffer, scribbled over after each call: nothing may keep views into it.
  const shared = new Uint8Array(Math.max(...parts.map((x) => x.length)));
  for (const part of parts) {
    shared.set(part);
    p.parse(shared.subarray(0, part.length));
    shared.fill(0x58);
  }
  return h.events;
}

Deno.test("parser ops: a second op table parses whole, byte by byte and split anywhere", () => {
  const bytes = enc.encode(INPUT);
  assertEquals(feed([bytes]), EXPECTED);
  assertEquals(feed([...bytes].map((b) => Uint8Array.of(b))), EXPECTED, "byte at a time");
  for (let i = 1; i < bytes.length; i++) {
    assertEquals(feed([bytes.slice(0, i), bytes.slice(i)]), EXPECTED, `split at ${i}`);
  }
});

Deno.test("parser ops: ops outside the table are unknown; bad args and limits are fatal", () => {
  const cases: [string, string[]][] = [
    ["PUB foo 1\r\nx\r\n", [`fatal ${Err.unknownOp} / ${Closed.protocolViolation}`]],
    ["SUB foo 1\r\n", [`fatal ${Err.unknownOp} / ${Closed.protocolViolation}`]],
    ["LS+foo\r\n", [`fatal ${Err.unknownOp} / ${Closed.protocolViolation}`]],
    ["LS+ a b c d\r\n", [`fatal null / ${Closed.protocolViolation}`]],
    ["LMSG foo x\r\n", [`fatal null / ${Closed.protocolViolation}`]],
    ["LMSG foo 2048\r\n", [`fatal ${Err.maxPayload} / ${Closed.maxPayload}`]],
    ["LMSG foo 2\r\nabXX", [`fatal ${Err.unknownOp} / ${Closed.protocolViolation}`]],
  ];
  for (const [input, want] of cases) assertEquals(feed([enc.encode(input)]), want, input);
});
