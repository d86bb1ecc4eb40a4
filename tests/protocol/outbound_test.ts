/**
 * The outbound queue: bytes come out in order and whole, however they were queued (small pushes,
 * buffers sealed at SEAL_AT, pieces of WRITE_CHUNK), with `pending` counting what is not written
 * yet and progress reported per piece.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { Outbound, SEAL_AT, WRITE_CHUNK } from "../../lib/protocol/outbound.ts";

Deno.test("outbound: order, sizes and pending across seals and pieces", async () => {
  const written: Uint8Array[] = [];
  let release: (() => void) | null = null;
  const progress: [number, boolean][] = [];
  const out = new Outbound({
    write: (d) => {
      written.push(d.slice());
      return new Promise<void>((r) => release = r);
    },
    onWriteError: () => {
      throw new Error("unexpected");
    },
    onProgress: (pending, flushed) => progress.push([pending, flushed]),
  });
  // 2.5 seals' worth in 1000-byte records, each starting with its index.
  const total = SEAL_AT * 2.5;
  const rec = new Uint8Array(1000);
  let n = 0;
  for (let off = 0; off < total; off += rec.length, n++) {
    new DataView(rec.buffer).setUint32(0, n);
    out.push(rec);
  }
  assertEquals(out.pending, n * rec.length);
  // Let the flushes run, releasing each write as it comes.
  for (let i = 0; i < 100 && out.pending > 0; i++) {
    await new Promise((r) => setTimeout(r, 0));
    const r = release as (() => void) | null;
    release = null;
    r?.();
  }
  assertEquals(out.pending, 0);
  const all = new Uint8Array(written.reduce((s, w) => s + w.length, 0));
  let o = 0;
  for (const w of written) {
    assert(w.length <= WRITE_CHUNK, `a write of ${w.length}`);
    all.set(w, o);
    o += w.length;
  }
  assertEquals(all.length, n * rec.length);
  const view = new DataView(all.buffer);
  for (let i = 0; i < n; i++) assertEquals(view.getUint32(i * rec.length), i);
  assert(written.length >= total / WRITE_CHUNK, "large flushes go out in pieces");
  assert(SEAL_AT > WRITE_CHUNK);
  assertEquals(progress.at(-1), [0, true]);
  assert(progress.every(([p], k) => k === 0 || p <= progress[k - 1][0]), "pending only falls");
});
