/**
 * Deploy mode entry point: `PORT=8080 deno run --allow-net --allow-read --allow-env deploy.ts
 * [-c nats.conf]`. The host terminates TLS and gives one port in `PORT` (default 8080): WebSocket
 * clients are served there (plain `ws://`, native engine) and no TCP client port is opened. The
 * other nats-server flags work as with main.ts.
 * @module
 */
import { run } from "./main.ts";
import { deployPort } from "./lib/server/deploy.ts";

if (import.meta.main) {
  let env: string | undefined;
  try {
    env = Deno.env.get("PORT");
  } catch {
    console.error("nats-server: deploy mode reads PORT: run with --allow-env");
    Deno.exit(1);
  }
  const port = deployPort(env);
  if (typeof port === "string") {
    console.error(`nats-server: ${port}`);
    Deno.exit(1);
  }
  Deno.exit(await run(Deno.args, { deployPort: port }));
}
