/**
 * Flow control inside the protocol, without sockets: a producer whose message fills a consumer
 * past half of max_pending stops parsing, holds the rest of its input and asks its transport to
 * stop reading; the consumer's write progress resumes it, in order; a stall that runs out resumes
 * it too; a consumer that never drains is still cut at max_pending.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { fakeClient, fakeContext, RecordingTransport, settle } from "../helpers/fake_context.ts";
import { ClientConnection } from "../../lib/protocol/client.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A transport whose writes complete only when the test says so. */
class GatedTransport extends RecordingTransport {
  private waiting: (() => void)[] = [];
  gated = true;
  override write(data: Uint8Array): Promise<void> {
    this.chunks.push(data.slice());
    if (!this.gated) return Promise.resolve();
    return new Promise((r) => this.waiting.push(r));
  }
  /** Completes every write so far and lets later ones complete at once. */
  open(): void {
    this.gated = false;
    for (const r of this.waiting.splice(0)) r();
  }
  /** Sequence numbers of the MSGs written. */
  seqs(): number[] {
    return [...this.text().matchAll(/MSG x 1 1024\r\n(\d{6})/g)].map((m) => Number(m[1]));
  }
}

function pubs(from: number, n: number): Uint8Array {
  let s = "";
  for (let i = from; i < from + n; i++) {
    s += `PUB x 1024\r\n${String(i).padStart(6, "0")}${"x".repeat(1018)}\r\n`;
  }
  return enc.encode(s);
}

function setup(maxPending: number) {
  const ctx = fakeContext({ maxPending });
  const t = new GatedTransport();
  const consumer = new ClientConnection(ctx, t, 100);
  consumer.start();
  consumer.receive(enc.encode('CONNECT {"verbose":false}\r\nSUB x 1\r\n'));
  const { client: producer, t: pt } = fakeClient(ctx);
  producer.receive(enc.encode('CONNECT {"verbose":false}\r\n'));
  return { ctx, t, consumer, producer, pt };
}

Deno.test("flow: a producer pauses on a filling consumer and resumes in order as it drains", async () => {
  const { t, producer } = setup(64 * 1024);
  await settle();
  const gate = producer.receive(pubs(0, 200));
  assert(gate instanceof Promise, "the producer asks its transport to stop reading");
  await settle();
  // Input that arrives anyway (a transport that cannot stop reading) is held, in order.
  const again = producer.receive(pubs(200, 50));
  assert(again instanceof Promise, "still paused");
  let opened = false;
  gate.then(() => opened = true);
  t.open();
  for (let i = 0; i < 50 && !opened; i++) await settle();
  assert(opened, "the read gate opens once everything held was delivered");
  assertEquals(t.seqs(), Array.from({ length: 250 }, (_, i) => i));
  assertEquals(producer.isClosed, false);
});

Deno.test("flow: more than max_pending arriving while paused is processed anyway (bounded memory)", async () => {
  const { ctx, consumer, producer } = setup(64 * 1024);
  await settle();
  assert(producer.receive(pubs(0, 40)) instanceof Promise, "paused");
  // A transport that cannot stop reading (Deno's WebSocket) keeps delivering input.
  for (let i = 1; i <= 3; i++) producer.receive(pubs(i * 40, 40));
  // Over max_pending held: the producer goes on, and the consumer that does not drain is cut.
  assertEquals(consumer.closeReason, "Slow Consumer (Pending Bytes)");
  assertEquals(ctx.stats.slowConsumers, 1);
  assertEquals(producer.isClosed, false);
  assertEquals(producer.receive(pubs(160, 1)), undefined, "no longer paused");
});

Deno.test("flow: a stall times out; a consumer that never drains is cut at max_pending", async () => {
  const { ctx, t, consumer, producer } = setup(16 * 1024);
  await settle();
  const gate = producer.receive(pubs(0, 40));
  assert(gate instanceof Promise, "paused");
  let opened = false;
  gate.then(() => opened = true);
  // Each stall lasts 100 ms or more; the consumer never drains, so it is cut at last.
  const deadline = Date.now() + 10_000;
  while (!consumer.isClosed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assertEquals(consumer.closeReason, "Slow Consumer (Pending Bytes)");
  assertEquals(ctx.stats.slowConsumers, 1);
  for (let i = 0; i < 50 && !opened; i++) await settle();
  assert(opened, "the producer is released when its consumer goes");
  assertEquals(producer.isClosed, false);
  assert(dec.decode(t.chunks[0]).startsWith("INFO "));
});
