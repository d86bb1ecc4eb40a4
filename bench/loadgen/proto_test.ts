import { encoder, makePayload, ProtoReader, pubBatch, recordsText } from "./proto.ts";

function assertEq(a: unknown, b: unknown, what: string): void {
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(`${what}: ${JSON.stringify(a)} !== ${JSON.stringify(b)}`);
  }
}

const stream = encoder.encode(
  'INFO {"server_id":"x","max_payload":1048576}\r\n' +
    "PONG\r\n" +
    "MSG a.b 1 5\r\nhello\r\n" +
    "MSG a.b 1 _INBOX.1 3\r\nabc\r\n" +
    "PING\r\n" +
    "MSG a.b 1 0\r\n\r\n" +
    "HMSG a.b 2 _INBOX.2 12 15\r\nNATS/1.0\r\n\r\nxyz\r\n" +
    "+OK\r\n" +
    "MSG a.b 1 12\r\nwith\r\nCRLF!!\r\n" +
    "-ERR 'Slow Consumer'\r\n" +
    "PONG\r\n",
);

function run(splits: number[]) {
  const replies: (string | null)[] = [];
  let pings = 0;
  const errs: string[] = [];
  const r = new ProtoReader({
    onMsg: (rep) => replies.push(rep === null ? null : new TextDecoder().decode(rep)),
    onPing: () => pings++,
    onPong: () => {},
    onErr: (t) => errs.push(t),
  }, true);
  let pos = 0;
  for (const s of [...splits, stream.length]) {
    if (s <= pos) continue;
    // Feed through a reused buffer, like the client does.
    const buf = new Uint8Array(4096);
    buf.set(stream.subarray(pos, s));
    r.feed(buf.subarray(0, s - pos));
    buf.fill(0x58);
    pos = s;
  }
  assertEq(r.msgs, 5, "msgs");
  assertEq(r.payloadBytes, 5 + 3 + 0 + 15 + 12, "payload bytes");
  assertEq(r.pongs, 2, "pongs");
  assertEq(pings, 1, "pings");
  assertEq(errs, ["-ERR 'Slow Consumer'"], "errs");
  assertEq(replies, [null, "_INBOX.1", null, "_INBOX.2", null], "replies");
  assertEq(r.gotInfo, true, "info");
}

Deno.test("ProtoReader: whole stream in one chunk", () => run([]));

Deno.test("ProtoReader: every single split point", () => {
  for (let i = 1; i < stream.length; i++) run([i]);
});

Deno.test("ProtoReader: byte by byte", () => {
  run(Array.from({ length: stream.length }, (_, i) => i + 1));
});

Deno.test("ProtoReader: random splits", () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let k = 0; k < 500; k++) {
    const cuts = Array.from(
      { length: 1 + Math.floor(rnd() * 8) },
      () => Math.floor(rnd() * stream.length),
    ).sort((a, b) => a - b);
    run(cuts);
  }
});

Deno.test("pubBatch with text: well-formed PUBs, different payloads, same bytes every time", () => {
  for (const size of [16, 128]) {
    const text = recordsText(64 * 1024);
    const batch = pubBatch("s.t", makePayload(size), 300, true, text);
    const again = pubBatch("s.t", makePayload(size), 300, true, recordsText(64 * 1024));
    assertEq(batch.join(","), again.join(","), `deterministic ${size}`);
    const lines = new TextDecoder().decode(batch).split("\r\n");
    const payloads = new Set<string>();
    for (let i = 0; i < 300; i++) {
      assertEq(lines[2 * i], `PUB s.t ${size}`, `head ${i}`);
      assertEq(lines[2 * i + 1].length, size, `payload ${i}`);
      payloads.add(lines[2 * i + 1]);
    }
    assertEq(lines[600], "PING", "ping");
    assertEq(payloads.size, 300, `distinct payloads ${size}`);
  }
});
