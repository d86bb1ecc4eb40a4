import assert from "node:assert/strict";
import zlib from "node:zlib";
import {
  BROWSER_MAX_FRAME,
  closeBodyText,
  closePayload,
  concatBytes,
  deflateMessage,
  encodeBinaryFrames,
  encodeCloseFrame,
  encodeFrame,
  frameHeaderSize,
  InflateError,
  inflateMessage,
  OPCODE,
  writeFrameHeader,
  WsFrameDecoder,
} from "../../../lib/transport/ws/mod.ts";
import {
  closeDescriptor,
  sendsCloseFrame,
  wsCloseCodeForReason as closeStatusForReason,
} from "../../../lib/core/close_reasons.ts";

/** The frame a WebSocket transport writes for the descriptor the protocol picks for `reason`. */
function closeFrameForReason(reason: string): Uint8Array | null {
  const how = closeDescriptor(reason);
  return how.wsCode === null ? null : encodeCloseFrame(how.wsCode, how.text);
}
import { te } from "./_frames_helpers.ts";

/** Parse server frames (unmasked unless `masked`): [b0, payload][] */
function parseFrames(wire: Uint8Array): { b0: number; masked: boolean; payload: Uint8Array }[] {
  const out: { b0: number; masked: boolean; payload: Uint8Array }[] = [];
  const dv = new DataView(wire.buffer, wire.byteOffset, wire.byteLength);
  let p = 0;
  while (p < wire.length) {
    const b0 = wire[p];
    const b1 = wire[p + 1];
    let len = b1 & 0x7f;
    p += 2;
    if (len === 126) {
      len = dv.getUint16(p);
      p += 2;
    } else if (len === 127) {
      len = Number(dv.getBigUint64(p));
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    let payload = wire.slice(p + (masked ? 4 : 0), p + (masked ? 4 : 0) + len);
    if (masked) {
      const key = wire.subarray(p, p + 4);
      payload = payload.map((b, i) => b ^ key[i & 3]);
      p += 4;
    }
    p += len;
    out.push({ b0, masked, payload });
  }
  return out;
}

/** Inflate a server message the way a client does. */
function clientInflate(p: Uint8Array): Uint8Array {
  return new Uint8Array(
    zlib.inflateRawSync(concatBytes([p, new Uint8Array([0, 0, 0xff, 0xff])]), {
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    }),
  );
}

function sample(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 0x41 + (i % 26);
  return b;
}

function random(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let off = 0; off < n; off += 65536) crypto.getRandomValues(b.subarray(off, off + 65536));
  return b;
}

// Port of TestWSCreateFrameHeader.
const HEADERS: [string, number, boolean, number][] = [
  ["uncompressed 10", OPCODE.BINARY, false, 10],
  ["uncompressed 600", OPCODE.TEXT, false, 600],
  ["uncompressed 100000", OPCODE.TEXT, false, 100000],
  ["compressed 10", OPCODE.BINARY, true, 10],
  ["compressed 600", OPCODE.BINARY, true, 600],
  ["compressed 100000", OPCODE.TEXT, true, 100000],
  ["boundary 125", OPCODE.BINARY, false, 125],
  ["boundary 126", OPCODE.BINARY, false, 126],
  ["boundary 65535", OPCODE.BINARY, false, 65535],
  ["boundary 65536", OPCODE.BINARY, false, 65536],
];

for (const [name, op, compressed, len] of HEADERS) {
  Deno.test(`ws encode: frame header ${name}`, () => {
    const h = new Uint8Array(14);
    const n = writeFrameHeader(h, 0, op, len, { rsv1: compressed });
    assert.equal(n, frameHeaderSize(len));
    assert.equal(h[0], op | 0x80 | (compressed ? 0x40 : 0));
    const dv = new DataView(h.buffer);
    if (len <= 125) {
      assert.equal(n, 2);
      assert.equal(h[1], len);
    } else if (len < 65536) {
      assert.equal(n, 4);
      assert.equal(h[1], 126);
      assert.equal(dv.getUint16(2), len);
    } else {
      assert.equal(n, 10);
      assert.equal(h[1], 127);
      assert.equal(dv.getBigUint64(2), BigInt(len));
    }
  });
}

Deno.test("ws encode: header sizes with masking and large lengths", () => {
  assert.equal(frameHeaderSize(0), 2);
  assert.equal(frameHeaderSize(125, true), 6);
  assert.equal(frameHeaderSize(126, true), 8);
  assert.equal(frameHeaderSize(65536, true), 14);
  const h = new Uint8Array(14);
  const big = 2 ** 40 + 5;
  assert.equal(writeFrameHeader(h, 0, OPCODE.BINARY, big, { fin: false }), 10);
  assert.equal(h[0], 0x02);
  assert.equal(new DataView(h.buffer).getBigUint64(2), BigInt(big));
  const key = new Uint8Array([9, 8, 7, 6]);
  assert.equal(writeFrameHeader(h, 0, OPCODE.PING, 3, { maskKey: key }), 6);
  assert.deepEqual([...h.subarray(0, 6)], [0x89, 0x83, 9, 8, 7, 6]);
});

Deno.test("ws encode: encodeFrame masked is decodable by the server decoder", () => {
  const payload = te.encode("PUB foo 5\r\nhello\r\n".repeat(20));
  for (const mask of [true, new Uint8Array([1, 2, 3, 4])]) {
    const f = encodeFrame(OPCODE.BINARY, payload, { mask });
    assert.equal(f.length, frameHeaderSize(payload.length, true) + payload.length);
    const ev = new WsFrameDecoder().feed(f);
    assert.equal(ev.length, 1);
    assert.equal(ev[0].type, "data");
    assert.deepEqual(ev[0].type === "data" && ev[0].data, payload);
  }
  const plain = encodeFrame(OPCODE.PONG, te.encode("x"));
  assert.deepEqual([...plain], [0x8a, 1, 0x78]);
  assert.deepEqual([...encodeFrame(OPCODE.PING)], [0x89, 0]);
});

// ---------------------------------------------------------------------------------------------
// encodeBinaryFrames

Deno.test("ws encode: plain payload is one unmasked binary frame", () => {
  const p = sample(70000);
  const chunks = encodeBinaryFrames(p);
  assert.equal(chunks.length, 2);
  assert.equal(chunks[1], p); // payload not copied
  const frames = parseFrames(concatBytes(chunks));
  assert.equal(frames.length, 1);
  assert.equal(frames[0].b0, 0x82);
  assert.equal(frames[0].masked, false);
  assert.deepEqual(frames[0].payload, p);
  assert.deepEqual(encodeBinaryFrames(new Uint8Array(0)), []);
});

Deno.test("ws encode: browser limit splits into complete 0x82 frames of ≤ 4096 bytes", () => {
  const p = sample(10000);
  const frames = parseFrames(concatBytes(encodeBinaryFrames(p, { maxFrame: BROWSER_MAX_FRAME })));
  assert.deepEqual(frames.map((f) => [f.b0, f.payload.length]), [
    [0x82, 4096],
    [0x82, 4096],
    [0x82, 1808],
  ]);
  assert.deepEqual(concatBytes(frames.map((f) => f.payload)), p);
  const exact = parseFrames(concatBytes(encodeBinaryFrames(sample(4096), { maxFrame: 4096 })));
  assert.equal(exact.length, 1);
});

Deno.test("ws encode: compression threshold is > 64 bytes", () => {
  for (const n of [1, 63, 64]) {
    const f = parseFrames(concatBytes(encodeBinaryFrames(sample(n), { compress: true })));
    assert.equal(f.length, 1);
    assert.equal(f[0].b0, 0x82, `size ${n}`);
    assert.deepEqual(f[0].payload, sample(n));
  }
  const f = parseFrames(concatBytes(encodeBinaryFrames(sample(65), { compress: true })));
  assert.equal(f[0].b0, 0xc2);
  assert.deepEqual(clientInflate(f[0].payload), sample(65));
});

Deno.test("ws encode: TestWSCompressionBasic message compresses to one 0xC2 frame", () => {
  const payload = "This is the content of a message that will be compresseddddddddddddddddddddd.";
  const msg = te.encode(`MSG foo 1 ${payload.length}\r\n${payload}\r\n`);
  const wire = concatBytes(encodeBinaryFrames(msg, { compress: true }));
  const [f] = parseFrames(wire);
  assert.equal(wire[0], 0xc2);
  assert.equal(wire[1], f.payload.length); // 7-bit length, unmasked
  assert.ok(!new TextDecoder().decode(wire).includes(payload));
  assert.deepEqual(clientInflate(f.payload), msg);
  // The sync-flush tail is stripped.
  const n = f.payload.length;
  assert.notDeepEqual([...f.payload.subarray(n - 4)], [0, 0, 0xff, 0xff]);
});

Deno.test("ws encode: compression round trip through the decoder", () => {
  for (const n of [65, 1000, 100_000, 1_000_000]) {
    const p = sample(n);
    const wire = concatBytes(encodeBinaryFrames(p, { compress: true, mask: true }));
    const ev = new WsFrameDecoder().feed(wire);
    assert.equal(ev.length, 1);
    assert.deepEqual(ev[0].type === "data" && ev[0].data, p);
  }
});

Deno.test("ws encode: browser + compression fragments with RSV1 on the first frame only", () => {
  const p = random(10000); // incompressible: > 4096 after compression
  const frames = parseFrames(
    concatBytes(encodeBinaryFrames(p, { compress: true, maxFrame: 4096 })),
  );
  assert.ok(frames.length >= 3);
  assert.equal(frames[0].b0, 0x42); // RSV1 | binary, no FIN
  for (const f of frames.slice(1, -1)) assert.equal(f.b0, 0x00);
  assert.equal(frames[frames.length - 1].b0, 0x80);
  for (const f of frames) assert.ok(f.payload.length <= 4096);
  assert.deepEqual(clientInflate(concatBytes(frames.map((f) => f.payload))), p);
  // And the server-side decoder accepts the same fragmentation when masked.
  const masked = concatBytes(encodeBinaryFrames(p, { compress: true, maxFrame: 4096, mask: true }));
  const ev = new WsFrameDecoder().feed(masked);
  assert.deepEqual(ev.length === 1 && ev[0].type === "data" && ev[0].data, p);
});

Deno.test("ws encode: browser + compression, small compressed result stays one frame", () => {
  const p = sample(100_000); // compresses far below 4096
  const frames = parseFrames(
    concatBytes(encodeBinaryFrames(p, { compress: true, maxFrame: 4096 })),
  );
  assert.equal(frames.length, 1);
  assert.equal(frames[0].b0, 0xc2);
});

Deno.test("ws encode: Safari (noCompressFragmentation) keeps one compressed frame", () => {
  const p = random(10000);
  const frames = parseFrames(
    concatBytes(
      encodeBinaryFrames(p, { compress: true, maxFrame: 4096, noCompressFragmentation: true }),
    ),
  );
  assert.equal(frames.length, 1);
  assert.equal(frames[0].b0, 0xc2);
  assert.deepEqual(clientInflate(frames[0].payload), p);
  // Uncompressed browser frames are still limited.
  const small = parseFrames(
    concatBytes(
      encodeBinaryFrames(sample(50), {
        compress: true,
        maxFrame: 16,
        noCompressFragmentation: true,
      }),
    ),
  );
  assert.equal(small.length, 4);
});

Deno.test("ws encode: masking never touches the caller's payload", () => {
  const p = sample(5000);
  const copy = p.slice();
  const frames = parseFrames(concatBytes(encodeBinaryFrames(p, { mask: true, maxFrame: 1000 })));
  assert.deepEqual(p, copy);
  assert.equal(frames.length, 5);
  assert.ok(frames.every((f) => f.masked && f.b0 === 0x82));
  assert.deepEqual(concatBytes(frames.map((f) => f.payload)), p);
});

Deno.test("ws encode: deflateMessage / inflateMessage", () => {
  const p = te.encode("hello hello hello hello hello hello hello hello");
  const c = deflateMessage(p);
  assert.deepEqual(inflateMessage(c), p);
  assert.deepEqual(inflateMessage([c.subarray(0, 3), c.subarray(3)]), p);
  assert.deepEqual(clientInflate(c), p);
  assert.throws(
    () => inflateMessage(deflateMessage(new Uint8Array(5000)), 100),
    (e) => e instanceof InflateError && e.tooBig,
  );
  assert.throws(
    () => inflateMessage(new Uint8Array([0xff, 0xff])),
    (e) => e instanceof InflateError && !e.tooBig,
  );
});

// ---------------------------------------------------------------------------------------------
// Close frames (TestWSCreateCloseMessage, TestWSEnqueueCloseMsg)

Deno.test("ws encode: close payload fits", () => {
  const body = new TextDecoder().decode(sample(10));
  const p = closePayload(1011, body);
  assert.equal((p[0] << 8) | p[1], 1011);
  assert.deepEqual(p.subarray(2), sample(10));
});

Deno.test("ws encode: close payload truncated to 120 bytes + ...", () => {
  const body = new TextDecoder().decode(sample(135));
  const p = closePayload(1002, body);
  assert.equal(p.length - 2, 123);
  assert.equal(new TextDecoder().decode(p.subarray(p.length - 3)), "...");
  assert.deepEqual(p.subarray(2, 122), sample(120));
  assert.equal(closePayload(1000, "x".repeat(123)).length, 125); // 123 fits
  assert.equal(
    new TextDecoder().decode(closePayload(1000, "x".repeat(124)).subarray(2)),
    "x".repeat(120) + "...",
  );
});

Deno.test("ws encode: closeBodyText for the native engine", () => {
  assert.equal(closeBodyText("Protocol Violation"), "Protocol Violation");
  assert.equal(closeBodyText("y".repeat(200)), "y".repeat(120) + "...");
  assert.equal(new TextEncoder().encode(closeBodyText("é".repeat(100))).length <= 125, true);
});

Deno.test("ws encode: close frame bytes", () => {
  assert.deepEqual([...encodeCloseFrame(1000, "bye")], [0x88, 5, 0x03, 0xe8, 0x62, 0x79, 0x65]);
  assert.deepEqual([...encodeCloseFrame(1005)], [0x88, 2, 0x03, 0xed]);
  const masked = encodeCloseFrame(1000, "", { mask: new Uint8Array([1, 1, 1, 1]) });
  assert.deepEqual([...masked], [0x88, 0x82, 1, 1, 1, 1, 0x02, 0xe9]);
});

const REASONS: [string, number, boolean][] = [
  ["Client Closed", 1000, true],
  ["Authentication Timeout", 1008, true],
  ["Authentication Failure", 1008, true],
  ["Slow Consumer (Pending Bytes)", 1008, false],
  ["Slow Consumer (Write Deadline)", 1008, false],
  ["Maximum Account Connections Exceeded", 1008, true],
  ["Maximum Connections Exceeded", 1008, true],
  ["Maximum Control Line Exceeded", 1008, true],
  ["Maximum Subscriptions Exceeded", 1008, true],
  ["Missing Account", 1008, true],
  ["Authentication Expired", 1008, true],
  ["Credentials Revoked", 1008, true],
  ["TLS Handshake Failure", 1015, false],
  ["TLS Handshake Error", 1015, false],
  ["Parse Error", 1002, true],
  ["Protocol Violation", 1002, true],
  ["Bad Client Protocol Version", 1002, true],
  ["Maximum Message Payload Exceeded", 1009, true],
  ["Server Shutdown", 1001, true],
  ["Write Error", 1006, false],
  ["Read Error", 1006, false],
  ["Stale Connection", 1006, true],
  ["Incorrect Port", 1011, true],
  ["Duplicate Route", 1011, true],
  ["Message Header Violation", 1011, true],
  ["Unknown State", 1011, true],
  ["", 1011, true],
];

for (const [reason, status, sends] of REASONS) {
  Deno.test(`ws encode: close reason ${JSON.stringify(reason)} → ${status}`, () => {
    assert.equal(closeStatusForReason(reason), status);
    assert.equal(sendsCloseFrame(reason), sends);
    const f = closeFrameForReason(reason);
    if (!sends) {
      assert.equal(f, null);
      return;
    }
    assert.deepEqual(
      f,
      concatBytes([
        new Uint8Array([0x88, 2 + reason.length, status >> 8, status & 0xff]),
        te.encode(reason),
      ]),
    );
  });
}

Deno.test("ws encode: verified sequences' close frames", () => {
  // Observed on 2.9.10: close(1002,"Protocol Violation"), close(1009,"Maximum Message Payload
  // Exceeded"), close(1008,"Authentication Failure"), close(1008,"Authentication Timeout").
  const dec = (f: Uint8Array | null) => {
    assert.ok(f);
    return [(f[2] << 8) | f[3], new TextDecoder().decode(f.subarray(4))];
  };
  assert.deepEqual(dec(closeFrameForReason("Protocol Violation")), [1002, "Protocol Violation"]);
  assert.deepEqual(dec(closeFrameForReason("Maximum Message Payload Exceeded")), [
    1009,
    "Maximum Message Payload Exceeded",
  ]);
  assert.deepEqual(dec(closeFrameForReason("Authentication Failure")), [
    1008,
    "Authentication Failure",
  ]);
  assert.deepEqual(dec(closeFrameForReason("Authentication Timeout")), [
    1008,
    "Authentication Timeout",
  ]);
});
