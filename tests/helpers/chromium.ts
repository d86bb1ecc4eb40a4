/**
 * Drives Debian's headless `chromium` for browser tests: the browser side
 * (tests/fixtures/browser/client_entry.ts) is bundled once per test process with
 * `deno bundle --platform browser` (which fetches esbuild from the npm registry once), a page is
 * served from 127.0.0.1, and chromium is driven over its DevTools protocol with Deno's built-in
 * WebSocket: started with `--remote-debugging-port=0`, the `DevTools listening on ws://…` line is
 * read from its stderr, then Target.createTarget(about:blank) / Target.attachToTarget{flatten} /
 * Runtime.enable / Runtime.addBinding / Page.navigate, and the page's report arrives as a
 * Runtime.bindingCalled event; then Browser.close. The process is killed in `finally`; every
 * wait is bounded.
 */

const dec = new TextDecoder();
const ROOT = new URL("../../", import.meta.url).pathname;
const FIXTURES = new URL("../fixtures/browser/", import.meta.url).pathname;

/** Path of the chromium binary, or null (then browser tests skip and say why). */
export function chromiumPath(): string | null {
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not there */ }
  }
  return null;
}

/** The chromium binary, or null after printing why the calling test is skipped. */
export function chromiumOrSkip(): string | null {
  const chromium = chromiumPath();
  if (!chromium) console.log("chromium not installed (apt-get install chromium): test skipped");
  return chromium;
}

/** A Deno test that runs `fn` with the chromium binary, or skips (saying why) without it. */
export function chromiumTest(name: string, fn: (chromium: string) => Promise<void>): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const chromium = chromiumOrSkip();
      if (chromium) await fn(chromium);
    },
  });
}

let bundled: Promise<string> | undefined;

/** The browser client bundle (built on first use, then reused by every test in this process). */
function clientBundle(): Promise<string> {
  bundled ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "natsbundle" });
    try {
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
    } finally {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  })();
  return bundled;
}

/** Minimal Chrome DevTools Protocol client over Deno's WebSocket: commands and events. */
class Cdp {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }
  >();
  private readonly listeners = new Set<(method: string, params: Record<string, unknown>) => void>();
  private constructor(private readonly ws: WebSocket) {
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data));
      if (msg.id === undefined) {
        for (const l of this.listeners) l(msg.method, msg.params ?? {});
        return;
      }
      const p = this.pending.get(msg.id);
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

  /** Calls `fn` for every event until the returned function is called. */
  onEvent(fn: (method: string, params: Record<string, unknown>) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  close(): void {
    try {
      this.ws.close();
    } catch { /* closed */ }
  }
}

/** Reads chromium's stderr until the DevTools endpoint line (bounded), then keeps draining. */
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

/** What the page reported, parsed from JSON. */
export type PageReport = Record<string, unknown>;

/** Name of the binding the page calls with its JSON report (see client_entry.ts). */
const REPORT_BINDING = "__natsReport";

/**
 * Serves the test page with `query` as its search parameters (the page reads `ws`, the
 * WebSocket port, and `case`, which scenario to run), opens it in a fresh headless chromium and
 * returns the page's report. The report arrives as an event: a `Runtime.addBinding` function the
 * page calls when done (installed on about:blank before navigating, so it cannot be missed).
 * Throws with the page's console and chromium's stderr when the page does not report within
 * `timeoutMs`.
 */
export async function runChromiumPage(
  chromium: string,
  query: Record<string, string>,
  timeoutMs = 30_000,
  /** `Set-Cookie` values sent with the page (cookies apply to every port of 127.0.0.1). */
  setCookies: string[] = [],
): Promise<PageReport> {
  const bundle = await clientBundle();
  const page = await Deno.readTextFile(`${FIXTURES}page.html`);
  let web: Deno.HttpServer<Deno.NetAddr> | undefined;
  let browser: BrowserPage | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    web = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/") {
        const headers = new Headers({ "content-type": "text/html" });
        for (const c of setCookies) headers.append("set-cookie", c);
        return new Response(page, { headers });
      }
      if (path === "/client.js") {
        return new Response(bundle, { headers: { "content-type": "text/javascript" } });
      }
      return new Response("not found", { status: 404 });
    });
    browser = await BrowserPage.open(chromium);
    const b = browser;
    let stopListening = () => {};
    const reported = new Promise<string>((resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(new Error(`the page did not report within ${timeoutMs} ms\n${b.diagnostics()}`)),
        timeoutMs,
      );
      stopListening = b.cdp.onEvent((method, params) => {
        if (method === "Runtime.bindingCalled" && params.name === REPORT_BINDING) {
          resolve(String(params.payload));
        }
      });
    });
    reported.catch(() => {}); // observed below; avoid an unhandled rejection if setup throws
    await b.send("Runtime.addBinding", { name: REPORT_BINDING });
    await b.goto(`http://127.0.0.1:${web.addr.port}/?${new URLSearchParams(query)}`);
    const result = await reported.finally(() => stopListening());
    return JSON.parse(result);
  } finally {
    clearTimeout(timer);
    await browser?.close();
    await web?.shutdown();
  }
}

/**
 * One tab of a fresh headless chromium, driven over the DevTools protocol: navigate, evaluate
 * expressions, wait for a condition in the page (bounded), take screenshots. The page's console
 * and exceptions are collected for error messages. Always `close()` it (kills chromium).
 */
export class BrowserPage {
  readonly consoleLines: string[] = [];
  private constructor(
    private readonly child: Deno.ChildProcess,
    private readonly tmp: string,
    readonly cdp: Cdp,
    private readonly sid: string,
    private readonly chromiumLog: () => string,
  ) {
    cdp.onEvent((method, params) => {
      if (method === "Runtime.consoleAPICalled") {
        const args = (params.args as { value?: unknown; description?: string }[]) ?? [];
        this.consoleLines.push(
          `${params.type}: ${args.map((a) => a.description ?? String(a.value)).join(" ")}`,
        );
      } else if (method === "Runtime.exceptionThrown") {
        this.consoleLines.push(`exception: ${JSON.stringify(params.exceptionDetails)}`);
      }
    });
  }

  /** Starts chromium with a blank tab (`width` x `height` CSS pixels). */
  static async open(chromium: string, width = 1280, height = 900): Promise<BrowserPage> {
    const tmp = await Deno.makeTempDir({ prefix: "natsbrowser" });
    const profile = `${tmp}/profile`;
    await Deno.mkdir(profile);
    const child = new Deno.Command(chromium, {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        "--hide-scrollbars",
        `--window-size=${width},${height}`,
        "--remote-debugging-port=0",
        `--user-data-dir=${profile}`,
        "about:blank",
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    try {
      const dt = await devtoolsUrl(child.stderr);
      const cdp = await Cdp.open(dt.url);
      const { targetId } = await cdp.send("Target.createTarget", { url: "about:blank" });
      const { sessionId } = await cdp.send("Target.attachToTarget", { targetId, flatten: true });
      const page = new BrowserPage(child, tmp, cdp, sessionId as string, dt.log);
      await page.send("Runtime.enable");
      await page.send("Emulation.setDeviceMetricsOverride", {
        width,
        height,
        deviceScaleFactor: 1,
        mobile: false,
      });
      return page;
    } catch (err) {
      await killChromium(child, tmp);
      throw err;
    }
  }

  /** A DevTools command on this tab. */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.cdp.send(method, params, this.sid);
  }

  /** Navigates and waits for the load event (bounded). */
  async goto(url: string, timeoutMs = 15_000): Promise<void> {
    await this.send("Page.enable");
    let stop = () => {};
    let timer: ReturnType<typeof setTimeout> | undefined;
    const loaded = new Promise<void>((resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${url} did not load\n${this.diagnostics()}`)),
        timeoutMs,
      );
      stop = this.cdp.onEvent((method) => method === "Page.loadEventFired" && resolve());
    });
    loaded.catch(() => {});
    try {
      const r = await this.send("Page.navigate", { url });
      if (r.errorText) throw new Error(`navigate ${url}: ${r.errorText}`);
      await loaded;
    } finally {
      clearTimeout(timer);
      stop();
    }
  }

  /** Evaluates `expression` in the page (promises awaited); returns its JSON value. */
  async evaluate<T = unknown>(expression: string, timeoutMs = 10_000): Promise<T> {
    const r = await this.cdp.send(
      "Runtime.evaluate",
      { expression, awaitPromise: true, returnByValue: true },
      this.sid,
      timeoutMs,
    );
    if (r.exceptionDetails) {
      throw new Error(`page threw: ${JSON.stringify(r.exceptionDetails)}\n${this.diagnostics()}`);
    }
    return (r.result as { value: T }).value;
  }

  /**
   * Resolves with the first truthy value of `expression`, checked in the page on every animation
   * frame; throws after `timeoutMs` naming `what`.
   */
  async waitFor<T = unknown>(expression: string, what: string, timeoutMs = 15_000): Promise<T> {
    const value = await this.evaluate<T | null>(
      `new Promise((resolve) => {
        const end = performance.now() + ${timeoutMs};
        const check = () => {
          let v = null;
          try { v = (${expression}); } catch { v = null; }
          if (v || performance.now() > end) resolve(v || null);
          else requestAnimationFrame(check);
        };
        check();
      })`,
      timeoutMs + 5_000,
    );
    if (!value) {
      throw new Error(`page: ${what} not seen within ${timeoutMs} ms\n${this.diagnostics()}`);
    }
    return value;
  }

  /** A PNG of the viewport. */
  async screenshot(): Promise<Uint8Array> {
    const r = await this.send("Page.captureScreenshot", { format: "png" });
    return Uint8Array.fromBase64(String(r.data));
  }

  /** The page's console and chromium's stderr, for error messages. */
  diagnostics(): string {
    return `page console:\n${this.consoleLines.join("\n")}\nchromium:\n${this.chromiumLog()}`;
  }

  async close(): Promise<void> {
    await this.cdp.send("Browser.close").catch(() => {});
    this.cdp.close();
    await killChromium(this.child, this.tmp);
  }
}

async function killChromium(child: Deno.ChildProcess, tmp: string): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* exited */ }
  await child.status;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
}
