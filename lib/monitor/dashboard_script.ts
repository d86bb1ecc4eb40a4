/**
 * The browser side of the monitoring dashboard (`/`), as script text: every `refresh` ms it reads
 * `/varz` and `/connz?sort=pending` (the same JSON endpoints anyone can query), then shows
 * connections by type, rates in and out over the last minutes as a chart, slow consumers and
 * the connections with the most pending bytes. No external assets. What it drew last is kept in
 * `window.natsDashboard` (and each figure's raw number in `data-value`) for tests and tools.
 *
 * Query parameters of the page: `refresh` (ms, default 1000, at least 100) and `window`
 * (seconds of history in the chart, default 300).
 *
 * @module
 */

/** The script; `urls` are the endpoint paths relative to the page (base path applied). */
export function dashboardScript(urls: { varz: string; connz: string }): string {
  return `const URLS = ${JSON.stringify(urls)};\n${SCRIPT}`;
}

// Plain JavaScript run by the browser (no template literals inside, so it embeds as-is).
const SCRIPT = String.raw`
const params = new URLSearchParams(location.search);
const REFRESH = Math.max(100, Number(params.get("refresh")) || 1000);
const WINDOW_S = Math.max(10, Number(params.get("window")) || 300);
const MAX_PAGES = 16; // connz pages read per tick for the per-type counts (1024 each)
const state = { samples: [], latest: null, error: null };
window.natsDashboard = state;

const $ = (id) => document.getElementById(id);
const fmt = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });
function human(n, unit) {
  const units = unit === "B" ? ["B", "KB", "MB", "GB", "TB"] : ["", "K", "M", "G", "T"];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= unit === "B" ? 1024 : 1000; i++; }
  return fmt.format(n) + (units[i] ? " " + units[i] : "");
}
function show(id, value, text) {
  const el = $(id);
  el.dataset.value = String(value);
  el.textContent = text === undefined ? fmt.format(value) : text;
}

async function getJson(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

async function allConnections(first) {
  const conns = first.connections ?? [];
  let page = 1;
  while (conns.length < first.total && page < MAX_PAGES) {
    const next = await getJson(URLS.connz + "?sort=pending&limit=1024&offset=" + conns.length);
    if (!next.connections?.length) break;
    conns.push(...next.connections);
    page++;
  }
  return conns;
}

async function tick() {
  const t = performance.now();
  const [varz, connz] = await Promise.all([
    getJson(URLS.varz),
    getJson(URLS.connz + "?sort=pending&limit=1024"),
  ]);
  const conns = await allConnections(connz);
  const prev = state.samples.at(-1);
  const dt = prev ? (t - prev.t) / 1000 : 0;
  const rate = (k) => (prev && dt > 0 ? Math.max(0, (varz[k] - prev.varz[k]) / dt) : 0);
  const sample = {
    t,
    varz,
    rates: {
      in_msgs: rate("in_msgs"),
      out_msgs: rate("out_msgs"),
      in_bytes: rate("in_bytes"),
      out_bytes: rate("out_bytes"),
    },
    byType: {
      tcp: conns.filter((c) => c.type !== "websocket").length,
      websocket: conns.filter((c) => c.type === "websocket").length,
      leaf: varz.leafnodes ?? 0,
    },
    top: conns.slice(0, 10), // connz sorted them by pending bytes, most first
    counted: conns.length,
  };
  state.samples.push(sample);
  while (state.samples.length > 2 && t - state.samples[0].t > WINDOW_S * 1000) state.samples.shift();
  state.latest = sample;
  render(sample);
}

function render(s) {
  const v = s.varz;
  $("server").textContent = (v.server_name || v.server_id) + " · up " + v.uptime;
  show("conns", v.connections);
  show("tcp", s.byType.tcp);
  show("ws", s.byType.websocket);
  show("leaf", s.byType.leaf);
  show("slow", v.slow_consumers);
  $("slow").parentElement.classList.toggle("warn", v.slow_consumers > 0);
  show("subs", v.subscriptions);
  show("in_msgs_rate", s.rates.in_msgs, human(s.rates.in_msgs) + "/s");
  show("out_msgs_rate", s.rates.out_msgs, human(s.rates.out_msgs) + "/s");
  show("in_bytes_rate", s.rates.in_bytes, human(s.rates.in_bytes, "B") + "/s");
  show("out_bytes_rate", s.rates.out_bytes, human(s.rates.out_bytes, "B") + "/s");
  show("in_msgs", v.in_msgs);
  show("out_msgs", v.out_msgs);
  show("in_bytes", v.in_bytes);
  show("out_bytes", v.out_bytes);
  $("partial").hidden = s.counted >= v.connections;
  drawChart($("msgs"), "msgs/s", ["in_msgs", "out_msgs"], (n) => human(n));
  drawChart($("bytes"), "bytes/s", ["in_bytes", "out_bytes"], (n) => human(n, "B"));
  const rows = s.top.map((c) => {
    const tr = document.createElement("tr");
    const cells = [c.cid, c.type === "websocket" ? "WebSocket" : "TCP", c.ip + ":" + c.port,
      c.name ?? "", human(c.pending_bytes, "B"), fmt.format(c.in_msgs), fmt.format(c.out_msgs),
      fmt.format(c.subscriptions)];
    for (const text of cells) {
      const td = document.createElement("td");
      td.textContent = String(text);
      tr.append(td);
    }
    tr.dataset.cid = String(c.cid);
    return tr;
  });
  $("top").replaceChildren(...rows);
  $("status").textContent = "updated " + new Date().toLocaleTimeString();
  $("status").className = "";
}

const COLORS = { in_msgs: "#2f6fdf", out_msgs: "#1aa37a", in_bytes: "#2f6fdf", out_bytes: "#1aa37a" };

function drawChart(canvas, title, keys, label) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== w * dpr) { canvas.width = w * dpr; canvas.height = h * dpr; }
  const g = canvas.getContext("2d");
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const pts = state.samples.slice(1);
  const left = 64, right = 12, top = 22, bottom = 22;
  const pw = w - left - right, ph = h - top - bottom;
  let max = 1;
  for (const p of pts) for (const k of keys) max = Math.max(max, p.rates[k]);
  max *= 1.1;
  g.font = "12px ui-sans-serif, system-ui, sans-serif";
  g.fillStyle = "#48485c";
  g.fillText(title, left, 14);
  g.strokeStyle = "#e3e3ea";
  g.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = top + ph - (ph * i) / 4;
    g.beginPath(); g.moveTo(left, y); g.lineTo(left + pw, y); g.stroke();
    g.fillText(label((max * i) / 4), 4, y + 4);
  }
  const now = performance.now();
  g.fillText(WINDOW_S < 120 ? "-" + WINDOW_S + " s" : "-" + fmt.format(WINDOW_S / 60) + " min", left, h - 6);
  g.fillText("now", left + pw - 24, h - 6);
  keys.forEach((k, i) => {
    g.strokeStyle = COLORS[k];
    g.lineWidth = 2;
    g.beginPath();
    pts.forEach((p, j) => {
      const x = left + pw - ((now - p.t) / (WINDOW_S * 1000)) * pw;
      const y = top + ph - (p.rates[k] / max) * ph;
      if (j === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
    g.fillStyle = COLORS[k];
    g.fillText(k.startsWith("in") ? "in" : "out", left + 90 + i * 40, 14);
  });
}

async function loop() {
  try {
    await tick();
    state.error = null;
  } catch (err) {
    state.error = String(err);
    $("status").textContent = "cannot reach the server: " + err.message;
    $("status").className = "error";
  }
  setTimeout(loop, REFRESH);
}
loop();
`;
