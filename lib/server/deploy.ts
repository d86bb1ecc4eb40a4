/**
 * Deploy mode, for hosts that give the process one port in `PORT` and terminate TLS in front of
 * it (Deno Deploy-style platforms, Cloud Run, Fly, Render, Heroku): the WebSocket listener serves
 * plain `ws://` on `0.0.0.0:$PORT` with the native engine (`Deno.serve`, the one listener such
 * hosts allow), and no TCP client port is opened. Everything else (auth, limits, accounts) comes
 * from the config as usual.
 *
 * @module
 */
import type { ServerOptions } from "../config/options.ts";

/** The port when `PORT` is unset (Cloud Run's default, and the seed's WebSocket port). */
export const DEFAULT_DEPLOY_PORT = 8080;

/** `PORT` as a port number, or an error text naming the variable. */
export function deployPort(env: string | undefined): number | string {
  if (env === undefined || env === "") return DEFAULT_DEPLOY_PORT;
  const n = Number(env);
  if (!/^[0-9]+$/.test(env) || n < 1 || n > 65535) {
    return `PORT must be a port number between 1 and 65535, got ${JSON.stringify(env)}`;
  }
  return n;
}

/**
 * The options with the WebSocket listener moved to `0.0.0.0:port`, plain, on the native engine.
 * Features the native engine cannot honour (compression, handshake timeout) are turned off.
 */
export function deployOptions(o: ServerOptions, port: number): ServerOptions {
  return {
    ...o,
    websocket: {
      ...o.websocket,
      host: "0.0.0.0",
      port,
      noTls: true,
      tls: undefined,
      engine: "native",
      compression: false,
      handshakeTimeoutMs: 0,
    },
  };
}
