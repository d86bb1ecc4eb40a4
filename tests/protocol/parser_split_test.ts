/**
 * The parser must survive any split of its input: feeding a transcript whole, one byte at a
 * time, and split at every single position must all produce the same output bytes.
 */
import { assertEquals } from "../helpers/assert.ts";
import { fakeClient, fakeContext, settle } from "../helpers/fake_context.ts";

const enc = new TextEncoder();

const TRANSCRIPTS: Record<string, string> = {
  "pub/sub with reply, headers and unsub": 'CONNECT {"verbose":true,"headers":true}\r\n' +
    "SUB foo.* q1 1\r\nsub foo.> 2\r\nPUB foo.bar reply.x 5\r\nhello\r\n" +
    "HPUB foo.baz 12 14\r\nNATS/1.0\r\n\r\nhi\r\nUNSUB 2\r\npub\tfoo.a\t0\r\n\r\nPING\r\n",
  "bare LF line endings and case-insensitive ops": "connect {}\nsub a 1\npub a 3\nabc\r\nping\n",
  "auto-unsubscribe": 'CONNECT {"verbose":false}\r\nSUB a 9\r\nUNSUB 9 2\r\n' +
    "PUB a 1\r\n1\r\nPUB a 1\r\n2\r\nPUB a 1\r\n3\r\nPING\r\n",
  "ping with junk, pong, +OK and INFO ignored":
    "PING extra junk\r\nPONG\r\n+OK\r\nINFO {}\r\nPING\r\n",
  "errors: unknown op after valid ops":
    'CONNECT {"verbose":false}\r\nSUB x 1\r\nPUB x 2\r\nok\r\nFOO\r\n',
  "errors: payload without CRLF": 'CONNECT {"verbose":false}\r\nSUB x 1\r\nPUB x 2\r\nokXX',
  "errors: invalid subject is not fatal": 'CONNECT {"verbose":false}\r\nSUB foo..bar 1\r\nPING\r\n',
  "binary payload with CR/LF inside": 'CONNECT {"verbose":false}\r\nSUB b 1\r\n' +
    "PUB b 6\r\n\r\n\r\n\r\n\r\nPING\r\n",
};

/**
 * Feeds the parts through ONE reused read buffer that is scribbled over after each call, as a
 * transport's read loop does: the parser must not keep views into it.
 */
async function run(parts: Uint8Array[]): Promise<{ out: string; closed?: string }> {
  const ctx = fakeContext();
  const { client, t } = fakeClient(ctx);
  const shared = new Uint8Array(Math.max(...parts.map((p) => p.length)));
  for (const p of parts) {
    shared.set(p);
    client.receive(shared.subarray(0, p.length));
    shared.fill(0x58);
  }
  await settle();
  const out = t.afterInfo();
  const closed = t.closedWith;
  client.close("Client Closed", false);
  return { out, closed };
}

for (const [name, text] of Object.entries(TRANSCRIPTS)) {
  Deno.test(`parser split: ${name}`, async () => {
    const bytes = enc.encode(text);
    const whole = await run([bytes]);
    const oneByOne = await run([...bytes].map((b) => Uint8Array.of(b)));
    assertEquals(oneByOne, whole, "byte-at-a-time differs");
    for (let i = 1; i < bytes.length; i++) {
      const split = await run([bytes.slice(0, i), bytes.slice(i)]);
      assertEquals(split, whole, `split at ${i} differs`);
    }
  });
}

Deno.test("parser split: expected output of the reference transcript", async () => {
  const r = await run([enc.encode(TRANSCRIPTS["pub/sub with reply, headers and unsub"])]);
  assertEquals(
    r.out,
    "+OK\r\n+OK\r\n+OK\r\n+OK\r\nMSG foo.bar 2 reply.x 5\r\nhello\r\nMSG foo.bar 1 reply.x 5\r\nhello\r\n" +
      "+OK\r\nHMSG foo.baz 2 12 14\r\nNATS/1.0\r\n\r\nhi\r\nHMSG foo.baz 1 12 14\r\nNATS/1.0\r\n\r\nhi\r\n" +
      "+OK\r\n+OK\r\nMSG foo.a 1 0\r\n\r\nPONG\r\n",
  );
});
