/**
 * Leafnode topologies for tests: a hub and a leaf, each either this server (in-process) or
 * nats-server 2.9.10 (a process), linked over TCP, TLS or WebSocket, on fixed ports so a hub can
 * be restarted where it was. Plus the bounded waits the tests use.
 */
import { connect, type NatsConnection, type Subscription } from "nats";
import { startReference } from "../helpers/reference.ts";
import { startOurs } from "../helpers/server.ts";
import { testPki } from "../helpers/certs.ts";
import { freePort } from "../helpers/ports.ts";

/** Re-exported for the leaf tests. */
export { freePort };

/** Which implementation runs a node. */
export type Impl = "ours" | "ref";
/** How the leaf reaches the hub. */
export type Link = "tcp" | "tls" | "ws";

/** A running node. */
export interface Node {
  impl: Impl;
  clientPort: number;
  stderr(): string;
  stop(): Promise<void>;
}

/** Starts `impl` with `config` on client port `port`. */
export async function startNode(impl: Impl, config: string, port: number): Promise<Node> {
  if (impl === "ref") {
    const r = await startReference(config, ["-p", String(port)]);
    return { impl, clientPort: r.port, stderr: r.stderr, stop: r.stop };
  }
  const lines: string[] = [];
  const s = await startOurs(config, {
    port,
    log: {
      info: (m: string) => lines.push(`[INF] ${m}`),
      warn: (m: string) => lines.push(`[WRN] ${m}`),
      error: (m: string) => lines.push(`[ERR] ${m}`),
      debug: () => {},
      trace: () => {},
      debugEnabled: false,
      traceEnabled: false,
    },
  });
  return { impl, clientPort: s.port, stderr: () => lines.join("\n"), stop: s.stop };
}

/** The leafnode port a nats-server process logged (`Listening for leafnode connections on`). */
export function leafPortOf(stderr: string): number {
  return Number(/Listening for leafnode connections on [^\s]*:(\d+)/.exec(stderr)![1]);
}

/** Ports of a hub. */
export interface HubPorts {
  client: number;
  leaf: number;
  ws: number;
}

/** Fresh ports for a hub. */
export function hubPorts(): HubPorts {
  return { client: freePort(), leaf: freePort(), ws: freePort() };
}

/** The hub's config for a link kind (`extra` is appended inside the leafnodes block). */
export async function hubConfig(p: HubPorts, link: Link, extra = "", top = ""): Promise<string> {
  let tls = "";
  if (link === "tls") {
    const pki = await testPki();
    tls = `tls { cert_file: "${pki.server.certFile}", key_file: "${pki.server.keyFile}" }`;
  }
  return [
    "server_name: HUB",
    top,
    `leafnodes {\n  listen: "127.0.0.1:${p.leaf}"\n  ${tls}\n  ${extra}\n}`,
    `websocket { listen: "127.0.0.1:${p.ws}", no_tls: true }`,
  ].join("\n");
}

/** The leaf's remote URL and remote block options for a link kind. */
export async function remoteFor(
  p: HubPorts,
  link: Link,
  creds = "",
): Promise<string> {
  const at = creds ? `${creds}@` : "";
  if (link === "ws") return `{ url: "ws://${at}127.0.0.1:${p.ws}" }`;
  if (link === "tls") {
    const pki = await testPki();
    return `{ url: "tls://${at}127.0.0.1:${p.leaf}", tls { ca_file: "${pki.ca.certFile}" } }`;
  }
  return `{ url: "nats://${at}127.0.0.1:${p.leaf}" }`;
}

/** The leaf config with the given remotes. */
export function leafConfig(remotes: string[], name = "LEAF", top = ""): string {
  return `server_name: ${name}\n${top}\nleafnodes { remotes: [ ${remotes.join(", ")} ] }\n`;
}

/** A client that keeps reconnecting (hub restarts). */
export function client(port: number): Promise<NatsConnection> {
  return connect({
    servers: `127.0.0.1:${port}`,
    reconnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 100,
  });
}

const enc = new TextEncoder();

/**
 * Waits until a message published on `subject` by `pub` reaches `sub` (interest propagated):
 * publishes a probe every 50 ms, bounded by `timeoutMs`. The probe payload is "probe".
 */
export async function waitForRoute(
  pub: NatsConnection,
  subject: string,
  via: NatsConnection,
  timeoutMs = 10_000,
): Promise<void> {
  const probe = via.subscribe(subject);
  const got = (async () => {
    for await (const _ of probe) return true;
    return false;
  })();
  const deadline = Date.now() + timeoutMs;
  let done = false;
  got.then(() => done = true);
  try {
    while (!done) {
      if (Date.now() > deadline) throw new Error(`no route for ${subject} within ${timeoutMs}ms`);
      pub.publish(subject, enc.encode("probe"));
      await pub.flush().catch(() => {});
      await Promise.race([got, new Promise((r) => setTimeout(r, 50))]);
    }
  } finally {
    probe.unsubscribe();
  }
}

/**
 * Collects the payloads of `n` messages (bounded by `timeoutMs`, then returns what came),
 * ignoring the probes of {@link waitForRoute}.
 */
export async function collect(sub: Subscription, n: number, timeoutMs = 5000): Promise<string[]> {
  const dec = new TextDecoder();
  const got: string[] = [];
  if (n === 0) return got;
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  for await (const m of sub) {
    const text = dec.decode(m.data);
    if (text === "probe") continue;
    got.push(text);
    if (got.length === n) break;
  }
  clearTimeout(timer);
  return got;
}

/** Resolves when `pred()` holds (checked every 25 ms), throws after `timeoutMs`. */
export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
