/**
 * WebSocket frame-level behaviour against nats-server 2.9.10, both engines, on server processes:
 * a close with any status is echoed with that status and body; a text frame with invalid UTF-8 is
 * delivered as bytes; a ws protocol error gets close 1002 with its reason (the reference queues
 * it too, but often drops the socket first); a 64-bit length with the top bit set closes the
 * connection and the server lives on (nats-server 2.9.10 panics and exits). Where Deno's
 * WebSocket owns the frames (native engine) its own answers are pinned down as known limits.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startServerProcess } from "../helpers/server_process.ts";
import { RawWs } from "../helpers/ws_raw.ts";
import { encodeFrame, OPCODE } from "../../lib/transport/ws/frames.ts";

const enc = new TextEncoder();

type Engine = "codec" | "native" | "nats-server";

/** What the server answered: its close frame (if any), whether it closed, and what it sent. */
interface Outcome {
  close?: { code: number; reason: string };
  eof: boolean;
  text?: string;
}

interface Case {
  name: string;
  send: (w: RawWs) => Promise<void>;
  /** Expected per engine; `nats-server` missing = same as codec. */
  expect: Partial<Record<Engine, Outcome | ((o: Outcome) => void)>> & { codec: Outcome };
}

function closePayload(code: number, body = ""): Uint8Array {
  const b = enc.encode(body);
  const p = new Uint8Array(2 + b.length);
  p[0] = code >> 8;
  p[1] = code & 255;
  p.set(b, 2);
  return p;
}

const sendClose = (code: number, body: string) => (w: RawWs) =>
  w.sendRaw(encodeFrame(OPCODE.CLOSE, closePayload(code, body), { mask: true }));

/** Deno answers every close whose status RFC 6455 does not allow with 1002 (same body). */
const denoClose = (body: string): Outcome => ({ close: { code: 1002, reason: body }, eof: true });

const BAD_UTF8_PUB = new Uint8Array([
  ...enc.encode("PUB a 4\r\n"),
  0xff,
  0xfe,
  0xc0,
  0x80,
  ...enc.encode("\r\nPING\r\n"),
]);

const CASES: Case[] = [
  ...[[999, "x"], [1004, ""], [1006, "ab"], [1015, "tls"], [5000, "hi"]].map((
    [code, body],
  ): Case => ({
    name: `close ${code} is echoed as is`,
    send: sendClose(code as number, body as string),
    expect: {
      codec: { close: { code: code as number, reason: body as string }, eof: true },
      native: denoClose(body as string),
    },
  })),
  {
    name: "text frame with invalid UTF-8 is delivered as bytes",
    send: async (w) => {
      await w.send('CONNECT {"verbose":false}\r\nSUB a 1\r\n');
      await w.sendRaw(encodeFrame(OPCODE.TEXT, BAD_UTF8_PUB, { mask: true }));
    },
    expect: {
      codec: { eof: false, text: "MSG a 1 4\r\n\ufffd\ufffd\ufffd\ufffd\r\nPONG\r\n" },
      // Deno's WebSocket fails the connection on invalid UTF-8 in a text frame.
      native: { eof: true, text: "" },
    },
  },
  {
    name: "unknown opcode: close 1002 with the reason",
    send: (w) => w.sendRaw(encodeFrame(3, enc.encode("x"), { mask: true })),
    expect: {
      codec: { close: { code: 1002, reason: "unknown opcode 3" }, eof: true },
      // The reference queues the same close frame but closes the socket before writing it.
      "nats-server": (o) => {
        assert(o.eof, "closed");
        if (o.close) assertEquals(o.close, { code: 1002, reason: "unknown opcode 3" });
      },
      native: { eof: true },
    },
  },
];

async function run(port: number, c: Case): Promise<Outcome> {
  const w = await RawWs.open({ port });
  try {
    await w.info();
    await c.send(w);
    await w.readUntil((x) => x.text.includes("PONG\r\n"), 1500).catch(() => {});
    return { close: w.closeFrame, eof: w.eof, text: w.text };
  } finally {
    w.close();
  }
}

function check(engine: Engine, c: Case, got: Outcome): void {
  const want = c.expect[engine] ?? c.expect.codec;
  if (typeof want === "function") return want(got);
  const actual: Outcome = { eof: got.eof };
  if (want.close !== undefined || got.close !== undefined) actual.close = got.close;
  if (want.text !== undefined) actual.text = got.text;
  assertEquals(actual, want, `${engine}: ${c.name}`);
}

/** A websocket block; ours picks the engine. */
function wsConf(engine?: "codec" | "native"): string {
  return `websocket { listen: "127.0.0.1:-1", no_tls: true${engine ? `, engine: ${engine}` : ""} }`;
}

/** What a frame declaring 2^63 payload bytes does to a server (and whether it lives on). */
const TOP_BIT = new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);

for (const engine of ["codec", "native"] as const) {
  Deno.test(`ws wire (${engine} engine): frames answered as nats-server`, async () => {
    const ours = await startServerProcess(wsConf(engine));
    try {
      for (const c of CASES) check(engine, c, await run(ours.wsPort!, c));
    } finally {
      await ours.stop();
    }
  });

  Deno.test(`ws wire (${engine} engine): a 64-bit length with the top bit set closes that connection; the server lives on`, async () => {
    const ours = await startServerProcess(wsConf(engine));
    try {
      const w = await RawWs.open({ port: ours.wsPort! });
      await w.info();
      await w.sendRaw(TOP_BIT);
      await w.readUntil(() => false, 3000).catch(() => {});
      assert(w.eof, "the connection is closed");
      if (engine === "codec") {
        assertEquals(w.closeFrame, { code: 1002, reason: "invalid frame payload length" });
      }
      w.close();
      assertEquals(ours.exited(), null, "the server is still running");
      const next = await RawWs.open({ port: ours.wsPort! });
      await next.info();
      await next.send("PING\r\n");
      await next.waitText("PONG\r\n");
      next.close();
    } finally {
      await ours.stop();
    }
  });
}

Deno.test("ws wire: nats-server 2.9.10 answers the same frames (reference run)", async () => {
  if (!haveNatsServer()) return;
  const ref = await startReference(wsConf());
  try {
    for (const c of CASES) check("nats-server", c, await run(ref.wsPort!, c));
    // The top-bit length: the reference panics (slice bounds out of range) and exits.
    const w = await RawWs.open({ port: ref.wsPort! });
    await w.info();
    await w.sendRaw(TOP_BIT);
    await w.readUntil(() => false, 3000).catch(() => {});
    w.close();
    let crashed = false;
    for (let i = 0; i < 50 && !crashed; i++) {
      crashed = /panic: runtime error/.test(ref.stderr());
      if (!crashed) await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`  nats-server on a 2^63 frame length: ${crashed ? "panicked" : "survived"}`);
  } finally {
    await ref.stop();
  }
});
