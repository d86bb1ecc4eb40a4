/** The leafnode port in use: the reference's fatal text, ours next to nats-server's. */
import { assertEquals } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";

Deno.test({
  name: "leaf listen: a leafnode port in use fails with the reference's text",
  ignore: !haveNatsServer(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (busy.addr as Deno.NetAddr).port;
    const conf = `leafnodes { listen: "127.0.0.1:${port}" }`;
    try {
      let mine = "";
      try {
        const s = await startOurs(conf);
        await s.stop();
      } catch (err) {
        mine = (err as Error).message;
      }
      let theirs = "";
      try {
        const r = await startReference(conf);
        await r.stop();
      } catch (err) {
        theirs = /\[FTL\] (.*)/.exec((err as Error).message)?.[1] ?? "";
      }
      assertEquals(
        theirs,
        `Error listening on leafnode port: ${port} - listen tcp 127.0.0.1:${port}: bind: address already in use`,
      );
      assertEquals(mine, theirs);
    } finally {
      busy.close();
    }
  },
});
