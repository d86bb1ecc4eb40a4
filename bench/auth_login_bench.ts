/**
 * Login storm benchmark: how many connections per second complete a bcrypt (cost 11) login,
 * and what that does to the message round trip of an already connected client.
 *
 *   deno run -A bench/auth_login_bench.ts [--quick] [--duration S] [--concurrency N]
 *                                         [--cost C] [--json]
 *
 * For each target (this server as a subprocess `deno run -A main.ts -c <conf>`, then
 * `nats-server -c <conf>` when on PATH):
 *
 * 1. a probe client logs in and measures PING→PONG round trips while nothing else happens
 *    (idle);
 * 2. `concurrency` workers open connections in a loop for `duration` seconds, each doing
 *    INFO → CONNECT{user,pass} + PING → PONG (or -ERR) → close, while the probe keeps
 *    measuring. Two storms: `valid` (right passwords; this server caches successful bcrypt
 *    results, the reference does not) and `invalid` (wrong passwords: every login pays the full
 *    bcrypt cost on both).
 *
 * Everything is bounded: storm duration, per-read timeouts, and a cap on logins per storm.
 *
 * @module
 */
import bcrypt from "bcryptjs";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Args {
  duration: number;
  concurrency: number;
  cost: number;
  users: number;
  idleSamples: number;
  json: boolean;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    duration: 5,
    concurrency: 8,
    cost: 11,
    users: 4,
    idleSamples: 2000,
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = () => Number(argv[++i]);
    if (k === "--quick") {
      a.duration = 2;
      a.idleSamples = 500;
    } else if (k === "--duration") a.duration = v();
    else if (k === "--concurrency") a.concurrency = v();
    else if (k === "--cost") a.cost = v();
    else if (k === "--users") a.users = v();
    else if (k === "--json") a.json = true;
    else throw new Error(`unknown flag ${k}`);
  }
  return a;
}

const MAX_LOGINS_PER_STORM = 20_000;
const READ_TIMEOUT_MS = 10_000;

/** A tiny line reader over a TCP connection with bounded waits. */
class Conn {
  text = "";
  eof = false;
  private readonly buf = new Uint8Array(16 * 1024);
  constructor(readonly c: Deno.TcpConn) {}

  static async open(port: number): Promise<Conn> {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    c.setNoDelay(true);
    return new Conn(c);
  }

  async write(s: string): Promise<void> {
    const b = enc.encode(s);
    let off = 0;
    while (off < b.length) off += await this.c.write(b.subarray(off));
  }

  async until(done: (t: string) => boolean, timeoutMs = READ_TIMEOUT_MS): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!done(this.text)) {
      if (this.eof) return;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`read timeout; got ${JSON.stringify(this.text.slice(-200))}`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.c.read(this.buf).catch(() => null),
        new Promise<"t">((r) => timer = setTimeout(() => r("t"), left)),
      ]);
      clearTimeout(timer);
      if (n === "t") continue;
      if (n === null) this.eof = true;
      else this.text += dec.decode(this.buf.subarray(0, n));
    }
  }

  close(): void {
    try {
      this.c.close();
    } catch { /* closed */ }
  }
}

/** One login: connect, INFO, CONNECT+PING, PONG or -ERR, close. */
async function login(port: number, user: string, pass: string): Promise<[boolean, number]> {
  const t0 = performance.now();
  const c = await Conn.open(port);
  try {
    await c.until((t) => t.includes("\r\n"));
    c.text = "";
    await c.write(
      `CONNECT ${JSON.stringify({ verbose: false, pedantic: false, user, pass })}\r\nPING\r\n`,
    );
    await c.until((t) => t.includes("PONG\r\n") || t.includes("-ERR"));
    return [c.text.includes("PONG\r\n"), performance.now() - t0];
  } finally {
    c.close();
  }
}

/** The probe: a logged-in connection timing PING→PONG. */
class Probe {
  private constructor(private readonly c: Conn) {}

  static async open(port: number, user: string, pass: string): Promise<Probe> {
    const c = await Conn.open(port);
    await c.until((t) => t.includes("\r\n"));
    c.text = "";
    await c.write(`CONNECT ${JSON.stringify({ verbose: false, user, pass })}\r\nPING\r\n`);
    await c.until((t) => t.includes("PONG\r\n") || t.includes("-ERR"));
    if (!c.text.includes("PONG")) throw new Error(`probe login failed: ${c.text}`);
    return new Probe(c);
  }

  /** One round trip in µs. */
  async rtt(): Promise<number> {
    this.c.text = "";
    const t0 = performance.now();
    await this.c.write("PING\r\n");
    await this.c.until((t) => t.includes("PONG\r\n"));
    return (performance.now() - t0) * 1000;
  }

  close(): void {
    this.c.close();
  }
}

function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

interface StormResult {
  mode: "valid" | "invalid";
  logins: number;
  failures: number;
  loginsPerSec: number;
  loginMsP50: number;
  loginMsP99: number;
  probeUsP50: number;
  probeUsP99: number;
  probeSamples: number;
}

async function storm(
  port: number,
  probe: Probe,
  users: { user: string; pass: string }[],
  mode: "valid" | "invalid",
  args: Args,
): Promise<StormResult> {
  const end = performance.now() + args.duration * 1000;
  let logins = 0;
  let failures = 0;
  const loginMs: number[] = [];
  let stop = false;
  const workers = Array.from({ length: args.concurrency }, async (_, w) => {
    let i = w;
    while (!stop && performance.now() < end && logins + failures < MAX_LOGINS_PER_STORM) {
      const u = users[i++ % users.length];
      const pass = mode === "valid" ? u.pass : `${u.pass}-wrong-${i}`;
      try {
        const [ok, ms] = await login(port, u.user, pass);
        loginMs.push(ms);
        if (ok === (mode === "valid")) logins++;
        else failures++;
      } catch {
        failures++;
      }
    }
  });
  const probeUs: number[] = [];
  const probing = (async () => {
    while (!stop && performance.now() < end) probeUs.push(await probe.rtt());
  })();
  const t0 = performance.now();
  await Promise.all(workers);
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await probing;
  return {
    mode,
    logins,
    failures,
    loginsPerSec: logins / elapsed,
    loginMsP50: pct(loginMs, 50),
    loginMsP99: pct(loginMs, 99),
    probeUsP50: pct(probeUs, 50),
    probeUsP99: pct(probeUs, 99),
    probeSamples: probeUs.length,
  };
}

interface Running {
  port: number;
  stop(): Promise<void>;
}

/** Spawns a server on a random port; resolves once it logs "Server is ready". */
async function spawn(cmd: string[], conf: string): Promise<Running> {
  const child = new Deno.Command(cmd[0], {
    args: [...cmd.slice(1), "-c", conf, "-a", "127.0.0.1", "-p", "-1"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  const deadline = Date.now() + 20_000;
  while (!log.includes("Server is ready")) {
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${cmd[0]} did not start:\n${log}`);
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`${cmd.join(" ")} exited:\n${log}`);
    log += value;
  }
  (async () => {
    try {
      while (!(await reader.read()).done) { /* drain */ }
    } catch { /* closed */ }
  })();
  const port = Number(/Listening for client connections on \S*:(\d+)/.exec(log)![1]);
  return {
    port,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* gone */ }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5000);
      await child.status;
      clearTimeout(timer);
    },
  };
}

interface TargetResult {
  target: string;
  idleUsP50: number;
  idleUsP99: number;
  storms: StormResult[];
}

async function benchTarget(
  name: string,
  cmd: string[],
  conf: string,
  users: { user: string; pass: string }[],
  args: Args,
): Promise<TargetResult> {
  const srv = await spawn(cmd, conf);
  try {
    const probe = await Probe.open(srv.port, users[0].user, users[0].pass);
    try {
      const idle: number[] = [];
      const idleEnd = performance.now() + 5000;
      for (let i = 0; i < args.idleSamples && performance.now() < idleEnd; i++) {
        idle.push(await probe.rtt());
      }
      const storms = [
        await storm(srv.port, probe, users, "valid", args),
        await storm(srv.port, probe, users, "invalid", args),
      ];
      return { target: name, idleUsP50: pct(idle, 50), idleUsP99: pct(idle, 99), storms };
    } finally {
      probe.close();
    }
  } finally {
    await srv.stop();
  }
}

function haveNatsServer(): boolean {
  try {
    return new Deno.Command("nats-server", { args: ["--version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toFixed(digits) : "-";
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  const users = Array.from({ length: args.users }, (_, i) => ({
    user: `user${i}`,
    pass: `secret-${i}`,
  }));
  const t0 = performance.now();
  const entries = users.map((u) =>
    `    { user: ${u.user}, password: "${bcrypt.hashSync(u.pass, args.cost)}" }`
  );
  console.error(
    `hashed ${users.length} passwords at cost ${args.cost} in ${fmt(performance.now() - t0)} ms`,
  );
  const dir = await Deno.makeTempDir({ prefix: "authbench" });
  const conf = `${dir}/auth.conf`;
  await Deno.writeTextFile(conf, `authorization {\n  users: [\n${entries.join("\n")}\n  ]\n}\n`);
  const main = new URL("../main.ts", import.meta.url).pathname;
  const targets: [string, string[]][] = [["ours", [Deno.execPath(), "run", "-A", main]]];
  if (haveNatsServer()) targets.push(["nats-server", ["nats-server"]]);
  else console.error("nats-server not on PATH: only this server is measured");
  const results: TargetResult[] = [];
  try {
    for (const [name, cmd] of targets) {
      console.error(`running ${name} ...`);
      results.push(await benchTarget(name, cmd, conf, users, args));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  if (args.json) {
    console.log(JSON.stringify({ args, results }, null, 2));
    return;
  }
  console.log(
    `\nbcrypt cost ${args.cost}, ${args.users} users, ${args.concurrency} concurrent logins, ` +
      `${args.duration} s per storm, probe = PING/PONG on a logged-in connection\n`,
  );
  const head = [
    "target",
    "storm",
    "logins/s",
    "login ms p50/p99",
    "probe µs idle p50/p99",
    "probe µs storm p50/p99",
    "fail",
  ];
  const rows: string[][] = [head];
  for (const r of results) {
    for (const s of r.storms) {
      rows.push([
        r.target,
        s.mode,
        fmt(s.loginsPerSec, 1),
        `${fmt(s.loginMsP50, 1)} / ${fmt(s.loginMsP99, 1)}`,
        `${fmt(r.idleUsP50)} / ${fmt(r.idleUsP99)}`,
        `${fmt(s.probeUsP50)} / ${fmt(s.probeUsP99)} (${s.probeSamples})`,
        String(s.failures),
      ]);
    }
  }
  const widths = head.map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i])).join("  "));
}

if (import.meta.main) await main();
