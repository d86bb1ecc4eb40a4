/**
 * The leafnode benchmark topology: one nats-server hub (`leafnodes { listen }`) and two edges
 * soliciting it, this server and nats-server, each as its own process. The `leaf-*` rows publish
 * on the hub and subscribe on an edge (`down`), or the reverse (`up`); the column is the edge.
 */
import { freePort, type RunningServer, spawnServer, which } from "./targets.ts";

/** The running topology. */
export interface LeafTopology {
  hub: RunningServer;
  /** Edges by column name ("ours", "nats-server"). */
  edges: Map<string, RunningServer>;
  stop(): Promise<void>;
}

function confFile(text: string): string {
  const path = Deno.makeTempFileSync({ prefix: "natsbench-leaf-", suffix: ".conf" });
  Deno.writeTextFileSync(path, text);
  return path;
}

function remove(path: string): () => void {
  return () => {
    try {
      Deno.removeSync(path);
    } catch { /* gone */ }
  };
}

/** Starts the hub and the edges; null (with the reason logged) when nats-server is missing. */
export async function startLeafTopology(
  log: (line: string) => void,
  edgeNames: readonly string[],
): Promise<LeafTopology | null> {
  const bin = Deno.env.get("NATS_SERVER_BIN") ?? which("nats-server");
  if (bin === null) {
    log("[leaf] not run: nats-server not found on PATH (it is the hub)");
    return null;
  }
  const leafPort = freePort();
  const hubConf = confFile(`server_name: HUB\nleafnodes { listen: "127.0.0.1:${leafPort}" }\n`);
  const hubPort = freePort();
  const hub = await spawnServer(
    "leaf-hub",
    bin,
    ["-c", hubConf, "-a", "127.0.0.1", "-p", String(hubPort)],
    { port: hubPort },
    10_000,
    remove(hubConf),
  );
  const edges = new Map<string, RunningServer>();
  const edgeConf = (name: string) =>
    confFile(
      `server_name: ${name}\nleafnodes { remotes: [ { url: "nats://127.0.0.1:${leafPort}" } ] }\n`,
    );
  const main = decodeURIComponent(new URL("../../main.ts", import.meta.url).pathname);
  for (const name of edgeNames) {
    const conf = edgeConf(name === "ours" ? "EDGE-OURS" : "EDGE-REF");
    const port = freePort();
    const [cmd, args] = name === "ours"
      ? [Deno.execPath(), ["run", "--allow-net", "--allow-read", "--allow-env", main]]
      : [bin, []];
    const s = await spawnServer(
      `leaf-edge-${name}`,
      cmd,
      [...args, "-c", conf, "-a", "127.0.0.1", "-p", String(port)],
      { port },
      10_000,
      remove(conf),
    );
    if ((await s.waitOutput(/Leafnode connection created/, 10_000)) === null) {
      log(`[leaf] edge ${name} did not connect to the hub:\n${s.outputTail()}`);
      await s.stop();
      continue;
    }
    edges.set(name, s);
  }
  return {
    hub,
    edges,
    stop: async () => {
      await Promise.all([...edges.values()].map((e) => e.stop()));
      await hub.stop();
    },
  };
}
