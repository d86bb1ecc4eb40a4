/**
 * Proves a started server carries messages: a TCP client (npm:nats) and/or a WebSocket client
 * (@nats-io/nats-core wsconnect) subscribe, the other side publishes, each wait bounded.
 */
import { connect, type ConnectionOptions, type NatsConnection } from "nats";
import { type NatsConnection as WsConnection, wsconnect } from "@nats-io/nats-core";

type Conn = NatsConnection | WsConnection;

/** Resolves `p`, or rejects after `ms` naming `what`. */
export async function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms)
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where the clients connect; `auth` is passed to both. */
export interface Endpoints {
  tcp?: string;
  ws?: string;
  auth?: Pick<ConnectionOptions, "user" | "pass" | "token">;
}

/**
 * Connects to each given endpoint, then sends one message from every connection to every
 * connection; returns `from>to:payload` lines in a stable order.
 */
export async function exchange(e: Endpoints): Promise<string[]> {
  const conns: [string, Conn][] = [];
  try {
    if (e.tcp) {
      conns.push(["tcp", await within(connect({ servers: e.tcp, ...e.auth }), "tcp connect")]);
    }
    if (e.ws) {
      conns.push(["ws", await within(wsconnect({ servers: e.ws, ...e.auth }), "ws connect")]);
    }
    const got: string[] = [];
    const done = conns.map(([name, c]) => {
      const sub = c.subscribe(`to.${name}`, { max: conns.length });
      return (async () => {
        for await (const m of sub) got.push(`${m.string()}>${name}`);
      })();
    });
    for (const [, c] of conns) await c.flush();
    for (const [from, c] of conns) {
      for (const [to] of conns) c.publish(`to.${to}`, from);
    }
    await within(Promise.all(done), "messages");
    return got.sort();
  } finally {
    for (const [, c] of conns) await c.close().catch(() => {});
  }
}
