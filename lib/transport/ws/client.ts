/**
 * The client side of RFC 6455 over a raw socket, for servers that dial out (soliciting leafnodes):
 * optional HTTP CONNECT tunnel through a forward proxy, optional TLS, the HTTP/1.1 upgrade
 * (`permessage-deflate` offered on request, `Nats-No-Masking` on request), then binary frames,
 * masked unless the server agreed not to. Framing is `frames.ts`, shared with the server engines.
 * Bytes only: what runs inside the frames is the caller's business.
 *
 * @module
 */
import { joinHostPort } from "../../core/gofmt.ts";
import type { CloseDescriptor } from "../../core/close_reasons.ts";
import type { ConnectionKind } from "../../core/kinds.ts";
import type net from "node:net";
import type { ByteSink, PeerInfo, Transport } from "../../protocol/transport.ts";
import { type ClientTlsConfig, dialNet, startClientTls } from "../dial.ts";
import { NodeSocketTransport, tlsPeerInfo } from "../tls_server.ts";
import {
  closePayload,
  concatBytes,
  encodeBinaryFrames,
  encodeFrame,
  OPCODE,
  WsFrameDecoder,
} from "./frames.ts";
import { acceptKey } from "./handshake.ts";

/** `proxy { ... }` of a remote: an HTTP CONNECT tunnel. */
export interface WsProxyConfig {
  /** `http://host:port`. */
  url: string;
  username?: string;
  password?: string;
  connectTimeoutMs: number;
}

/** Where and how to dial. */
export interface WsDialOptions {
  hostname: string;
  port: number;
  /** Request path (starts with "/"). */
  path: string;
  /** TLS (wss) settings; plain ws when absent. */
  tls?: ClientTlsConfig;
  /** Offer permessage-deflate. */
  compression: boolean;
  /** Ask the server to accept unmasked frames (`Nats-No-Masking: true`). */
  noMasking: boolean;
  /** Deadline for connect + upgrade. */
  timeoutMs: number;
  proxy?: WsProxyConfig;
  /** The connection kind reported in `peer`. */
  kind: ConnectionKind;
}

const PMD = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";
const HEADER_END = new Uint8Array([13, 10, 13, 10]);
const MAX_HEAD = 16 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function indexOfSeq(buf: Uint8Array, seq: Uint8Array): number {
  outer: for (let i = 0; i + seq.length <= buf.length; i++) {
    for (let j = 0; j < seq.length; j++) if (buf[i + j] !== seq[j]) continue outer;
    return i;
  }
  return -1;
}

/** Writes `req` and reads an HTTP response head; returns it and the bytes after it. */
function exchangeHead(
  socket: net.Socket,
  req: string,
  timeoutMs: number,
  what: string,
): Promise<{ head: string; rest: Uint8Array }> {
  return new Promise((resolve, reject) => {
    let acc: Uint8Array = new Uint8Array(0);
    const finish = (err: Error | null, v?: { head: string; rest: Uint8Array }) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onError);
      socket.pause();
      if (err) reject(err);
      else resolve(v!);
    };
    const onData = (chunk: Uint8Array) => {
      acc = concatBytes([acc, chunk]);
      const end = indexOfSeq(acc, HEADER_END);
      if (end >= 0) {
        finish(null, { head: decoder.decode(acc.subarray(0, end)), rest: acc.slice(end + 4) });
      } else if (acc.length > MAX_HEAD) finish(new Error(`${what}: response head too large`));
    };
    const onClose = () => finish(new Error(`${what}: connection closed`));
    const onError = (e: Error) => finish(e);
    const timer = setTimeout(() => finish(new Error(`${what}: i/o timeout`)), timeoutMs);
    socket.on("data", onData);
    socket.once("close", onClose);
    socket.once("error", onError);
    socket.resume();
    socket.write(encoder.encode(req));
  });
}

function headerValue(head: string, name: string): string | undefined {
  const re = new RegExp(`^${name}:[ \\t]*(.*)$`, "im");
  return re.exec(head)?.[1]?.trim();
}

/** Opens an HTTP CONNECT tunnel to host:port through the proxy. */
async function tunnel(proxy: WsProxyConfig, host: string, port: number): Promise<net.Socket> {
  const u = new URL(proxy.url);
  const pport = u.port ? Number(u.port) : (u.protocol === "https:" ? 443 : 80);
  const socket = await dialNet(u.hostname.replace(/^\[|\]$/g, ""), pport, proxy.connectTimeoutMs);
  const target = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  let req = `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n`;
  if (proxy.username !== undefined) {
    const cred = btoa(`${proxy.username}:${proxy.password ?? ""}`);
    req += `Proxy-Authorization: Basic ${cred}\r\n`;
  }
  req += "\r\n";
  try {
    const { head } = await exchangeHead(socket, req, proxy.connectTimeoutMs, "proxy CONNECT");
    const status = head.split("\r\n")[0];
    if (!/^HTTP\/1\.[01] 200\b/.test(status)) {
      throw new Error(`proxy CONNECT to ${target} refused: ${status}`);
    }
    return socket;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** Dials a WebSocket server and completes the upgrade. */
export async function dialWebSocket(o: WsDialOptions): Promise<WsClientTransport> {
  let socket: net.Socket = o.proxy
    ? await tunnel(o.proxy, o.hostname, o.port)
    : await dialNet(o.hostname, o.port, o.timeoutMs);
  try {
    let tlsPeer;
    if (o.tls) {
      const ts = await startClientTls(socket, o.tls);
      tlsPeer = tlsPeerInfo(ts);
      socket = ts;
    }
    const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
    const host = joinHostPort(o.hostname, o.port);
    let req = `GET ${o.path || "/"} HTTP/1.1\r\nHost: ${host}\r\n` +
      "User-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\n" +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n`;
    if (o.compression) req += `Sec-Websocket-Extensions: ${PMD}\r\n`;
    if (o.noMasking) req += "Nats-No-Masking: true\r\n";
    req += "Upgrade: websocket\r\n\r\n";
    const { head, rest } = await exchangeHead(socket, req, o.timeoutMs, "websocket upgrade");
    const status = head.split("\r\n")[0];
    if (!/^HTTP\/1\.1 101\b/.test(status)) {
      throw new Error(`invalid websocket connection: ${status}`);
    }
    if (headerValue(head, "Sec-WebSocket-Accept") !== acceptKey(key)) {
      throw new Error("invalid websocket connection: bad Sec-WebSocket-Accept");
    }
    const ext = headerValue(head, "Sec-WebSocket-Extensions") ?? "";
    const compress = o.compression && ext.includes("permessage-deflate");
    const unmasked = o.noMasking && /true/i.test(headerValue(head, "Nats-No-Masking") ?? "");
    const peer: PeerInfo = {
      kind: o.kind,
      hostname: socket.remoteAddress ?? o.hostname,
      port: socket.remotePort ?? o.port,
    };
    if (tlsPeer) peer.tls = tlsPeer;
    return new WsClientTransport(socket, peer, { compress, mask: !unmasked }, rest);
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

/** An upgraded client WebSocket as a protocol transport. */
export class WsClientTransport implements Transport {
  readonly peer: PeerInfo;
  readonly #socket: net.Socket;
  readonly #compress: boolean;
  readonly #mask: boolean;
  readonly #decoder = new WsFrameDecoder({ noMasking: true, maskReplies: true });
  #pending: Uint8Array;
  #closed = false;

  constructor(
    socket: net.Socket,
    peer: PeerInfo,
    o: { compress: boolean; mask: boolean },
    pending: Uint8Array,
  ) {
    this.#socket = socket;
    this.peer = peer;
    this.#compress = o.compress;
    this.#mask = o.mask;
    this.#pending = pending;
    try {
      socket.setNoDelay(true);
    } catch { /* not TCP */ }
  }

  /** Whether permessage-deflate was negotiated. */
  get compressed(): boolean {
    return this.#compress;
  }

  write(data: Uint8Array): Promise<void> {
    if (this.#closed || this.#socket.destroyed) return Promise.reject(new Error("socket closed"));
    const frames = concatBytes(
      encodeBinaryFrames(data, { compress: this.#compress, mask: this.#mask }),
    );
    return this.#raw(frames);
  }

  #raw(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(bytes, (err?: Error | null) => err ? reject(err) : resolve());
    });
  }

  close(_how?: CloseDescriptor): void {
    if (this.#closed) return;
    this.#closed = true;
    if (!this.#socket.destroyed) {
      this.#socket.end(encodeFrame(OPCODE.CLOSE, closePayload(1000), { mask: this.#mask }));
      setTimeout(() => this.#socket.destroy(), 100);
    }
  }

  /** Delivers the unframed bytes to `sink` until EOF, error or close. */
  readInto(sink: ByteSink): Promise<void> {
    const raw = new NodeSocketTransport(this.#socket, this.peer);
    let done = false;
    const onBytes = (chunk: Uint8Array) => {
      if (done) return;
      for (const ev of this.#decoder.feed(chunk)) {
        if (ev.type === "data") sink.receive(ev.data);
        else if (ev.type === "ping") this.#raw(ev.reply).catch(() => {});
        else if (ev.type === "close" || ev.type === "error") {
          if (ev.type === "close") this.#raw(ev.reply).catch(() => {});
          done = true;
          sink.transportClosed(ev.type === "error" ? new Error(ev.message) : undefined);
          this.#closed = true;
          raw.close();
          return;
        }
      }
    };
    const pending = this.#pending;
    this.#pending = new Uint8Array(0);
    const reading = raw.readInto({
      receive: onBytes,
      transportClosed: (err) => {
        if (done) return;
        done = true;
        sink.transportClosed(this.#closed ? undefined : err);
        this.#closed = true;
      },
    });
    if (pending.length) onBytes(pending);
    this.#socket.resume();
    return reading;
  }
}
