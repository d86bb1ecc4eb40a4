/**
 * A real browser over WebSocket: headless Chromium (Debian's `chromium`) loads a page served by
 * this test; the page runs @nats-io/nats-core `wsconnect` (bundled for the browser at test time
 * with `deno bundle --platform browser`, which fetches esbuild from the npm registry once) and
 * exchanges messages, headers and a request with an npm:nats TCP client on the other side.
 *
 * Chromium is driven over its DevTools protocol with Deno's built-in WebSocket: it is started
 * with `--remote-debugging-port=0`, the `DevTools listening on ws://…` line is read from its
 * stderr, then Target.createTarget / Target.attachToTarget{flatten} / Runtime.evaluate (polled
 * until the page reports) / Browser.close. The process is killed in `finally`.
 *
 * Skips (with a printed reason) when chromium is not installed.
 */
import { connect, headers as natsHeaders } from "nats";
import { assert, assertEquals } from "../helpers/assert.ts";
import { startOurs } from "../helpers/server.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURES = new URL("../fixtures/browser/", import.meta.url).pathname;

function chromiumPath(): string | null {
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not there */ }
  }
  return null;
}

/** Bundles the browser client into `dir/client.js`. */
async function bundleClient(dir: string): Promise<string> {
  const out = `${dir}/client.js`;
  const r = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform",
      "browser",
      "--format",
      "esm",
      "--config",
      `${ROOT}deno.json`,
      "-o",
      out,
      `${FIXTURES}client_entry.ts`,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`deno bundle failed:\n${dec.decode(r.stderr)}`);
  return await Deno.readTextFile(out);
}

/** Minimal Chrome DevTools Protocol client over Deno's WebSocket. */
class Cdp {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      const p = msg.id !== undefined ? this.pending.get(msg.id) : undefined;
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(JSON.stringify(msg.error)));
      else p.resolve(msg.result ?? {});
    };
    ws.onclose = () => {
      for (const p of this.pending.values()) p.reject(new Error("CDP socket closed"));
      this.pending.clear();
    };
  }

  static async open(url: string, timeoutMs = 10_000): Promise<Cdp> {
    const ws = new WebSocket(url);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise<void>((resolve, reject) => {
        ws.onopen = () => resolve();
        ws.onerror = () => reject(new Error("CDP connect failed"));
      }),
      new Promise<void>((_, reject) =>
        timer = setTimeout(() => reject(new Error("CDP connect timeout")), timeoutMs)
      ),
    ]).finally(() => clearTimeout(timer));
    return new Cdp(ws);
  }

  send(
    method: string,
    params: Record<string, unknown> = {},
    sessionId?: string,
    timeoutMs = 10_000,
  ): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const msg: Record<string, unknown> = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    let timer: ReturnType<typeof setTimeout> | undefined;
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`CDP ${method} timed out`));
      }, timeoutMs);
      this.ws.send(JSON.stringify(msg));
    }).finally(() => clearTimeout(timer));
  }

  close(): void {
    try {
      this.ws.close();
    } catch { /* closed */ }
  }
}

/** Reads chromium's stderr until the DevTools endpoint line (bounded). */
async function devtoolsUrl(
  stderr: ReadableStream<Uint8Array>,
  timeoutMs = 20_000,
): Promise<{ url: string; log: () => string }> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  let url: string | undefined;
  while (url === undefined) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`no DevTools line from chromium:\n${text}`);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const r = await Promise.race([
      reader.read(),
      new Promise<"timeout">((res) => timer = setTimeout(() => res("timeout"), left)),
    ]);
    clearTimeout(timer);
    if (r === "timeout") continue;
    if (r.done) throw new Error(`chromium exited:\n${text}`);
    text += r.value;
    url = /DevTools listening on (ws:\/\/\S+)/.exec(text)?.[1];
  }
  // Keep draining so chromium never blocks on a full pipe.
  (async () => {
    try {
      while (true) {
        const r = await reader.read();
        if (r.done) break;
        text += r.value;
      }
    } catch { /* closed */ }
  })();
  return { url, log: () => text };
}

Deno.test({
  name: "browser: headless chromium (nats-core wsconnect) ↔ npm:nats TCP client",
  async fn() {
    const chromium = chromiumPath();
    if (!chromium) {
      console.log("chromium not installed (apt-get install chromium): browser test skipped");
      return;
    }
    const tmp = await Deno.makeTempDir({ prefix: "natsbrowser" });
    const s = await startOurs(`websocket { listen: "127.0.0.1:-1", no_tls: true }`);
    const tcp = await connect({ servers: `127.0.0.1:${s.port}` });
    let child: Deno.ChildProcess | undefined;
    let web: Deno.HttpServer<Deno.NetAddr> | undefined;
    let cdp: Cdp | undefined;
    try {
      const bundle = await bundleClient(tmp);
      const page = await Deno.readTextFile(`${FIXTURES}page.html`);
      web = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
        const path = new URL(req.url).pathname;
        if (path === "/") return new Response(page, { headers: { "content-type": "text/html" } });
        if (path === "/client.js") {
          return new Response(bundle, { headers: { "content-type": "text/javascript" } });
        }
        return new Response("not found", { status: 404 });
      });

      // The TCP side: when the page says it is subscribed, send it a big message with a header;
      // collect what it publishes; answer its request.
      const big = "B".repeat(10_000);
      tcp.subscribe("browser.ready", {
        callback: () => {
          const h = natsHeaders();
          h.set("X-From", "tcp");
          tcp.publish("browser.in", enc.encode(big), { headers: h });
        },
      });
      const fromBrowser: string[] = [];
      tcp.subscribe("browser.out", {
        callback: (_e, m) => {
          fromBrowser.push(`${dec.decode(m.data)}|${m.headers?.get("X-From")}`);
        },
      });
      tcp.subscribe("svc.tcp", {
        callback: (_e, m) => {
          m.respond(enc.encode(`pong:${dec.decode(m.data)}`));
        },
      });
      await tcp.flush();

      const profile = `${tmp}/profile`;
      await Deno.mkdir(profile);
      child = new Deno.Command(chromium, {
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--no-first-run",
          "--disable-quic",
          "--remote-debugging-port=0",
          `--user-data-dir=${profile}`,
          "about:blank",
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const dt = await devtoolsUrl(child.stderr);
      cdp = await Cdp.open(dt.url);
      const pageUrl = `http://127.0.0.1:${web.addr.port}/?ws=${s.wsPort}`;
      const { targetId } = await cdp.send("Target.createTarget", { url: pageUrl });
      const { sessionId } = await cdp.send("Target.attachToTarget", {
        targetId,
        flatten: true,
      });
      // Poll the page until it reports (the page has no way to push to us but the console).
      let result: string | null = null;
      const deadline = Date.now() + 30_000;
      while (result === null && Date.now() < deadline) {
        const r = await cdp.send("Runtime.evaluate", {
          expression: "globalThis.__result ?? null",
          returnByValue: true,
        }, sessionId as string);
        const v = (r.result as { value?: unknown } | undefined)?.value;
        if (typeof v === "string") result = v;
        else await new Promise((res) => setTimeout(res, 100));
      }
      assert(result !== null, `the page did not report in time\n${dt.log()}`);
      const report = JSON.parse(result);
      assertEquals(report.error, undefined);
      assertEquals(report.ok, true);
      assert(String(report.userAgent).startsWith("Mozilla/"), report.userAgent);
      assertEquals(report.received, {
        subject: "browser.in",
        length: big.length,
        header: "tcp",
        head: "BBBBBBBBBB",
      });
      assertEquals(report.reply, "pong:ping");
      // The page flushed before reporting, so its publish is already at the server.
      await tcp.flush();
      assertEquals(fromBrowser, ["hello from chromium|chromium"]);
      await cdp.send("Browser.close").catch(() => {});
    } finally {
      cdp?.close();
      if (child) {
        try {
          child.kill("SIGKILL");
        } catch { /* exited */ }
        await child.status;
      }
      await web?.shutdown();
      await tcp.close();
      await s.stop();
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
