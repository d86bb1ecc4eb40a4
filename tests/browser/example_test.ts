/**
 * The browser quick start as a newcomer runs it: headless Chromium opens
 * examples/browser/index.html straight from disk (file://, no build step, no network but
 * 127.0.0.1), it connects over WebSocket to the README's config (random port here), shows a
 * message a TCP client publishes, and its Publish button reaches the TCP client.
 */
import { connect } from "nats";
import { assertEquals } from "../helpers/assert.ts";
import { BrowserPage, chromiumTest } from "../helpers/chromium.ts";
import { startServer } from "../../mod.ts";
import { within } from "../packaging/exchange.ts";

const PAGE = new URL("../../examples/browser/index.html", import.meta.url).href;

chromiumTest(
  "browser example: the page shows a message from a TCP client and publishes to it",
  async (chromium) => {
    // The README's config, on a random port.
    await using server = await startServer({
      host: "127.0.0.1",
      port: -1,
      config: "websocket { port: -1, no_tls: true }",
    });
    const tcp = await connect({ servers: server.url });
    const page = await BrowserPage.open(chromium);
    try {
      const fromBrowser = tcp.subscribe("demo.browser", { max: 1 });
      await tcp.flush();
      await page.goto(`${PAGE}?server=${encodeURIComponent(server.wsUrl!)}`);
      assertEquals(
        await page.waitFor<string>(
          `document.querySelector("#status[data-state=ready]")?.textContent`,
          "the connected status",
        ),
        "connected, subscribed to demo.>",
      );
      tcp.publish("demo.hello", "hello from tcp");
      assertEquals(
        await page.waitFor<string>(`document.querySelector("#log li")?.textContent`, "a message"),
        "demo.hello: hello from tcp",
      );
      await page.evaluate(`document.querySelector("#pub button").click()`);
      const got: string[] = [];
      await within(
        (async () => {
          for await (const m of fromBrowser) got.push(`${m.subject}: ${m.string()}`);
        })(),
        "the browser's publish",
      );
      assertEquals(got, ["demo.browser: hello from the browser"]);
      // The page's own message came back to it too (it watches demo.>).
      assertEquals(
        await page.waitFor<string[]>(
          `(() => { const l = [...document.querySelectorAll("#log li")].map((e) => e.textContent);
            return l.length >= 2 && l; })()`,
          "the echo",
        ),
        ["demo.hello: hello from tcp", "demo.browser: hello from the browser"],
      );
    } finally {
      await page.close();
      await tcp.close();
    }
  },
);
