/** Raw-socket helpers: speak bytes to a server and read back exactly what it sends. */

const enc = new TextEncoder();
const dec = new TextDecoder();

/** What a transcript produced: the server's bytes after INFO and whether it closed. */
export interface TranscriptResult {
  info: Record<string, unknown>;
  text: string;
  closed: boolean;
}

/** Reads from a connection, accumulating text, until `done(text)` or EOF or the deadline. */
export class RawClient {
  text = "";
  closed = false;
  private constructor(readonly conn: Deno.TcpConn) {}

  static async connect(port: number, hostname = "127.0.0.1"): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname, port }));
  }

  async send(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? enc.encode(data) : data;
    let off = 0;
    while (off < bytes.length) off += await this.conn.write(bytes.subarray(off));
  }

  /** Reads until the predicate holds (true), EOF (closed) or the timeout (throws). */
  async readUntil(done: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
    const buf = new Uint8Array(64 * 1024);
    const deadline = Date.now() + timeoutMs;
    while (!done(this.text) && !this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timeout; got ${JSON.stringify(this.text)}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left));
      let n: number | null | "timeout";
      try {
        n = await Promise.race([this.conn.read(buf), timeout]);
      } catch {
        n = null; // reset by peer counts as closed
      } finally {
        clearTimeout(timer);
      }
      if (n === "timeout") throw new Error(`timeout; got ${JSON.stringify(this.text)}`);
      if (n === null) this.closed = true;
      else this.text += dec.decode(buf.subarray(0, n), { stream: true });
    }
    return this.text;
  }

  /** Reads the INFO line and returns its JSON; the rest stays in `text`. */
  async info(): Promise<Record<string, unknown>> {
    await this.readUntil((t) => t.includes("\r\n"));
    const end = this.text.indexOf("\r\n");
    const line = this.text.slice(0, end);
    this.text = this.text.slice(end + 2);
    if (!line.startsWith("INFO ")) throw new Error(`expected INFO, got ${line}`);
    return JSON.parse(line.slice(5));
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/**
 * Sends `chunks` one write each and returns what came back. With `until: "pong"` a PING is
 * appended and reading stops at its PONG (at the `pongs`-th PONG when the chunks send PINGs of
 * their own, so a reply split across reads is not cut short); with `"close"` reading stops at EOF.
 */
export async function transcript(
  port: number,
  chunks: (string | Uint8Array)[],
  until: "pong" | "close",
  timeoutMs = 5000,
  pongs = 1,
): Promise<TranscriptResult> {
  const c = await RawClient.connect(port);
  try {
    const info = await c.info();
    for (const ch of chunks) await c.send(ch);
    if (until === "pong") {
      await c.send("PING\r\n");
      await c.readUntil(
        (t) => t.endsWith("PONG\r\n") && t.split("PONG\r\n").length > pongs,
        timeoutMs,
      );
    } else {
      await c.readUntil(() => false, timeoutMs);
    }
    return { info, text: c.text, closed: c.closed };
  } finally {
    c.close();
  }
}
