/**
 * Server CPU per request/reply round trip, and the round trip's latency, ours vs nats-server:
 * a responder and a requester (two sockets of this process) do sequential 16 B requests; the
 * server's user+system CPU time (from /proc/<pid>/stat) over the run is divided by the count.
 * CPU per round trip does not depend much on other load on the machine, unlike latency.
 * `deno run -A bench/experiments/reqrep_cpu.ts [rounds] [payload bytes]`
 */
const ROUNDS = Number(Deno.args[0] ?? 20000);
const SIZE = Number(Deno.args[1] ?? 16);
const enc = new TextEncoder();
const TICK_US = 10_000; // USER_HZ = 100 on Linux

async function cpuUs(pid: number): Promise<number> {
  const f = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1].split(" ");
  return (Number(f[11]) + Number(f[12])) * TICK_US; // utime, stime (fields 14, 15)
}

async function dial(port: number): Promise<Deno.TcpConn> {
  for (let i = 0; i < 200; i++) {
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port });
      c.setNoDelay(true);
      const b = new Uint8Array(65536);
      await c.read(b); // INFO
      await c.write(enc.encode('CONNECT {"verbose":false}\r\nPING\r\n'));
      await c.read(b); // PONG
      return c;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`no server on ${port}`);
}

async function run(port: number, n: number): Promise<number[]> {
  const resp = await dial(port);
  const req = await dial(port);
  const payload = "x".repeat(SIZE);
  const b = new Uint8Array(65536);
  await resp.write(enc.encode("SUB bench.req 1\r\nPING\r\n"));
  await resp.read(b);
  await req.write(enc.encode("SUB _INBOX.x 1\r\nPING\r\n"));
  await req.read(b);
  const answer = enc.encode(`PUB _INBOX.x ${SIZE}\r\n${payload}\r\n`);
  const responder = (async () => {
    const rb = new Uint8Array(65536);
    while (true) {
      const k = await resp.read(rb).catch(() => null);
      if (k === null) return;
      for (let i = 0; i + 2 < k; i++) {
        if (rb[i] === 77 && rb[i + 1] === 83 && rb[i + 2] === 71) await resp.write(answer);
      }
    }
  })();
  const request = enc.encode(`PUB bench.req _INBOX.x ${SIZE}\r\n${payload}\r\n`);
  const lat: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await req.write(request);
    if (await req.read(b) === null) break;
    lat.push((performance.now() - t) * 1000);
  }
  req.close();
  resp.close();
  await responder;
  return lat;
}

function pct(a: number[], p: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

const base = 16000 + Math.floor(Math.random() * 1000);
const servers: { name: string; port: number; child: Deno.ChildProcess }[] = [{
  name: "ours",
  port: base,
  child: new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../../main.ts", import.meta.url).pathname,
      "-a",
      "127.0.0.1",
      "-p",
      String(base),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn(),
}];
try {
  servers.push({
    name: "nats-server",
    port: base + 1,
    child: new Deno.Command("nats-server", {
      args: ["-a", "127.0.0.1", "-p", String(base + 1)],
      stdout: "null",
      stderr: "null",
    }).spawn(),
  });
} catch {
  console.log("nats-server not on PATH: ours only");
}
const cpu = new Map(servers.map((s) => [s.name, 0]));
const lat = new Map<string, number[]>(servers.map((s) => [s.name, []]));
for (const s of servers) await run(s.port, 1000); // warm up
for (let rep = 0; rep < 6; rep++) {
  for (const s of rep % 2 ? [...servers].reverse() : servers) {
    const before = await cpuUs(s.child.pid);
    lat.get(s.name)!.push(...await run(s.port, ROUNDS / 6));
    cpu.set(s.name, cpu.get(s.name)! + await cpuUs(s.child.pid) - before);
  }
}
console.log(`${SIZE} B request/reply, ${ROUNDS} round trips per server, interleaved`);
console.log("server         CPU µs/round trip   p50 µs   p99 µs");
for (const s of servers) {
  const a = lat.get(s.name)!;
  console.log(
    s.name.padEnd(14),
    (cpu.get(s.name)! / a.length).toFixed(1).padStart(17),
    pct(a, 0.5).toFixed(1).padStart(8),
    pct(a, 0.99).toFixed(1).padStart(8),
  );
}
for (const s of servers) {
  s.child.kill();
  await s.child.status;
}
