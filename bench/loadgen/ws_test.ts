import { maskedFrame, WsStream } from "./ws.ts";

function serverFrame(op: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const hl = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(hl + len);
  out[0] = 0x80 | op;
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
