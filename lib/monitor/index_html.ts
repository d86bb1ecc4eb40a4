/**
 * The monitoring root page: the reference's version line and a link per endpoint (relative to the
 * base path as the reference writes them: `href=./varz`, or `href=./base/varz` under
 * `http_base_path`), plus, beyond nats-server, a live dashboard drawn in the browser from
 * `/varz` and `/connz` (see dashboard_script.ts). Everything is inline: no external assets.
 *
 * @module
 */
import { dashboardScript } from "./dashboard_script.ts";

/** Link text and endpoint path, in the reference's order. */
const LINKS: [string, string][] = [
  ["General", "/varz"],
  ["JetStream", "/jsz"],
  ["Connections", "/connz"],
  ["Accounts", "/accountz"],
  ["Subscriptions", "/subsz"],
  ["Routes", "/routez"],
  ["LeafNodes", "/leafz"],
  ["Gateways", "/gatewayz"],
  ["Health Probe", "/healthz"],
];

/** One figure of the dashboard: a label and a value filled in by the script. */
function stat(id: string, label: string, cls = ""): string {
  return `<div class="stat ${cls}"><div class="label">${label}</div><div class="value" id="${id}">–</div></div>`;
}

/** The page; `path` maps an endpoint to its served path (base path joined). */
export function indexHtml(version: string, path: (p: string) => string): string {
  const links = LINKS.map(([text, p], i) =>
    `      <a href=.${path(p)}${i === LINKS.length - 1 ? " class=last" : ""}>${text}</a>`
  ).join("\n");
  const script = dashboardScript({ varz: `.${path("/varz")}`, connz: `.${path("/connz")}` });
  return `<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>NATS Server monitoring</title>
    <style type="text/css">
      body { font-family: ui-sans-serif, system-ui, sans-serif; font-size: 15px; margin: 0 32px; color: rgb(40 40 56) }
      header { display: flex; align-items: baseline; gap: 16px }
      h1 { margin: 16px 0 8px }
      h2 { font-size: 15px; margin: 18px 0 6px; color: rgb(72 72 92) }
      .layout { display: flex; gap: 32px }
      nav { min-width: 150px }
      nav a { display: block; margin-left: 7px; padding-bottom: 6px; color: rgb(72 72 92); text-decoration: none }
      nav a:hover { font-weight: 600; color: rgb(59 50 202) }
      nav a.last { padding-bottom: 16px }
      nav a.help { font-weight: 600; color: rgb(59 50 202) }
      main { flex: 1; min-width: 0 }
      .version, #server, #status { font-size: 13px; color: rgb(72 72 92) }
      #status.error { color: rgb(180 30 30) }
      .stats { display: grid; grid-template-columns: repeat(6, 1fr); gap: 8px; margin-bottom: 8px }
      .stats.four { grid-template-columns: repeat(4, 1fr) }
      .stat { border: 1px solid rgb(225 225 234); border-radius: 6px; padding: 6px 10px }
      .stat .label { font-size: 12px; color: rgb(100 100 120) }
      .stat .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums }
      .stat.in .value { color: #2f6fdf }
      .stat.out .value { color: #1aa37a }
      .stat.warn .value { color: rgb(190 90 0) }
      canvas { width: 100%; height: 170px; display: block; border: 1px solid rgb(225 225 234); border-radius: 6px; margin-bottom: 8px }
      table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums }
      th, td { text-align: left; padding: 3px 8px; border-bottom: 1px solid rgb(235 235 240) }
      th { color: rgb(100 100 120); font-weight: 500 }
    </style>
  </head>
  <body>
    <header>
      <h1>NATS</h1>
      <div class="version">v${version} (natsd, Deno)</div>
      <div id="server"></div>
    </header>
    <div class="layout">
    <nav>
${links}
      <a href=https://docs.nats.io/running-a-nats-service/nats_admin/monitoring class="help">Help</a>
    </nav>
    <main>
      <h2>Connections</h2>
      <div class="stats">
        ${stat("conns", "Total")}${stat("tcp", "TCP")}${stat("ws", "WebSocket")}${
    stat("leaf", "Leaf")
  }${stat("slow", "Slow consumers")}${stat("subs", "Subscriptions")}
      </div>
      <div id="partial" hidden>(per-type counts cover the first 16384 connections)</div>
      <h2>Traffic</h2>
      <div class="stats four">
        ${stat("in_msgs_rate", "Msgs in", "in")}${stat("out_msgs_rate", "Msgs out", "out")}${
    stat("in_bytes_rate", "Bytes in", "in")
  }${stat("out_bytes_rate", "Bytes out", "out")}
      </div>
      <div class="stats four">
        ${stat("in_msgs", "Msgs in, total")}${stat("out_msgs", "Msgs out, total")}${
    stat("in_bytes", "Bytes in, total")
  }${stat("out_bytes", "Bytes out, total")}
      </div>
      <h2>Rates, last minutes</h2>
      <canvas id="msgs"></canvas>
      <canvas id="bytes"></canvas>
      <h2>Top connections by pending bytes</h2>
      <table>
        <thead><tr><th>cid</th><th>type</th><th>address</th><th>name</th><th>pending</th><th>msgs in</th><th>msgs out</th><th>subs</th></tr></thead>
        <tbody id="top"></tbody>
      </table>
      <p id="status">loading…</p>
    </main>
    </div>
    <script>
${script}
    </script>
  </body>
</html>`;
}
