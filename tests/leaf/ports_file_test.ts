/**
 * The config the official client libraries' test launchers write (`leafnodes { listen:
 * "127.0.0.1:-1" }` plus a websocket block and `ports_file_dir`) starts, and the ports file has
 * the reference's keys: nats-server 2.9.10 writes no `leafnode` entry (its Ports struct has none),
 * so neither does this server. Side by side with nats-server.
 */
import { assertEquals } from "../helpers/assert.ts";
import { haveNatsServer, startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";

/** The ports file in `dir` (nats-server may write it just after "Server is ready": 5s bound). */
async function portsFile(dir: string, pid?: number): Promise<Record<string, string[]>> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    for await (const e of Deno.readDir(dir)) {
      if (e.name.endsWith(".ports") && (pid === undefined || e.name.includes(`_${pid}.`))) {
        return JSON.parse(await Deno.readTextFile(`${dir}/${e.name}`));
      }
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`no ports file in ${dir}`);
}

Deno.test({
  name: "leaf ports file: launcher config starts; keys as nats-server (no leafnode entry)",
  ignore: !haveNatsServer(),
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const conf = (dir: string) =>
      `leafnodes { listen: "127.0.0.1:-1" }\n` +
      `websocket { listen: "127.0.0.1:-1", no_tls: true }\nports_file_dir: "${dir}"\n`;
    const ourDir = await Deno.makeTempDir();
    const refDir = await Deno.makeTempDir();
    const log: string[] = [];
    const ours = await startOurs(conf(ourDir), {
      log: {
        info: (m) => log.push(m),
        warn: () => {},
        error: () => {},
        debug: () => {},
        trace: () => {},
        debugEnabled: false,
        traceEnabled: false,
      },
    });
    const ref = await startReference(conf(refDir));
    try {
      const mine = await portsFile(ourDir, Deno.pid);
      const theirs = await portsFile(refDir);
      assertEquals(Object.keys(mine), Object.keys(theirs));
      assertEquals(Object.keys(mine), ["nats", "websocket"]);
      assertEquals(
        log.some((l) => /^Listening for leafnode connections on 127\.0\.0\.1:\d+$/.test(l)),
        true,
      );
    } finally {
      await ours.stop();
      await ref.stop();
      await Deno.remove(ourDir, { recursive: true });
      await Deno.remove(refDir, { recursive: true });
    }
  },
});
