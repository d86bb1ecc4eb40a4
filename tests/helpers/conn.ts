/**
 * One raw NATS connection over TCP or WebSocket, for tests that run the same transcript over
 * both. The WebSocket side is Deno's built-in `WebSocket` client sending the protocol bytes in
 * binary frames; what the server sends is concatenated frame payloads.
 */
import { RawClient } from "./raw.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Which listener to dial. */
export type Transport = "tcp" | "ws";

/** A raw connection: send protocol text, read what comes back, see whether it closed. */
export interface RawConn {
  /** Server bytes received after INFO (as text). */
  text: string;
  closed: boolean;
  /** WebSocket close code (ws only, once closed). */
  closeCode?: number;
  info(): Promise<Record<string, unknown>>;
  send(data: string | Uint8Array): Promise<void>;
  /** Reads until `done(text)`, EOF/close, or the timeout (throws). */
  readUntil(done: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Closes and waits (bounded) until the socket is really gone. */
  dispose(): Promise<void>;
}

/** Dials `port` with the given transport. */
export async function dial(transport: Transport, port: number): Promise<RawConn> {
  if (transport === "ws") return await WsConn.connect(port);
  const c = await RawClient.connect(port);
  return Object.assign(c, {
    dispose: () => {
      c.close();
      return Promise.resolve();
    },
  });
}

/** A WebSocket connection speaking raw NATS in binary frames. */
export class WsConn implements RawConn {
  text = "";
  closed = false;
  closeCode?: number;
  private wake: (() => void) | null = null;
  private constructor(private readonly ws: WebSocket) {
    ws.binaryType = "arraybuffer";
    ws.onmessage = (e) => {
      this.text += typeof e.data === "string" ? e.data : dec.decode(new Uint8Array(e.data));
      this.notify();
    };
    ws.onclose = (e) => {
      this.closed = true;
      this.closeCode = e.code;
      this.notify();
    };
    ws.onerror = () => {};
  }

  static async connect(port: number, timeoutMs = 5000): Promise<WsConn> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    const c = new WsConn(ws);
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error("websocket open timeout")), timeoutMs);
        ws.onopen = () => resolve();
        ws.onclose = (e) => reject(new Error(`websocket closed before open: ${e.code}`));
      });
    } finally {
      clearTimeout(timer);
    }
    ws.onclose = (e) => {
      c.closed = true;
      c.closeCode = e.code;
      c.notify();
    };
    return c;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  send(data: string | Uint8Array): Promise<void> {
    if (!this.closed) this.ws.send(typeof data === "string" ? enc.encode(data) : data);
    return Promise.resolve();
  }

  async readUntil(done: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!done(this.text) && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; got ${JSON.stringify(this.text)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
    return this.text;
  }

  async info(): Promise<Record<string, unknown>> {
    await this.readUntil((t) => t.includes("\r\n"));
    const end = this.text.indexOf("\r\n");
    if (end < 0) throw new Error(`closed before INFO: ${JSON.stringify(this.text)}`);
    const line = this.text.slice(0, end);
    this.text = this.text.slice(end + 2);
    if (!line.startsWith("INFO ")) throw new Error(`expected INFO, got ${line}`);
    return JSON.parse(line.slice(5));
  }

  async dispose(): Promise<void> {
    if (!this.closed) {
      try {
        this.ws.close();
      } catch { /* closed */ }
    }
    await this.readUntil(() => false, 3000).catch(() => {});
  }
}
