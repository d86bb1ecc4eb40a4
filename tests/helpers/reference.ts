/**
 * Runs the real nats-server 2.9.10 (when on PATH) so tests can prove their expectations against
 * the reference in the same run.
 */

let cached: boolean | undefined;

/** Whether `nats-server` can be run here. */
export function haveNatsServer(): boolean {
  if (cached !== undefined) return cached;
  try {
    const r = new Deno.Command("nats-server", {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    })
      .outputSync();
    cached = r.success;
  } catch {
    cached = false;
  }
  if (!cached) console.log("nats-server not on PATH: reference comparisons are skipped");
  return cached;
}

/** A running reference server. */
export interface ReferenceServer {
  port: number;
  wsPort?: number;
  /** The monitoring port, when the config enabled it (`Starting http monitor on ...`). */
  monitorPort?: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts nats-server with `config` (text) on 127.0.0.1 and a random port. */
export async function startReference(
  config = "",
  extraArgs: string[] = [],
): Promise<ReferenceServer> {
  const dir = await Deno.makeTempDir({ prefix: "natsref" });
  const file = `${dir}/nats.conf`;
  await Deno.writeTextFile(file, config);
  const child = new Deno.Command("nats-server", {
    args: ["-c", file, "-a", "127.0.0.1", "-p", "-1", ...extraArgs],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  const deadline = Date.now() + 10_000;
  while (!log.includes("Server is ready")) {
    if (Date.now() > deadline) throw new Error(`nats-server did not start:\n${log}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`nats-server exited:\n${log}`);
    log += value;
  }
  // Keep draining stderr so the child never blocks on a full pipe.
  (async () => {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        log += value;
      }
    } catch { /* closed */ }
  })();
  const port = Number(/Listening for client connections on [^\s]*:(\d+)/.exec(log)![1]);
  const ws = /Listening for websocket clients on wss?:\/\/[^\s]*:(\d+)/.exec(log);
  const mon = /Starting http monitor on [^\s]*:(\d+)/.exec(log);
  return {
    port,
    wsPort: ws ? Number(ws[1]) : undefined,
    monitorPort: mon ? Number(mon[1]) : undefined,
    stderr: () => log,
    async stop() {
      try {
        child.kill("SIGKILL");
      } catch { /* gone */ }
      await child.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}
