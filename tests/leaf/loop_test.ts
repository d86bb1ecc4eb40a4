/**
 * Loop detection: two servers that solicit each other in the same account. The `$LDS.` subject
 * one announces comes back to it, and the reference's `Loop detected for leafnode account="$G".
 * Delaying attempt to reconnect for 30s` error closes the link (and delays the reconnect).
 * Run as ours↔ours and ours↔nats-server, with nats-server↔nats-server as the reference.
 */
import { haveNatsServer } from "../helpers/reference.ts";
import { freePort, type Impl, type Node, startNode, until } from "./harness.ts";

const LOOP = 'Loop detected for leafnode account="$G". Delaying attempt to reconnect for 30s';

async function loop(a: Impl, b: Impl): Promise<{ a: Node; b: Node }> {
  const la = freePort();
  const lb = freePort();
  const conf = (name: string, listen: number, remote: number) =>
    `server_name: ${name}\nleafnodes {\n listen: "127.0.0.1:${listen}"\n` +
    ` remotes: [ { url: "nats://127.0.0.1:${remote}" } ]\n}\n`;
  const na = await startNode(a, conf("A", la, lb), freePort());
  const nb = await startNode(b, conf("B", lb, la), freePort());
  return { a: na, b: nb };
}

for (const [a, b] of [["ref", "ref"], ["ours", "ours"], ["ours", "ref"]] as [Impl, Impl][]) {
  Deno.test({
    name: `leaf loop: ${a} <-> ${b} detects the loop with the reference's error`,
    ignore: (a === "ref" || b === "ref") && !haveNatsServer(),
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const { a: na, b: nb } = await loop(a, b);
      try {
        await until(
          () => na.stderr().includes(LOOP) || nb.stderr().includes(LOOP),
          10_000,
          "the loop error",
        );
        // Both sides learn of it: one detects it, the other is told with -ERR.
        await until(
          () => na.stderr().includes(LOOP) && nb.stderr().includes(LOOP),
          10_000,
          "both sides logging the loop",
        );
      } finally {
        await na.stop();
        await nb.stop();
      }
    },
  });
}
