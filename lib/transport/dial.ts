/**
 * Outbound connections (the soliciting side of leafnodes): TCP with a deadline, reading a
 * greeting line before the peer's protocol takes over, and a client-side TLS upgrade of a socket
 * already in use (the peer speaks first in plaintext, then TLS starts). Bytes only.
 *
 * @module
 */
import type { ConnectionKind } from "../core/kinds.ts";
import { nodeBuiltin } from "../core/node_builtin.ts";
import type net from "node:net";
import type tls from "node:tls";
import { NodeSocketTransport, tlsPeerInfo } from "./tls_server.ts";

/** Dials host:port over TCP, failing after `timeoutMs`. */
export async function dialTcp(
  hostname: string,
  port: number,
  timeoutMs: number,
): Promise<Deno.TcpConn> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const ac = new AbortController();
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      ac.abort();
      reject(new Error(`dial tcp ${hostname}:${port}: i/o timeout`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([Deno.connect({ hostname, port, signal: ac.signal }), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** A line read from a fresh connection and whatever came after it. */
export interface Greeting {
  /** The line including its CRLF. */
  line: Uint8Array;
  /** Bytes read past the line. */
  rest: Uint8Array;
}

const LF = 10;

function splitLine(buf: Uint8Array): Greeting | null {
  const i = buf.indexOf(LF);
  if (i < 0) return null;
  return { line: buf.slice(0, i + 1), rest: buf.slice(i + 1) };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** Reads the first line from a Deno connection (at most `max` bytes, within `timeoutMs`). */
export async function readGreeting(
  conn: Deno.Conn,
  max: number,
  timeoutMs: number,
): Promise<Greeting> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("i/o timeout")), timeoutMs);
  });
  const read = async () => {
    let acc: Uint8Array = new Uint8Array(0);
    const buf = new Uint8Array(4096);
    while (acc.length <= max) {
      const n = await conn.read(buf);
      if (n === null) throw new Error("EOF");
      acc = concat(acc, buf.subarray(0, n));
      const g = splitLine(acc);
      if (g) return g;
    }
    throw new Error("greeting too long");
  };
  try {
    return await Promise.race([read(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Dials host:port with `node:net` (for connections that may upgrade to TLS). */
export function dialNet(hostname: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = nodeBuiltin("node:net").connect({ host: hostname, port });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`dial tcp ${hostname}:${port}: i/o timeout`));
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.off("error", reject);
      resolve(s);
    });
    s.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** Reads the first line from a `node:net` socket, then pauses it. */
export function readGreetingNode(
  socket: net.Socket,
  max: number,
  timeoutMs: number,
): Promise<Greeting> {
  return new Promise((resolve, reject) => {
    let acc: Uint8Array = new Uint8Array(0);
    const done = (err?: Error, g?: Greeting) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.pause();
      if (err) reject(err);
      else resolve(g!);
    };
    const onData = (chunk: Uint8Array) => {
      acc = concat(acc, chunk);
      const g = splitLine(acc);
      if (g) done(undefined, g);
      else if (acc.length > max) done(new Error("greeting too long"));
    };
    const onClose = () => done(new Error("EOF"));
    const timer = setTimeout(() => done(new Error("i/o timeout")), timeoutMs);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.resume();
  });
}

/** Client-side TLS settings (PEM contents). */
export interface ClientTlsConfig {
  caPem?: string;
  certPem?: string;
  keyPem?: string;
  /** Server name to verify (and send as SNI when it is not an IP). */
  servername: string;
  /** Skip verification (`insecure: true`). */
  insecure: boolean;
  timeoutMs: number;
}

/** Runs the client TLS handshake on a connected socket. */
export function startClientTls(socket: net.Socket, cfg: ClientTlsConfig): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const tls = nodeBuiltin("node:tls");
    const isIp = nodeBuiltin("node:net").isIP(cfg.servername) !== 0;
    const ts = tls.connect({
      socket,
      ca: cfg.caPem ? [cfg.caPem] : undefined,
      cert: cfg.certPem,
      key: cfg.keyPem,
      servername: isIp ? undefined : cfg.servername,
      rejectUnauthorized: !cfg.insecure,
      checkServerIdentity: (host, cert) =>
        cfg.insecure ? undefined : tls.checkServerIdentity(isIp ? cfg.servername : host, cert),
    });
    const timer = setTimeout(() => {
      ts.destroy();
      reject(new Error("TLS handshake timeout"));
    }, cfg.timeoutMs);
    ts.once("secureConnect", () => {
      clearTimeout(timer);
      ts.off("error", onErr);
      resolve(ts);
    });
    const onErr = (e: Error) => {
      clearTimeout(timer);
      ts.destroy();
      reject(e);
    };
    ts.once("error", onErr);
    socket.resume();
  });
}

/** A client TLS socket as a protocol transport (peer.tls filled in). */
export function clientTlsTransport(ts: tls.TLSSocket, kind: ConnectionKind): NodeSocketTransport {
  const t = new NodeSocketTransport(ts, {
    kind,
    hostname: ts.remoteAddress ?? "",
    port: ts.remotePort ?? 0,
  });
  t.peer.tls = tlsPeerInfo(ts);
  return t;
}
