/**
 * The floor of one server hop on this runtime: sequential PING → PONG round trips (one read and
 * one write on the server per round trip) against
 *   - a minimal Deno TCP server (its own process) that answers every read ending in PING with
 *     PONG (the runtime's I/O floor),
 *   - this server (`main.ts`),
 *   - nats-server,
 * interleaved, same client. `deno run -A bench/experiments/hop_latency.ts [rounds]`
 */
import { portOpen } from "../loadgen/targets.ts";

const ROUNDS = Number(Deno.args[0] === "--echo" ? 0 : Deno.args[0] ?? 20000);
const enc = new TextEncoder();
const PING = enc.encode("PING\r\n");
const PONG = enc.encode("PONG\r\n");

function startEcho(port: number): void {
  const l = Deno.listen({ hostname: "127.0.0.1", port });
  (async () => {
    for await (const c of l) {
      c.setNoDelay(true);
      (async () => {
        const buf = new Uint8Array(1024);
        await c.write(enc.encode('INFO {"server_id":"echo"}\r\n'));
        try {
          while (true) {
            const n = await c.read(buf);
            if (n === null) break;
            if (n >= 6 && buf[n - 6] === 80 && buf[n - 5] === 73) await c.write(PONG);
          }
        } catch { /* closed */ }
      })();
    }
  })().catch(() => {});
}

if (Deno.args[0] === "--echo") {
  startEcho(Number(Deno.args[1]));
  await new Promise(() => {});
}

async function waitPort(port: number): Promise<void> {
  if (!(await portOpen(port, 10_000))) throw new Error(`port ${port} never opened`);
}

async function rounds(port: number, n: number): Promise<number[]> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  c.setNoDelay(true);
  const buf = new Uint8Array(4096);
  await c.read(buf); // INFO
  await c.write(enc.encode('CONNECT {"verbose":false}\r\n'));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await c.write(PING);
    let got = "";
    while (!got.endsWith("PONG\r\n")) {
      const k = await c.read(buf);
      if (k === null) throw new Error("closed");
      got += new TextDecoder().decode(buf.subarray(0, k));
    }
    out.push((performance.now() - t) * 1000);
  }
  c.close();
  return out;
}

function pct(a: number[], p: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

const here = new URL("../../main.ts", import.meta.url).pathname;
const oursPort = 14000 + Math.floor(Math.random() * 1000);
const natsPort = oursPort + 1000;
const ours = new Deno.Command("deno", {
  args: ["run", "-A", here, "-a", "127.0.0.1", "-p", String(oursPort)],
  stdout: "null",
  stderr: "null",
}).spawn();
let nats: Deno.ChildProcess | null = null;
try {
  nats = new Deno.Command("nats-server", {
    args: ["-a", "127.0.0.1", "-p", String(natsPort)],
    stdout: "null",
    stderr: "null",
  }).spawn();
} catch { /* not installed */ }
const echoPort = natsPort + 1000;
const echo = new Deno.Command("deno", {
  args: ["run", "-A", new URL(import.meta.url).pathname, "--echo", String(echoPort)],
  stdout: "null",
  stderr: "null",
}).spawn();
await waitPort(echoPort);
await waitPort(oursPort);
if (nats) await waitPort(natsPort);

const targets: [string, number][] = [["deno-echo (minimal server)", echoPort], [
  "ours",
  oursPort,
]];
if (nats) targets.push(["nats-server", natsPort]);
const all = new Map<string, number[]>(targets.map(([n]) => [n, []]));
for (const [, p] of targets) await rounds(p, 2000); // warm up
for (let rep = 0; rep < 5; rep++) {
  for (const [name, port] of rep % 2 ? [...targets].reverse() : targets) {
    all.get(name)!.push(...await rounds(port, ROUNDS / 5));
  }
}
console.log("target                         p50 µs   p90 µs   p99 µs");
for (const [name, a] of all) {
  console.log(
    name.padEnd(30),
    pct(a, 0.5).toFixed(1).padStart(7),
    pct(a, 0.9).toFixed(1).padStart(8),
    pct(a, 0.99).toFixed(1).padStart(8),
  );
}
ours.kill();
nats?.kill();
echo.kill();
await echo.status;
await ours.status;
if (nats) await nats.status;
