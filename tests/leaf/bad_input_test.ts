/**
 * Bad input on the leafnode port, ours next to nats-server 2.9.10: what each answers (the first
 * `-ERR`, or a close without one), and the server keeps serving: a real leaf connects afterwards.
 */
import { assertEquals } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { client, leafConfig, leafPortOf, waitForRoute } from "./harness.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Sends `input` after the INFO; returns the first -ERR line or "closed" / "open". */
async function answer(port: number, input: string): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  let buf = "";
  let closed = false;
  const reading = (async () => {
    const b = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await c.read(b);
        if (n === null) break;
        buf += dec.decode(b.subarray(0, n));
      }
    } catch { /* reset */ }
    closed = true;
  })();
  const deadline = Date.now() + 3000;
  while (!buf.includes("\r\n") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  buf = buf.slice(buf.indexOf("\r\n") + 2);
  try {
    await c.write(enc.encode(input));
  } catch { /* closed already */ }
  while (!closed && !/-ERR .*\r\n/.test(buf) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 5));
  }
  const err = /-ERR (.*)\r\n/.exec(buf)?.[1];
  const result = err ?? (closed ? "closed" : "open");
  try {
    c.close();
  } catch { /* closed */ }
  await reading;
  return result;
}

const CASES: [string, string][] = [
  ["an unknown op first", "HELLO\r\n"],
  ["bad CONNECT JSON", "CONNECT {bad\r\n"],
  ["LS+ before CONNECT", "LS+ foo\r\n"],
  // max_control_line is for clients only: a long LS+ is accepted.
  ["a line over max_control_line", "CONNECT {}\r\nLS+ " + "a".repeat(5000) + "\r\n"],
];

/**
 * Where we differ on purpose: nats-server waits for the 99999999 bytes an LMSG announces (no
 * max_payload on leafnodes); we refuse it as for clients instead of buffering that much.
 */
const OVERSIZE = "CONNECT {}\r\nLMSG a 99999999\r\n";

Deno.test({
  name: "leaf bad input: the reference's answers, and the server keeps serving",
  ignore: !haveNatsServer(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const conf = `leafnodes { listen: "127.0.0.1:-1" }`;
    const ours = await startOurs(conf);
    const ref = await startReference(conf);
    const refPort = leafPortOf(ref.stderr());
    try {
      for (const [name, input] of CASES) {
        const theirs = await answer(refPort, input);
        const mine = await answer(ours.handle.ports.leafnode!, input);
        assertEquals(mine, theirs, name);
      }
      assertEquals(await answer(refPort, OVERSIZE), "open");
      assertEquals(
        await answer(ours.handle.ports.leafnode!, OVERSIZE),
        "'Maximum Payload Violation'",
      );
      // Still serving: a real leaf connects and traffic flows.
      const leaf = await startReference(
        leafConfig([`{ url: "nats://127.0.0.1:${ours.handle.ports.leafnode}" }`]),
      );
      const h = await client(ours.port);
      const l = await client(leaf.port);
      try {
        await waitForRoute(h, "after.bad", l);
      } finally {
        await h.close();
        await l.close();
        await leaf.stop();
      }
    } finally {
      await ours.stop();
      await ref.stop();
    }
  },
});
