/**
 * The monitoring dashboard (`/`) in headless Chromium while a load runs: TCP and WebSocket
 * clients publish and receive, one raw TCP subscriber never reads (so it holds pending bytes and
 * becomes a slow consumer). A screenshot is taken while the rates are non-zero (written to
 * $DASHBOARD_SCREENSHOT, default a temp file, path printed); the figures the page drew are checked
 * against /varz and /connz, during the load and exactly once it has stopped.
 */
import { connect } from "nats";
import { wsconnect } from "@nats-io/nats-core";
import { assert, assertEquals } from "../helpers/assert.ts";
import { BrowserPage, chromiumTest } from "../helpers/chromium.ts";
import { startServer } from "../../mod.ts";

/** What the page drew: each figure's `data-value`, and the rows of the top table. */
interface Drawn {
  values: Record<string, number>;
  texts: Record<string, string>;
  top: string[];
  samples: number;
}

const READ_DRAWN = `(() => {
  const values = {}, texts = {};
  for (const el of document.querySelectorAll(".stat .value")) {
    values[el.id] = Number(el.dataset.value);
    texts[el.id] = el.textContent;
  }
  const top = [...document.querySelectorAll("#top tr")].map((tr) => tr.dataset.cid);
  return { values, texts, top, samples: window.natsDashboard.samples.length };
})()`;

chromiumTest(
  "dashboard: live figures and chart in Chromium match /varz while a load runs",
  async (chromium) => {
    await using server = await startServer({
      host: "127.0.0.1",
      port: -1,
      config: "max_payload: 64KB\nmax_pending: 16MB\nwebsocket { port: -1, no_tls: true }",
      monitor: { host: "127.0.0.1", port: -1 },
    });
    const varz = async () => await (await fetch(`${server.monitorUrl}/varz`)).json();
    const pub = await connect({ servers: server.url, name: "publisher" });
    const sub = await connect({ servers: server.url, name: "subscriber" });
    const wsSub = await wsconnect({ servers: server.wsUrl!, name: "browser-like" });
    let received = 0;
    sub.subscribe("load.>", { callback: () => void received++ });
    wsSub.subscribe("load.>", { callback: () => void received++ });
    await sub.flush();
    await wsSub.flush();
    // A subscriber that never reads: pending bytes grow until it is a slow consumer.
    const stuck = await Deno.connect({ hostname: "127.0.0.1", port: server.ports.client });
    await stuck.write(
      new TextEncoder().encode('CONNECT {"name":"stuck"}\r\nSUB load.> 1\r\nPING\r\n'),
    );

    const page = await BrowserPage.open(chromium, 1280, 1000);
    let loading = true;
    const payload = new Uint8Array(512);
    const load = (async () => {
      const end = Date.now() + 40_000; // bounded even if the test fails early
      while (loading && Date.now() < end) {
        for (let i = 0; i < 200; i++) pub.publish(`load.${i % 4}`, payload);
        await pub.flush();
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      await page.goto(`${server.monitorUrl}/?refresh=200&window=10`);
      // Rates are non-zero and the chart has a few points: take the screenshot.
      await page.waitFor(
        `window.natsDashboard?.samples.length >= 8 &&
         window.natsDashboard.latest.rates.in_msgs > 0 && window.natsDashboard.latest.rates.out_msgs > 0 &&
         window.natsDashboard.latest.top[0]?.pending_bytes > 0`,
        "non-zero rates and a connection with pending bytes",
      );
      const png = await page.screenshot();
      const shot = Deno.env.get("DASHBOARD_SCREENSHOT") ??
        await Deno.makeTempFile({ prefix: "dashboard", suffix: ".png" });
      await Deno.writeFile(shot, png);
      console.log(`dashboard screenshot: ${shot}`);
      assert(png.length > 10_000, "a real picture");
      // A sample the page fetched after `before` and drew before `after`.
      const seen = await page.evaluate<number>(`window.natsDashboard.samples.length`);
      const before = await varz();
      await page.waitFor(`window.natsDashboard.samples.length >= ${seen + 2}`, "two more samples");
      const during = await page.evaluate<Drawn>(READ_DRAWN);
      const after = await varz();

      const v = during.values;
      assert(v.in_msgs_rate > 0 && v.out_msgs_rate > 0 && v.in_bytes_rate > 0, JSON.stringify(v));
      for (const k of ["in_msgs", "out_msgs", "in_bytes", "out_bytes"]) {
        assert(
          before[k] <= v[k] && v[k] <= after[k],
          `${k}: ${before[k]} <= ${v[k]} <= ${after[k]}`,
        );
      }
      assert(during.top.length >= 3, "the open connections are listed");
      assert(v.in_bytes >= v.in_msgs * 512, "bytes follow messages");
      // A msgs/s rate cannot exceed what arrived over the whole run.
      assert(v.in_msgs_rate <= after.in_msgs, "rate bounded by the total");
      assertEquals(during.texts.tcp, String(v.tcp));

      // Stop the load; once the stuck consumer is cut and the figures settle, every drawn number
      // equals /varz exactly.
      await page.waitFor(
        `window.natsDashboard.latest.varz.slow_consumers >= 1`,
        "the stuck subscriber cut as a slow consumer",
        20_000,
      );
      loading = false;
      await load;
      await page.waitFor(`window.natsDashboard.latest.rates.in_msgs === 0`, "the load stopped");
      const final = await varz();
      const drawn = await page.waitFor<Drawn>(
        `(() => { const d = ${READ_DRAWN};
           return d.values.in_msgs === ${final.in_msgs} && d.values.out_msgs === ${final.out_msgs} && d; })()`,
        "the final totals",
      );
      const dv = drawn.values;
      assertEquals(
        [dv.in_msgs, dv.out_msgs, dv.in_bytes, dv.out_bytes, dv.conns, dv.slow, dv.subs],
        [
          final.in_msgs,
          final.out_msgs,
          final.in_bytes,
          final.out_bytes,
          final.connections,
          final.slow_consumers,
          final.subscriptions,
        ],
      );
      assertEquals([dv.tcp, dv.ws, dv.leaf], [2, 1, 0], "publisher + subscriber, one WebSocket");
      assertEquals(drawn.texts.in_msgs, final.in_msgs.toLocaleString("en-US"));
      const connz = await (await fetch(`${server.monitorUrl}/connz?sort=pending`)).json();
      assertEquals(
        drawn.top,
        connz.connections.map((c: { cid: number }) => String(c.cid)),
        "top table in /connz pending order",
      );
      assert(received > 0, "the load was delivered");
    } finally {
      loading = false;
      await load;
      await page.close();
      try {
        stuck.close();
      } catch { /* closed by the server */ }
      await pub.close();
      await sub.close();
      await wsSub.close();
    }
  },
);
