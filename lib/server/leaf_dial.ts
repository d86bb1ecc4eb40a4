/**
 * Dialing one remote leafnode URL: TCP (`nats://`, `nats-leaf://`), TLS (`tls://`, a `tls {}`
 * block, or a hub whose INFO requires it: INFO is read in plaintext, then the client handshake
 * runs on the same socket) and WebSocket (`ws://`, `wss://`, optionally through an HTTP CONNECT
 * proxy). Returns a transport ready for the leafnode protocol.
 *
 * @module
 */
import type { RemoteLeafOptions, ServerOptions } from "../config/options.ts";
import type { ByteSink, Transport } from "../protocol/transport.ts";
import {
  clientTlsTransport,
  dialNet,
  dialTcp,
  readGreeting,
  readGreetingNode,
  startClientTls,
} from "../transport/dial.ts";
import { TcpTransport } from "../transport/tcp.ts";
import { dialWebSocket } from "../transport/ws/client.ts";

/** A remote URL taken apart. */
export interface RemoteUrl {
  raw: string;
  scheme: string;
  hostname: string;
  port: number;
  /** `host:port` as the reference logs it. */
  hostPort: string;
  /** URL path ("" for none). */
  path: string;
  ws: boolean;
  /** The scheme asks for TLS (`tls://`, `wss://`). */
  tls: boolean;
  user?: string;
  pass?: string;
  /** Bytes already read (the hub's INFO), for the connection to parse first. */
  greeting?: Uint8Array;
  /**
   * WebSocket path shape: `<path>/leafnode` (since 2.10.5) unless a hub answered it as a client,
   * then `/leafnode<path>` (how 2.9.10 dials and checks: by prefix).
   */
  legacyPath?: boolean;
}

/** A dialed transport that reads into a sink. */
export type DialedTransport = Transport & { readInto(sink: ByteSink): Promise<void> };

/** The reference's dial timeout for leafnodes (DEFAULT_ROUTE_DIAL, 1s). */
const DIAL_TIMEOUT_MS = 1000;
/** How long to wait for the hub's INFO (DEFAULT_LEAFNODE_INFO_WAIT, 2s). */
const INFO_WAIT_MS = 2000;
const MAX_INFO = 64 * 1024;

const decoder = new TextDecoder();

function infoRequiresTls(line: Uint8Array): boolean {
  const text = decoder.decode(line).trim();
  if (!/^INFO\s/i.test(text)) return false;
  try {
    return JSON.parse(text.slice(5)).tls_required === true;
  } catch {
    return false;
  }
}

async function tlsConfig(remote: RemoteLeafOptions, url: RemoteUrl) {
  const t = remote.tls;
  return {
    caPem: t?.caFile ? await Deno.readTextFile(t.caFile) : undefined,
    certPem: t?.certFile ? await Deno.readTextFile(t.certFile) : undefined,
    keyPem: t?.keyFile ? await Deno.readTextFile(t.keyFile) : undefined,
    servername: url.hostname,
    insecure: t?.insecure ?? false,
    timeoutMs: t?.timeoutMs ?? 2000,
  };
}

/** Dials `url` for `remote`; sets `url.greeting` when INFO was read here. */
export async function dialRemote(
  url: RemoteUrl,
  remote: RemoteLeafOptions,
  _options: ServerOptions,
): Promise<DialedTransport> {
  if (url.ws) {
    const tls = url.tls || !!remote.tls;
    return await dialWebSocket({
      hostname: url.hostname,
      port: url.port,
      path: url.legacyPath ? `/leafnode${url.path}` : `${url.path.replace(/\/$/, "")}/leafnode`,
      tls: tls ? await tlsConfig(remote, url) : undefined,
      compression: remote.wsCompression,
      noMasking: remote.wsNoMasking,
      timeoutMs: DIAL_TIMEOUT_MS + INFO_WAIT_MS,
      proxy: remote.proxy,
      kind: "LEAFNODE_WS",
    });
  }
  if (!url.tls && !remote.tls) {
    const conn = await dialTcp(url.hostname, url.port, DIAL_TIMEOUT_MS);
    try {
      const g = await readGreeting(conn, MAX_INFO, INFO_WAIT_MS);
      if (!infoRequiresTls(g.line)) {
        url.greeting = concatBytes(g.line, g.rest);
        return new TcpTransport(conn, "LEAFNODE");
      }
    } catch (err) {
      conn.close();
      throw err;
    }
    conn.close();
    // The hub requires TLS: start over on a socket that can upgrade.
  }
  const socket = await dialNet(url.hostname, url.port, DIAL_TIMEOUT_MS);
  try {
    const g = await readGreetingNode(socket, MAX_INFO, INFO_WAIT_MS);
    url.greeting = g.line;
    const ts = await startClientTls(socket, await tlsConfig(remote, url));
    return clientTlsTransport(ts, "LEAFNODE");
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
