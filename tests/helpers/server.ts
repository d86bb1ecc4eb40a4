/** Starts this project's server in-process on 127.0.0.1 with a random port. */
import { type ServerHandle, type StartOptions, startServer } from "../../mod.ts";

/** A running server for a test. */
export interface TestServer {
  port: number;
  wsPort?: number;
  /** The monitoring port, when the config enabled it. */
  monitorPort?: number;
  handle: ServerHandle;
  stop(): Promise<void>;
}

/** Starts our server with optional config text and option overrides. */
export async function startOurs(config = "", extra: StartOptions = {}): Promise<TestServer> {
  const handle = await startServer({ config, host: "127.0.0.1", port: -1, ...extra });
  return {
    port: handle.ports.client,
    wsPort: handle.ports.websocket,
    monitorPort: handle.ports.monitor,
    handle,
    stop: () => handle.close(),
  };
}
