/**
 * The leafnode kind on the connection core, without sockets: a solicited connection on a
 * recording transport is fed the hub's side of a session whole and split at every byte; the
 * same ops must come out (its CONNECT and LS+ lines, the remote interest it registers in the
 * account, the messages it delivers to a local subscriber), and bad LS+/LMSG arguments close it
 * with a parse error.
 */
import { assertEquals } from "../helpers/assert.ts";
import { fakeContext, RecordingTransport, settle } from "../helpers/fake_context.ts";
import { LeafConnection, type LeafContext } from "../../lib/protocol/leaf.ts";
import type { ClientSub, Subscriber } from "../../lib/protocol/subscription.ts";
import type { Message } from "../../lib/routing/message.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function leafContext(): LeafContext {
  const base = fakeContext();
  const conns = new Set<LeafConnection>();
  return {
    ...base,
    serverId: "NLEAF",
    serverName: "LEAF",
    leafInfo: () => ({}),
    leafAuthenticate: () => ({ account: "$G" }),
    loopSubject: () => "$LDS.test",
    leafConnections: () => conns,
  };
}

const HUB_INFO = `INFO {"server_id":"NHUB","server_name":"HUB","version":"2.9.10","proto":1,` +
  `"headers":true,"auth_required":true,"max_payload":1048576,"client_id":4,"nonce":"n",` +
  `"info_on_connect":true,"leafnode_urls":["127.0.0.1:7422"]} \r\n`;
const HUB_REPLY = `INFO {"server_id":"NHUB","client_id":4,"connect_info":true,` +
  `"leafnode_urls":["127.0.0.1:7422"],"remote_account":"$G"} \r\n`;
const SESSION = HUB_INFO + HUB_REPLY +
  "PING\r\nLS+ foo.*\r\nLS+ work q 2\r\nLS+ work q 3\r\nLS- foo.*\r\n" +
  "LMSG local.x 5\r\nhello\r\nLMSG local.x r.1 2\r\nhi\r\n" +
  "HMSG local.x 12 14\r\nNATS/1.0\r\n\r\nok\r\nLMSG local.q | g 1\r\nw\r\n" +
  "LMSG local.q + r.2 other 1\r\nz\r\n";

/** A solicited leaf connection on a recording transport. */
function solicited(ctx: LeafContext, t: RecordingTransport): LeafConnection {
  return new LeafConnection(ctx, t, 1, {
    solicit: {
      hub: false,
      account: "$G",
      tls: false,
      denyImports: [],
      denyExports: [],
      delayReconnect: () => {},
    },
  });
}

/** Runs the session through a fresh connection, fed in pieces of `step` bytes. */
async function run(step: number) {
  const ctx = leafContext();
  const t = new RecordingTransport();
  t.peer.kind = "LEAFNODE";
  const got: string[] = [];
  const local: Subscriber = {
    cid: 99,
    deliver(_sub: ClientSub, m: Message) {
      got.push(
        `${m.subject} ${m.reply ? dec.decode(m.reply) : "-"} ${m.hdrLen} ` +
          JSON.stringify(dec.decode(m.payload)),
      );
      return true;
    },
  };
  const acc = ctx.account("$G");
  const mk = (subject: string, queue?: string): ClientSub => ({
    subject,
    queue,
    sid: "1",
    sidBytes: enc.encode("1"),
    client: local,
    max: 0,
    delivered: 0,
  });
  acc.subscribe(mk("local.>"));
  acc.subscribe(mk("local.q", "g"));
  const c = solicited(ctx, t);
  c.start();
  const bytes = enc.encode(SESSION);
  for (let i = 0; i < bytes.length; i += step) c.receive(bytes.slice(i, i + step));
  await settle();
  const interest = [...acc.interest()].map((i) => `${i.subject} ${i.queue ?? "-"} ${i.weight}`);
  const written = t.text().replace(/"server_id":"[^"]*"/, '"server_id":"X"');
  c.close("Client Closed", false);
  return { written, got, interest, closed: t.closedWith };
}

Deno.test("leaf kind: a session parses the same whole and split at every byte", async () => {
  const whole = await run(1 << 20);
  assertEquals(
    whole.written,
    'CONNECT {"version":"2.9.10","tls_required":false,"server_id":"X","name":"LEAF",' +
      '"cluster":"LEAF","headers":true}\r\n' +
      "LS+ local.>\r\nLS+ local.q g 1\r\nLS+ $LDS.test\r\nPONG\r\n",
  );
  assertEquals(whole.interest.sort(), [
    "local.> - 1",
    "local.q g 1",
    "work q 3",
  ]);
  assertEquals(whole.got, [
    'local.x - -1 "hello"',
    'local.x r.1 -1 "hi"',
    'local.x - 12 "NATS/1.0\\r\\n\\r\\nok"',
    'local.q - -1 "w"',
    'local.q - -1 "w"',
    'local.q r.2 -1 "z"',
  ]);
  const split = await run(1);
  assertEquals(split.written, whole.written);
  assertEquals(split.got, whole.got);
  assertEquals(split.interest.sort(), whole.interest.sort());
});

Deno.test("leaf kind: bad LS+/LMSG arguments close with a parse error", async () => {
  for (const bad of ["LS+ a b\r\n", "LMSG a x\r\n", "HMSG a 5 3\r\n", "LMSG a b c 1\r\nx\r\n"]) {
    const ctx = leafContext();
    const t = new RecordingTransport();
    const c = solicited(ctx, t);
    c.start();
    c.receive(enc.encode(HUB_INFO + HUB_REPLY + bad));
    await settle();
    assertEquals(c.closeReason, "Parse Error", bad);
  }
});
