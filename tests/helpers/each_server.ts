/** Runs one check against this server and, when it is on PATH, against nats-server 2.9.10. */
import { haveNatsServer, startReference } from "./reference.ts";
import { startOurs } from "./server.ts";

/** Which server a check runs against. */
export type ServerName = "ours" | "nats-server";

/**
 * Starts ours with `config`, runs `fn`, stops it; then the same with nats-server (skipped,
 * with a printed reason, when it is not installed). Failures name the server.
 */
export async function withEachServer(
  config: string,
  fn: (name: ServerName, port: number) => Promise<void>,
): Promise<void> {
  const ours = await startOurs(config);
  try {
    await fn("ours", ours.port);
  } finally {
    await ours.stop();
  }
  if (!haveNatsServer()) return;
  const ref = await startReference(config);
  try {
    await fn("nats-server", ref.port);
  } finally {
    await ref.stop();
  }
}
