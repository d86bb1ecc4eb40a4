import zlib from "node:zlib";
import { deflateMessage, inflateMessage, maskedFrame, wsConnect, WsStream } from "./ws.ts";

function serverFrame(op: number, payload: Uint8Array, fin = true, rsv1 = false): Uint8Array {
  const len = payload.length;
  const hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(hl + len);
  out[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | op;
  if (len < 126) out[1] = len;
  else if (len < 65536) {
    out[1] = 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 127;
    new DataView(out.buffer).setUint32(6, len);
  }
  out.set(payload, hl);
  return out;
}

/** A fake conn handing out `wire` in pieces of the given sizes. */
function fakeConn(wire: Uint8Array, piece: number): Deno.TcpConn {
  let pos = 0;
  return {
    read(p: Uint8Array): Promise<number | null> {
      if (pos >= wire.length) return Promise.resolve(null);
      const n = Math.min(piece, p.length, wire.length - pos);
      p.set(wire.subarray(pos, pos + n));
      pos += n;
      return Promise.resolve(n);
    },
    close() {},
  } as unknown as Deno.TcpConn;
}

const data = (n: number, seed: number) =>
  Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);

Deno.test("WsStream: data frames of all length classes, split reads, control frames skipped", async () => {
  const payloads = [data(5, 1), data(0, 2), data(300, 3), data(70_000, 4), data(125, 5)];
  const parts: Uint8Array[] = [];
  payloads.forEach((p, i) => {
    parts.push(serverFrame(2, p));
    if (i === 1) parts.push(serverFrame(9, data(4, 9))); // ping: ignored
  });
  parts.push(serverFrame(8, new Uint8Array([3, 232]))); // close
  const wire = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    wire.set(p, off);
    off += p.length;
  }
  const want = new Uint8Array(payloads.reduce((a, p) => a + p.length, 0));
  off = 0;
  for (const p of payloads) {
    want.set(p, off);
    off += p.length;
  }
  for (const [piece, bufSize] of [[1, 7], [3, 1000], [4096, 4096], [1 << 20, 1 << 20]]) {
    const ws = new WsStream(fakeConn(wire, piece), new Uint8Array(0));
    const got: number[] = [];
    const buf = new Uint8Array(bufSize);
    for (let i = 0; i < 1_000_000; i++) {
      const n = await ws.read(buf);
      if (n === null) break;
      for (let j = 0; j < n; j++) got.push(buf[j]);
    }
    if (got.length !== want.length) {
      throw new Error(`piece ${piece}: ${got.length} != ${want.length}`);
    }
    for (let j = 0; j < want.length; j++) {
      if (got[j] !== want[j]) throw new Error(`piece ${piece}: byte ${j} differs`);
    }
  }
});

Deno.test("maskedFrame: header and mask round-trip", () => {
  for (const n of [0, 10, 125, 126, 65535, 65536, 100_000]) {
    const p = data(n, 1);
    const f = maskedFrame(p);
    if (f[0] !== 0x82 || (f[1] & 0x80) === 0) throw new Error("bad first bytes");
    const code = f[1] & 0x7f;
    const hl = code < 126 ? 2 : code === 126 ? 4 : 10;
    const len = code < 126
      ? code
      : code === 126
      ? (f[2] << 8) | f[3]
      : new DataView(f.buffer).getUint32(6);
    if (len !== n) throw new Error(`len ${len} != ${n}`);
    const key = f.subarray(hl, hl + 4);
    for (let i = 0; i < n; i++) {
      if ((f[hl + 4 + i] ^ key[i & 3]) !== p[i]) throw new Error(`byte ${i}`);
    }
  }
});

function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function readAll(ws: WsStream, bufSize: number): Promise<Uint8Array> {
  const got: Uint8Array[] = [];
  const buf = new Uint8Array(bufSize);
  for (let i = 0; i < 1_000_000; i++) {
    const n = await ws.read(buf);
    if (n === null) break;
    got.push(buf.slice(0, n));
  }
  return concatAll(got);
}

function assertSame(got: Uint8Array, want: Uint8Array, what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} != ${want.length}`);
  for (let j = 0; j < want.length; j++) {
    if (got[j] !== want[j]) throw new Error(`${what}: byte ${j} differs`);
  }
}

Deno.test("WsStream compressed: whole, fragmented and empty messages mixed with plain ones", async () => {
  const text = (n: number, seed: number) =>
    new TextEncoder().encode(
      Array.from({ length: n }, (_, i) => `MSG s ${(i * seed) % 97} 3\r\nabc\r\n`).join(""),
    );
  const a = text(2000, 3);
  const b = text(5, 7);
  const c = data(300, 1); // plain frame between compressed ones
  const d = text(9000, 11);
  const za = deflateMessage(a);
  const zd = deflateMessage(d);
  const third = Math.floor(zd.length / 3);
  const wire = concatAll([
    serverFrame(2, za, true, true),
    serverFrame(2, deflateMessage(b), true, true),
    serverFrame(9, data(3, 1)), // ping: ignored
    serverFrame(2, c),
    // A fragmented compressed message: RSV1 on the first frame only; a ping in between.
    serverFrame(2, zd.subarray(0, third), false, true),
    serverFrame(0, zd.subarray(third, 2 * third), false),
    serverFrame(9, data(2, 2)),
    serverFrame(0, zd.subarray(2 * third), true),
    serverFrame(2, deflateMessage(new Uint8Array(0)), true, true), // empty message
    serverFrame(8, new Uint8Array([3, 232])),
  ]);
  const want = concatAll([a, b, c, d]);
  for (const [piece, bufSize] of [[1, 7], [5, 1000], [4096, 4096], [1 << 20, 1 << 20]]) {
    const ws = new WsStream(fakeConn(wire, piece), new Uint8Array(0), true);
    assertSame(await readAll(ws, bufSize), want, `piece ${piece}`);
  }
  // Without negotiation, RSV1 is a protocol error.
  const plain = new WsStream(fakeConn(wire, 1 << 20), new Uint8Array(0), false);
  let threw = false;
  try {
    await readAll(plain, 4096);
  } catch {
    threw = true;
  }
  if (!threw) throw new Error("RSV1 accepted without permessage-deflate");
});

Deno.test("deflateMessage/inflateMessage: sync-flush tail stripped, zlib agrees", () => {
  const msg = new TextEncoder().encode("PUB bench.t.x 16\r\nabcdefghijklmnop\r\n".repeat(500));
  const z = deflateMessage(msg);
  if (z.length >= msg.length / 10) throw new Error(`poor compression: ${z.length}`);
  const tail = z.subarray(z.length - 4);
  if (tail[0] === 0 && tail[1] === 0 && tail[2] === 0xff && tail[3] === 0xff) {
    throw new Error("00 00 ff ff tail not stripped");
  }
  assertSame(inflateMessage([z.subarray(0, 10), z.subarray(10)]), msg, "round trip");
  // What a server's inflater does with it: append the tail, inflate with a fresh context.
  const viaZlib = zlib.inflateRawSync(concatAll([z, new Uint8Array([0, 0, 0xff, 0xff])]), {
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  assertSame(new Uint8Array(viaZlib), msg, "zlib");
});

Deno.test("wsConnect: offers permessage-deflate, deflates outbound, refuses a server without it", async () => {
  const enc = new TextEncoder();
  const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  const accept = async (key: string) => {
    const d = await crypto.subtle.digest("SHA-1", enc.encode(key + GUID));
    return btoa(String.fromCharCode(...new Uint8Array(d)));
  };
  /** One-connection fake server: answers the upgrade with `ext`, then sends a compressed INFO. */
  const serve = (ext: string | null) => {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const seen = (async () => {
      const c = await l.accept();
      l.close();
      const buf = new Uint8Array(64 * 1024);
      let text = "";
      // Bounded by the test's own timeouts (wsConnect gives up after 5 s).
      while (!text.includes("\r\n\r\n")) {
        const n = await c.read(buf);
        if (n === null) break;
        text += new TextDecoder().decode(buf.subarray(0, n));
      }
      const key = text.match(/^sec-websocket-key:\s*(\S+)/im)?.[1] ?? "";
      const head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n` +
        `Connection: Upgrade\r\nSec-WebSocket-Accept: ${await accept(key)}\r\n` +
        (ext ? `Sec-WebSocket-Extensions: ${ext}\r\n` : "") + "\r\n";
      const info = enc.encode(`INFO {"server_id":"x","pad":"${"y".repeat(200)}"}\r\n`);
      await c.write(
        concatAll([enc.encode(head), serverFrame(2, deflateMessage(info), true, true)]),
      );
      // Read one client frame (the test writes one) and return it unmasked.
      let frame: Uint8Array = new Uint8Array(0);
      while (frame.length < 2 || frame.length < 6 + (frame[1] & 0x7f)) {
        const n = await c.read(buf);
        if (n === null) break;
        frame = concatAll([frame, buf.slice(0, n)]);
      }
      c.close();
      const len = frame[1] & 0x7f;
      const key4 = frame.subarray(2, 6);
      const body = frame.slice(6, 6 + len).map((b, i) => b ^ key4[i & 3]);
      return { request: text, first: frame[0], body, info };
    })();
    return { port: (l.addr as Deno.NetAddr).port, seen };
  };

  const ok = serve("permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  const ws = await wsConnect(ok.port, { compress: true });
  const buf = new Uint8Array(4096);
  const n = await ws.read(buf);
  const out = enc.encode("PING\r\n".repeat(20)); // > 64 bytes: compressed
  await ws.writeAll(out);
  const r = await ok.seen;
  ws.close();
  if (!/^sec-websocket-extensions: permessage-deflate\r?$/im.test(r.request)) {
    throw new Error(`no offer in:\n${r.request}`);
  }
  assertSame(buf.subarray(0, n ?? 0), r.info.subarray(0, n ?? 0), "inflated INFO");
  if (r.first !== 0xc2) throw new Error(`client frame 0x${r.first.toString(16)}, want 0xc2`);
  assertSame(inflateMessage([r.body]), out, "client message");

  for (const ext of [null, "permessage-deflate"]) {
    const bad = serve(ext);
    let err = "";
    try {
      (await wsConnect(bad.port, { compress: true })).close();
    } catch (e) {
      err = (e as Error).message;
    }
    await bad.seen.catch(() => {});
    if (!err.includes(ext === null ? "did not negotiate" : "context")) {
      throw new Error(`ext ${ext}: got "${err}"`);
    }
  }
});
