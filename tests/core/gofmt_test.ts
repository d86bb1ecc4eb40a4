import assert from "node:assert/strict";
import {
  atoiError,
  goAtoi,
  goIsPrint,
  goQuote,
  goQuoteBytes,
  joinHostPort,
  parseGoInt,
  splitHostPort,
} from "../../lib/core/gofmt.ts";
import { RawClient } from "../helpers/raw.ts";
import { withEachServer } from "../helpers/each_server.ts";

// [input, Go's strconv.Quote(input)]. The first five are the code points the old copy in
// lib/transport/ws/gourl.ts printed raw although Go escapes them.
const QUOTES: [string, string][] = [
  ["\u00a0", '"\\u00a0"'], // Zs no-break space
  ["\u200b", '"\\u200b"'], // Cf zero width space
  ["\u0378", '"\\u0378"'], // Cn unassigned
  ["\ue000", '"\\ue000"'], // Co private use
  ["\u3000", '"\\u3000"'], // Zs ideographic space
  ["abc", '"abc"'],
  ["a b", '"a b"'],
  ['a"b\\c', '"a\\"b\\\\c"'],
  ["\x07\b\f\n\r\t\v", '"\\a\\b\\f\\n\\r\\t\\v"'],
  ["\x00\x1f\x7f", '"\\x00\\x1f\\x7f"'],
  ["\u0080\u0085\u009f", '"\\u0080\\u0085\\u009f"'], // C1 controls
  ["\u00ad", '"\\u00ad"'], // Cf soft hyphen
  ["\u2028\u2029", '"\\u2028\\u2029"'], // Zl, Zp
  ["\ufeff", '"\\ufeff"'],
  ["\u{e0001}", '"\\U000e0001"'], // Cf language tag
  ["\u{10ffff}", '"\\U0010ffff"'], // Cn
  ["é日本ü", '"é日本ü"'],
  ["😀", '"😀"'],
  ["\ufffd", '"\ufffd"'],
  ["\ud800", '"\ufffd"'], // a lone surrogate is encoded as U+FFFD first
  ["\u00a1\u00bf\u00d7", '"¡¿×"'], // Latin-1 punctuation and symbols print
  ["\u0301", '"\u0301"'], // Mn combining mark prints
];

Deno.test("gofmt: goQuote table (Go's strconv.Quote)", async (t) => {
  for (const [input, want] of QUOTES) {
    await t.step(JSON.stringify(input), () => assert.equal(goQuote(input), want));
  }
});

Deno.test("gofmt: goQuoteBytes escapes invalid UTF-8 byte by byte", () => {
  const q = (...b: number[]) => goQuoteBytes(new Uint8Array(b));
  assert.equal(q(0xff), '"\\xff"');
  assert.equal(q(0xe2, 0x82), '"\\xe2\\x82"'); // truncated sequence
  assert.equal(q(0xc0, 0x80), '"\\xc0\\x80"'); // overlong
  assert.equal(q(0xed, 0xa0, 0x80), '"\\xed\\xa0\\x80"'); // encoded surrogate
  assert.equal(q(0xc3, 0xa9), '"é"');
  assert.equal(goIsPrint(0x20), true);
  assert.equal(goIsPrint(0xa0), false);
});

// The reference quotes the subject of a publish permission violation with %q: the same bytes
// must come back from both servers.
Deno.test("gofmt: goQuote matches nats-server's %q in permission violations", async () => {
  const conf =
    `authorization { users = [ { user: a, password: b, permissions: { publish: "ok" } } ] }\n`;
  // Only bytes a subject can carry: no controls, whitespace, dots or lone surrogates.
  const usable = (ch: string) => {
    const c = ch.codePointAt(0)!;
    return c > 0x20 && c !== 0x7f && c !== 0x2e && (c < 0xd800 || c > 0xdfff) && !/\s/.test(ch);
  };
  const subjects = QUOTES.map(([s]) => s).filter((s) => [...s].every(usable));
  await withEachServer(conf, async (name, port) => {
    const c = await RawClient.connect(port);
    try {
      await c.send(`CONNECT {"verbose":false,"user":"a","pass":"b"}\r\nPING\r\n`);
      await c.readUntil((t) => t.includes("PONG\r\n"));
      for (const s of subjects) {
        c.text = "";
        await c.send(`PUB x${s} 0\r\n\r\nPING\r\n`);
        const got = await c.readUntil((t) => t.includes("PONG\r\n"));
        const want = `-ERR 'Permissions Violation for Publish to ${goQuote("x" + s)}'\r\n`;
        assert.ok(got.includes(want), `${name}: ${JSON.stringify(s)}: ${JSON.stringify(got)}`);
      }
    } finally {
      c.conn.close();
    }
  });
});

Deno.test("gofmt: splitHostPort / joinHostPort", () => {
  assert.deepEqual(splitHostPort("[::1]:4222"), { ok: true, host: "::1", port: "4222" });
  assert.deepEqual(splitHostPort("h:1"), { ok: true, host: "h", port: "1" });
  const bad = splitHostPort("");
  assert.equal(bad.ok, false);
  if (!bad.ok) assert.equal(bad.error, "missing port in address"); // Go omits an empty address
  const colons = splitHostPort("a:b:c");
  if (!colons.ok) assert.equal(colons.error, "address a:b:c: too many colons in address");
  else assert.fail("a:b:c split");
  assert.equal(joinHostPort("::1", 4222), "[::1]:4222");
  assert.equal(joinHostPort("127.0.0.1", 0), "127.0.0.1:0");
  assert.equal(joinHostPort("", 80), ":80");
});

Deno.test("gofmt: strconv.Atoi", () => {
  const cases: [string, number | string][] = [
    ["42", 42],
    ["+7", 7],
    ["-1", -1],
    ["9223372036854775807", 9223372036854775807],
    ["9223372036854775808", "value out of range"],
    ["-9223372036854775809", "value out of range"],
    ["", "invalid syntax"],
    ["1.5", "invalid syntax"],
    [" 1", "invalid syntax"],
  ];
  for (const [s, want] of cases) {
    assert.equal(parseGoInt(s), want, s);
    assert.equal(goAtoi(s), typeof want === "number" ? want : undefined, s);
  }
  assert.equal(atoiError("x", "invalid syntax"), 'strconv.Atoi: parsing "x": invalid syntax');
});
