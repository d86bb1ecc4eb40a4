/**
 * Hot-path micro benchmark for message delivery inside one account (no sockets): a publisher
 * connection parses batches of `PUB` and the subscribers' outbound buffers receive `MSG`s.
 * Used to check that cross-account import support costs nothing when no imports are configured.
 *
 *   deno bench -A bench/deliver_bench.ts
 *
 * @module
 */
import { ClientConnection } from "../lib/protocol/client.ts";
import type { ServerContext } from "../lib/protocol/context.ts";
import { fakeContext, RecordingTransport } from "../tests/helpers/fake_context.ts";

class NullTransport extends RecordingTransport {
  override write(_data: Uint8Array): Promise<void> {
    return Promise.resolve();
  }
}

const enc = new TextEncoder();

function setup(ctx: ServerContext, subs: number, queue: boolean) {
  const pub = new ClientConnection(ctx, new NullTransport(), 1);
  pub.start();
  pub.receive(enc.encode('CONNECT {"verbose":false}\r\n'));
  for (let i = 0; i < subs; i++) {
    const s = new ClientConnection(ctx, new NullTransport(), 100 + i);
    s.start();
    s.receive(enc.encode(`CONNECT {"verbose":false}\r\nSUB foo.bar ${queue ? "q " : ""}1\r\n`));
  }
  const batch = enc.encode("PUB foo.bar 16\r\n0123456789abcdef\r\n".repeat(100));
  return { pub, batch };
}

const one = setup(fakeContext({ maxPending: 1 << 30 }), 1, false);
const fan = setup(fakeContext({ maxPending: 1 << 30 }), 5, false);
const q = setup(fakeContext({ maxPending: 1 << 30 }), 3, true);
const none = setup(fakeContext({ maxPending: 1 << 30 }), 0, false);

Deno.bench("100 PUB, no subscriber", () => none.pub.receive(none.batch));
Deno.bench("100 PUB, 1 subscriber", () => one.pub.receive(one.batch));
Deno.bench("100 PUB, 5 subscribers", () => fan.pub.receive(fan.batch));
Deno.bench("100 PUB, queue group of 3", () => q.pub.receive(q.batch));
