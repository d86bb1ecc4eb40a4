import assert from "node:assert/strict";
import zlib from "node:zlib";
import {
  maskInPlace,
  OPCODE,
  type WsEvent,
  WsFrameDecoder,
  type WsFrameDecoderOptions,
} from "../../../lib/transport/ws/mod.ts";
import {
  clientDeflate,
  clientMsg,
  concat,
  mergeData,
  summarize,
  type Summary,
  td,
  te,
} from "./_frames_helpers.ts";

const BIN = OPCODE.BINARY;
const TEXT = OPCODE.TEXT;
const PING = OPCODE.PING;
const PONG = OPCODE.PONG;
const CLOSE = OPCODE.CLOSE;

/** Decode `buf` (copied: the decoder unmasks in place) fed in the given chunk sizes. */
function decodeChunks(buf: Uint8Array, cuts: number[], o?: WsFrameDecoderOptions): WsEvent[] {
  const copy = buf.slice();
  const d = new WsFrameDecoder(o);
  const events: WsEvent[] = [];
  let prev = 0;
  for (const c of [...cuts, copy.length]) {
    for (const e of d.feed(copy.subarray(prev, c))) {
      // Data views alias the input: snapshot them as the engine would consume them.
      events.push(e.type === "data" ? { type: "data", data: e.data.slice() } : e);
    }
    prev = c;
  }
  return events;
}

function decodeAll(buf: Uint8Array, o?: WsFrameDecoderOptions): Summary[] {
  return summarize(decodeChunks(buf, [], o));
}

function closePayloadBytes(status: number, body: string | Uint8Array): Uint8Array {
  const b = typeof body === "string" ? te.encode(body) : body;
  return concat(new Uint8Array([status >> 8, status & 0xff]), b);
}

// ---------------------------------------------------------------------------------------------
// TestWSReadUncompressedFrames / TestWSReadPartialFrameHeaderAtEndOfReadBuffer

Deno.test("ws frames: several frames in one read, then a frame split across reads", () => {
  const buf = concat(
    clientMsg(BIN, 1, true, false, "first message"),
    clientMsg(BIN, 1, true, false, "second message"),
  );
  assert.deepEqual(decodeAll(buf), [["data", "first messagesecond message"]]);
  const events = decodeChunks(buf, []);
  assert.deepEqual(events.map((e) => e.type === "data" && td.decode(e.data)), [
    "first message",
    "second message",
  ]);
  const big = clientMsg(BIN, 1, true, false, "x".repeat(300));
  assert.deepEqual(decodeAll(big), [["data", "x".repeat(300)]]);
  assert.deepEqual(mergeData(summarize(decodeChunks(big, [3]))), [["data", "x".repeat(300)]]);
  assert.deepEqual(mergeData(summarize(decodeChunks(big, [1, 2, 5, 9, 100]))), [[
    "data",
    "x".repeat(300),
  ]]);
});

Deno.test("ws frames: text and binary are both raw data", () => {
  const buf = concat(
    clientMsg(TEXT, 1, true, false, "PING\r\n"),
    clientMsg(BIN, 1, true, false, "PONG\r\n"),
  );
  assert.deepEqual(decodeAll(buf), [["data", "PING\r\nPONG\r\n"]]);
});

Deno.test("ws frames: data events are in-place unmasked views of the input", () => {
  const frame = clientMsg(BIN, 1, true, false, "hello");
  const input = frame.slice();
  const [e] = new WsFrameDecoder().feed(input);
  assert.equal(e.type, "data");
  if (e.type !== "data") return;
  assert.equal(e.data.buffer, input.buffer);
  assert.equal(e.data.byteOffset, input.byteOffset + 6);
  assert.equal(td.decode(input.subarray(6)), "hello");
});

// ---------------------------------------------------------------------------------------------
// Every split position of a rich multi-frame buffer

const BIG = "MSG foo 1 300\r\n" + "y".repeat(300) + "\r\n";
const COMPRESSED_TEXT = "PUB foo 100\r\n" + "z".repeat(100) + "\r\n";
const COMPRESSED_PARTS = (() => {
  const c = clientDeflate(te.encode(COMPRESSED_TEXT));
  const mid = c.length >> 1;
  return [c.subarray(0, mid), c.subarray(mid)];
})();

const RICH = concat(
  clientMsg(BIN, 1, true, false, "CONNECT {}\r\n"),
  clientMsg(TEXT, 1, true, false, BIG), // 16-bit length
  clientMsg(BIN, 1, false, false, "PUB a 5\r\n"), // fragmented ...
  clientMsg(PING, 1, true, false, "p1"), // ... with a ping in between
  clientMsg(BIN, 2, false, false, "hel"),
  clientMsg(PONG, 1, true, false, ""),
  clientMsg(BIN, 2, true, false, "lo\r\n"),
  clientMsg(BIN, 1, true, false, ""), // empty frame
  clientMsg(BIN, 1, false, true, COMPRESSED_PARTS[0], { preCompressed: true }), // compressed, fragmented
  clientMsg(PING, 1, true, false, ""),
  clientMsg(BIN, 2, true, false, COMPRESSED_PARTS[1]), // continuation: no RSV1
  clientMsg(BIN, 1, true, true, "SUB x 1\r\n".repeat(20)), // compressed, one frame
  clientMsg(CLOSE, 1, true, false, closePayloadBytes(1000, "bye")),
  clientMsg(BIN, 1, true, false, "ignored after close"),
);

const RICH_EXPECTED: Summary[] = [
  ["data", "CONNECT {}\r\n" + BIG + "PUB a 5\r\n"],
  ["ping", "p1"],
  ["data", "hel"],
  ["pong", ""],
  ["data", "lo\r\n"],
  ["ping", ""],
  ["data", COMPRESSED_TEXT + "SUB x 1\r\n".repeat(20)],
  ["close", 1000, "bye"],
];

Deno.test("ws frames: rich buffer in one feed", () => {
  assert.deepEqual(decodeAll(RICH), RICH_EXPECTED);
});

Deno.test("ws frames: rich buffer byte by byte", () => {
  const cuts = Array.from({ length: RICH.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(mergeData(summarize(decodeChunks(RICH, cuts))), RICH_EXPECTED);
});

Deno.test("ws frames: rich buffer split at every position", () => {
  for (let i = 0; i <= RICH.length; i++) {
    assert.deepEqual(mergeData(summarize(decodeChunks(RICH, [i]))), RICH_EXPECTED, `split at ${i}`);
  }
});

Deno.test("ws frames: rich buffer, two splits at many position pairs", () => {
  for (let i = 0; i <= RICH.length; i += 7) {
    for (let j = i; j <= RICH.length; j += 5) {
      assert.deepEqual(
        mergeData(summarize(decodeChunks(RICH, [i, j]))),
        RICH_EXPECTED,
        `${i},${j}`,
      );
    }
  }
});

Deno.test("ws frames: rich buffer in random chunkings", () => {
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let round = 0; round < 300; round++) {
    const cuts: number[] = [];
    let p = 0;
    while (true) {
      p += 1 + Math.floor(rnd() * 40);
      if (p >= RICH.length) break;
      cuts.push(p);
    }
    assert.deepEqual(
      mergeData(summarize(decodeChunks(RICH, cuts))),
      RICH_EXPECTED,
      `round ${round}`,
    );
  }
});

// ---------------------------------------------------------------------------------------------
// TestWSReadVariousFrameSizes + length boundaries

for (const size of [0, 1, 100, 125, 126, 1000, 65535, 65536, 70000]) {
  Deno.test(`ws frames: payload of ${size} bytes`, () => {
    const payload = new Uint8Array(size);
    for (let i = 0; i < size; i++) payload[i] = 0x41 + (i % 26);
    const frame = clientMsg(BIN, 1, true, false, payload);
    const hdr = size <= 125 ? 2 : size < 65536 ? 4 : 10;
    assert.equal(frame.length, hdr + 4 + size);
    for (const cuts of [[], [1], [hdr - 1], [hdr + 2], [hdr + 4 + (size >> 1)]]) {
      const events = decodeChunks(frame, cuts.filter((c) => c <= frame.length));
      const got = concat(...events.map((e) => (e.type === "data" ? e.data : new Uint8Array(0))));
      assert.deepEqual(got, payload);
    }
  });
}

Deno.test("ws frames: 64-bit length above 2^53 is a protocol error", () => {
  const frame = new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
  assert.deepEqual(decodeAll(frame), [["error", "protocol", "invalid frame payload length"]]);
});

// ---------------------------------------------------------------------------------------------
// TestWSReadFragmentedFrames / TestWSReadControlFrameBetweebFragmentedFrames

Deno.test("ws frames: fragmented message delivered in order", () => {
  const buf = concat(
    clientMsg(BIN, 1, false, false, "first"),
    clientMsg(BIN, 2, false, false, "second"),
    clientMsg(BIN, 3, true, false, "third"),
  );
  const events = decodeChunks(buf, []);
  assert.deepEqual(events.map((e) => e.type === "data" && td.decode(e.data)), [
    "first",
    "second",
    "third",
  ]);
});

Deno.test("ws frames: control frames between fragments", () => {
  const buf = concat(
    clientMsg(BIN, 1, false, false, "first"),
    clientMsg(PING, 1, true, false, "ping"),
    clientMsg(PONG, 1, true, false, "pong"),
    clientMsg(BIN, 2, true, false, "second"),
    clientMsg(BIN, 1, true, false, "next message"),
  );
  assert.deepEqual(decodeAll(buf), [
    ["data", "first"],
    ["ping", "ping"],
    ["pong", "pong"],
    ["data", "secondnext message"],
  ]);
});

// ---------------------------------------------------------------------------------------------
// TestWSReadPingFrame / TestWSReadPongFrame

Deno.test("ws frames: ping gets a pong reply with the same payload", () => {
  for (const payload of ["", "something", "x".repeat(125)]) {
    const [e] = decodeChunks(clientMsg(PING, 1, true, false, payload), []);
    assert.equal(e.type, "ping");
    if (e.type !== "ping") return;
    assert.equal(td.decode(e.payload), payload);
    assert.deepEqual(e.reply, concat(new Uint8Array([0x8a, payload.length]), te.encode(payload)));
  }
});

Deno.test("ws frames: pong produces no reply", () => {
  const [e] = decodeChunks(clientMsg(PONG, 1, true, false, "x"), []);
  assert.deepEqual(e, { type: "pong", payload: te.encode("x") });
});

// ---------------------------------------------------------------------------------------------
// Close (TestWSReadCloseFrame, TestWSCloseFrameWithPartialOrInvalid, TestWSHandleControlFrameErrors)

const CLOSES: [string, Uint8Array, number, string, number[]][] = [
  ["status + body", closePayloadBytes(1000, "bye"), 1000, "bye", [
    0x88,
    5,
    0x03,
    0xe8,
    ...te.encode("bye"),
  ]],
  ["status only", closePayloadBytes(1001, ""), 1001, "", [0x88, 2, 0x03, 0xe9]],
  ["empty payload → 1005 (sent on the wire)", new Uint8Array(0), 1005, "", [0x88, 2, 0x03, 0xed]],
  ["1-byte payload → 1005", new Uint8Array([100]), 1005, "", [0x88, 2, 0x03, 0xed]],
  [
    "bad UTF-8 body → 1007",
    closePayloadBytes(1000, new Uint8Array([0xff, 0xfe])),
    1007,
    "invalid utf8 body in close frame",
    [0x88, 34, 0x03, 0xef, ...te.encode("invalid utf8 body in close frame")],
  ],
  [
    "surrogate encoded body → 1007",
    closePayloadBytes(1000, new Uint8Array([0xed, 0xa0, 0x80])),
    1007,
    "invalid utf8 body in close frame",
    [0x88, 34, 0x03, 0xef, ...te.encode("invalid utf8 body in close frame")],
  ],
  ["unusual status echoed as is", closePayloadBytes(4321, "é"), 4321, "é", [
    0x88,
    4,
    0x10,
    0xe1,
    0xc3,
    0xa9,
  ]],
  [
    "123-byte body (max)",
    closePayloadBytes(1000, "b".repeat(123)),
    1000,
    "b".repeat(123),
    [0x88, 125, 0x03, 0xe8, ...te.encode("b".repeat(123))],
  ],
];

for (const [name, payload, status, body, reply] of CLOSES) {
  Deno.test(`ws frames: close ${name}`, () => {
    const frame = clientMsg(CLOSE, 1, true, false, payload);
    for (let split = 0; split <= frame.length; split++) {
      const events = decodeChunks(frame, [split]);
      assert.equal(events.length, 1);
      const e = events[0];
      assert.equal(e.type, "close");
      if (e.type !== "close") return;
      assert.equal(e.status, status);
      assert.equal(e.body, body);
      assert.deepEqual([...e.reply], reply);
    }
  });
}

Deno.test("ws frames: data before a close is processed; nothing after it", () => {
  const buf = concat(
    clientMsg(BIN, 1, true, false, "hello"),
    clientMsg(CLOSE, 1, true, false, closePayloadBytes(1000, "")),
    clientMsg(BIN, 1, true, false, "world"),
  );
  const d = new WsFrameDecoder();
  assert.deepEqual(summarize(d.feed(buf.slice())), [["data", "hello"], ["close", 1000, ""]]);
  assert.equal(d.done, true);
  assert.deepEqual(d.feed(clientMsg(BIN, 1, true, false, "more")), []);
});

// ---------------------------------------------------------------------------------------------
// TestWSReadErrors: each error text; the valid frame before it is still delivered.

const ERRORS: [string, () => Uint8Array, string, string[]][] = [
  [
    "mask bit missing",
    () => {
      const m = clientMsg(BIN, 1, true, false, "hello").slice();
      m[1] &= 0x7f;
      return m;
    },
    "mask bit missing",
    [],
  ],
  [
    "control too big",
    () => clientMsg(PING, 1, true, false, new Uint8Array(200)),
    "control frame length bigger than maximum allowed of 125 bytes",
    [],
  ],
  [
    "control 126 bytes",
    () => clientMsg(CLOSE, 1, true, false, new Uint8Array(126)),
    "control frame length bigger than maximum allowed of 125 bytes",
    [],
  ],
  [
    "control not final",
    () => clientMsg(PING, 1, false, false, "hello"),
    "control frame does not have final bit set",
    [],
  ],
  [
    "new message before final",
    () =>
      concat(
        clientMsg(BIN, 1, false, false, "frag1"),
        clientMsg(BIN, 1, true, false, "new message"),
      ),
    "new message started before final frame for previous message was received",
    ["frag1"],
  ],
  [
    "text after open binary",
    () => concat(clientMsg(BIN, 1, false, false, "frag1"), clientMsg(TEXT, 1, true, false, "x")),
    "new message started before final frame for previous message was received",
    ["frag1"],
  ],
  [
    "continuation without a message",
    () =>
      concat(
        clientMsg(BIN, 1, true, false, "frame"),
        clientMsg(BIN, 2, false, false, "continuation"),
      ),
    "invalid continuation frame",
    ["frame"],
  ],
  [
    "continuation with RSV1",
    () => clientMsg(BIN, 2, false, true, "frame"),
    "invalid continuation frame",
    [],
  ],
  [
    "RSV1 continuation inside an open message",
    () =>
      concat(
        clientMsg(BIN, 1, false, false, "open"),
        clientMsg(BIN, 2, true, true, "x".repeat(80)),
      ),
    "invalid continuation frame",
    ["open"],
  ],
  ["unknown opcode 99 (=3)", () => clientMsg(99, 1, false, false, "hello"), "unknown opcode 3", []],
  ["unknown opcode 11", () => clientMsg(11, 1, true, false, "hello"), "unknown opcode 11", []],
  ["unknown opcode 7", () => clientMsg(7, 1, true, false, ""), "unknown opcode 7", []],
];

for (const [name, bad, text, extra] of ERRORS) {
  Deno.test(`ws frames: protocol error ${name}`, () => {
    const buf = concat(clientMsg(BIN, 1, true, false, "hello"), bad());
    const expectedData = ["hello", ...extra];
    for (const cuts of [[], [3], [buf.length - 1]]) {
      const events = decodeChunks(buf, cuts);
      const data = events.filter((e) => e.type === "data").map((e) =>
        e.type === "data" && td.decode(e.data)
      );
      assert.equal(data.join(""), expectedData.join(""));
      const last = events[events.length - 1];
      assert.equal(last.type, "error");
      if (last.type !== "error") return;
      assert.equal(last.kind, "protocol");
      assert.equal(last.message, text);
      const reply = concat(new Uint8Array([0x88, 2 + text.length, 0x03, 0xea]), te.encode(text));
      assert.deepEqual(last.reply, reply);
    }
  });
}

Deno.test("ws frames: nothing after a protocol error", () => {
  const d = new WsFrameDecoder();
  const bad = clientMsg(BIN, 1, true, false, "x").slice();
  bad[1] &= 0x7f;
  assert.equal(d.feed(bad).length, 1);
  assert.equal(d.done, true);
  assert.deepEqual(d.feed(clientMsg(BIN, 1, true, false, "more")), []);
});

// ---------------------------------------------------------------------------------------------
// Masking options

Deno.test("ws frames: noMasking accepts unmasked frames", () => {
  const buf = concat(
    clientMsg(BIN, 1, true, false, "unmasked", { mask: false }),
    clientMsg(PING, 1, true, false, "p", { mask: false }),
    clientMsg(BIN, 1, true, false, "masked"), // still decoded (the reference would misread it)
  );
  assert.deepEqual(decodeAll(buf, { noMasking: true }), [
    ["data", "unmasked"],
    ["ping", "p"],
    ["data", "masked"],
  ]);
  assert.deepEqual(decodeAll(buf), [["error", "protocol", "mask bit missing"]]);
});

Deno.test("ws frames: maskReplies masks pong and close replies", () => {
  const d = new WsFrameDecoder({ noMasking: true, maskReplies: true });
  const [ping] = d.feed(clientMsg(PING, 1, true, false, "abc", { mask: false }));
  assert.equal(ping.type, "ping");
  if (ping.type !== "ping") return;
  assert.equal(ping.reply[1], 0x80 | 3);
  const back = new WsFrameDecoder().feed(ping.reply.slice());
  assert.deepEqual(summarize(back), [["pong", "abc"]]);
});

Deno.test("ws frames: maskInPlace matches a byte loop at every offset and key position", () => {
  const key = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  const backing = new Uint8Array(300);
  for (let i = 0; i < backing.length; i++) backing[i] = (i * 7) & 0xff;
  for (const off of [0, 1, 2, 3, 5]) {
    for (const len of [0, 1, 7, 31, 32, 33, 100, 257]) {
      for (let pos = 0; pos < 4; pos++) {
        const a = backing.slice();
        const view = a.subarray(off, off + len);
        const next = maskInPlace(view, key, pos);
        assert.equal(next, (pos + len) & 3);
        for (let i = 0; i < len; i++) {
          assert.equal(view[i], backing[off + i] ^ key[(pos + i) & 3]);
        }
        assert.deepEqual(a.subarray(0, off), backing.subarray(0, off));
        assert.deepEqual(a.subarray(off + len), backing.subarray(off + len));
      }
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Compression: TestWSReadCompressedFrames, TestWSReadCompressedFrameCorrupted

Deno.test("ws frames: compressed frame inflated, also when split across feeds", () => {
  const text = "This is a compressed message to be sent over websocket. ".repeat(10);
  const frame = clientMsg(BIN, 1, true, true, text);
  assert.ok(frame.length < text.length);
  for (let split = 0; split <= frame.length; split++) {
    const events = decodeChunks(frame, [split]);
    assert.deepEqual(summarize(events), [["data", text]], `split ${split}`);
  }
});

Deno.test("ws frames: compressed message fragmented into many frames (RSV1 on the first only)", () => {
  const text = "compress me ".repeat(500);
  const c = clientDeflate(te.encode(text));
  const frames: Uint8Array[] = [];
  const step = 37;
  for (let off = 0, n = 1; off < c.length; off += step, n++) {
    const last = off + step >= c.length;
    frames.push(
      clientMsg(BIN, n, last, n === 1, c.subarray(off, off + step), { preCompressed: true }),
    );
  }
  const buf = concat(...frames);
  assert.deepEqual(decodeAll(buf), [["data", text]]);
  const cuts = Array.from({ length: buf.length - 1 }, (_, i) => i + 1);
  assert.deepEqual(mergeData(summarize(decodeChunks(buf, cuts))), [["data", text]]);
});

Deno.test("ws frames: compressed data is one event, uncompressed neighbours stay separate", () => {
  const buf = concat(
    clientMsg(BIN, 1, true, false, "plain1 "),
    clientMsg(BIN, 1, true, true, "PUB x 2\r\nhi\r\n".repeat(10)),
    clientMsg(BIN, 1, true, false, "plain2"),
  );
  const events = decodeChunks(buf, []);
  assert.deepEqual(events.map((e) => e.type === "data" && td.decode(e.data)), [
    "plain1 ",
    "PUB x 2\r\nhi\r\n".repeat(10),
    "plain2",
  ]);
});

Deno.test("ws frames: empty compressed message", () => {
  // A compliant client compresses "" to the single byte 0x00 (RFC 7692 7.2.3.6).
  assert.deepEqual([...clientDeflate(new Uint8Array(0))], [0]);
  const frame = clientMsg(BIN, 1, true, true, new Uint8Array([0]), { preCompressed: true });
  const d = new WsFrameDecoder();
  assert.deepEqual(d.feed(frame.slice()), []);
  assert.equal(d.done, false);
  // A zero-length RSV1 payload is not valid deflate data: an error, as in the reference.
  const empty = clientMsg(BIN, 1, true, true, new Uint8Array(0), { preCompressed: true });
  assert.deepEqual(decodeAll(empty).map((x) => x.slice(0, 2)), [["error", "inflate"]]);
});

Deno.test("ws frames: compressed stream ending in a final block (CompressionStream style)", () => {
  const text = "final block stream ".repeat(20);
  const full = zlib.deflateRawSync(te.encode(text)); // BFINAL-terminated
  const frame = clientMsg(BIN, 1, true, true, new Uint8Array(full), { preCompressed: true });
  assert.deepEqual(decodeAll(frame), [["data", text]]);
});

Deno.test("ws frames: RSV1 accepted even when compression was not negotiated", () => {
  // The reference does not check negotiation either.
  assert.deepEqual(decodeAll(clientMsg(BIN, 1, true, true, "abc".repeat(30))), [[
    "data",
    "abc".repeat(30),
  ]]);
});

Deno.test("ws frames: corrupt compressed frame is an inflate error without a close reply", () => {
  const frame = clientMsg(BIN, 1, true, true, new Uint8Array([0xff, 0xff, 0xff, 0x01, 0x02]), {
    preCompressed: true,
  });
  const buf = concat(
    clientMsg(BIN, 1, true, false, "before"),
    frame,
    clientMsg(BIN, 1, true, false, "after"),
  );
  const events = decodeChunks(buf, [9]);
  const s = summarize(events);
  assert.equal(s.length, 2);
  assert.deepEqual(s[0], ["data", "before"]);
  const last = events[events.length - 1];
  assert.equal(last.type, "error");
  if (last.type !== "error") return;
  assert.equal(last.kind, "inflate");
  assert.equal(last.reply, undefined);
  assert.match(last.message, /^decompression error: /);
});

Deno.test("ws frames: truncated compressed stream is an inflate error", () => {
  const c = clientDeflate(te.encode("truncated stream ".repeat(50)));
  const frame = clientMsg(BIN, 1, true, true, c.subarray(0, c.length - 10), {
    preCompressed: true,
  });
  const s = decodeAll(frame);
  assert.equal(s.length, 1);
  assert.equal(s[0][0], "error");
  assert.equal(s[0][1], "inflate");
});

Deno.test("ws frames: decompression bomb is stopped by maxDecompressed", () => {
  const bomb = clientDeflate(new Uint8Array(4 * 1024 * 1024), 9); // 4 MiB of zeros → ~4 KiB
  assert.ok(bomb.length < 8192);
  const frame = clientMsg(BIN, 1, true, true, bomb, { preCompressed: true });
  const events = decodeChunks(frame, [], { maxDecompressed: 1024 * 1024 });
  assert.equal(events.length, 1);
  const e = events[0];
  assert.equal(e.type, "error");
  if (e.type !== "error") return;
  assert.equal(e.kind, "too_big");
  assert.equal(e.message, "decompressed message exceeds the maximum of 1048576 bytes");
  assert.deepEqual([...e.reply!.subarray(0, 4)], [0x88, 2 + e.message.length, 0x03, 0xf1]);
  // Within the limit it inflates.
  const ok = decodeChunks(frame, [], { maxDecompressed: 4 * 1024 * 1024 });
  assert.equal(ok.length, 1);
  assert.equal(ok[0].type === "data" && ok[0].data.length, 4 * 1024 * 1024);
});

Deno.test("ws frames: compressed input itself is bounded", () => {
  // Incompressible bytes announced as compressed: collection stops before inflating.
  const junk = new Uint8Array(40_000);
  crypto.getRandomValues(junk);
  const frame = clientMsg(BIN, 1, false, true, junk, { preCompressed: true });
  const s = decodeAll(frame, { maxDecompressed: 16 * 1024 });
  assert.deepEqual(s.map((x) => x.slice(0, 2)), [["error", "too_big"]]);
});
