/**
 * Login storm benchmark: how many connections per second complete a bcrypt (cost 11) login,
 * and what that does to the message round trip of an already connected client.
 *
 *   deno run -A bench/auth_login_bench.ts [--quick] [--duration S] [--concurrency N]
 *                                         [--cost C] [--json] [--jwt [--logins N]]
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
 * With `--jwt` the servers run in operator mode (memory resolver) and the storms are `logins`
 * (default 500) user-JWT logins of distinct users, each signing the INFO nonce (`valid`), or
 * signing it with the wrong key (`invalid`); the account JWT is preloaded, so a login is JWT
 * decoding, two ed25519 verifications (user JWT, nonce) and the claim checks.
 *
 * Everything is bounded: storm duration, per-read timeouts, and a cap on logins per storm.
 *
 * @module
 */
import bcrypt from "bcryptjs";
import {
  createAccount,
  createOperator,
  createUser,
  encodeAccount,
  encodeOperator,
  encodeUser,
} from "@nats-io/jwt";
import { signNonce } from "../lib/auth/creds.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

interface Args {
  duration: number;
  concurrency: number;
  cost: number;
  users: number;
  idleSamples: number;
  json: boolean;
  /** Operator mode: JWT logins instead of bcrypt passwords. */
  jwt: boolean;
  /** Cap on logins per storm (JWT mode default 500). */
  logins: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    duration: 5,
    concurrency: 8,
    cost: 11,
    users: 4,
    idleSamples: 2000,
    json: false,
    jwt: false,
    logins: 0,
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
    else if (k === "--jwt") a.jwt = true;
    else if (k === "--logins") a.logins = v();
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

/** Builds the CONNECT JSON for a login from the server's INFO line. */
type Credentials = (info: Record<string, unknown>) => Record<string, unknown>;

/** Password credentials. */
function password(user: string, pass: string): Credentials {
  return () => ({ user, pass });
}

function infoOf(text: string): Record<string, unknown> {
  const line = text.slice(0, text.indexOf("\r\n"));
  return JSON.parse(line.slice(5));
}

/** One login: connect, INFO, CONNECT+PING, PONG or -ERR, close. */
async function login(port: number, creds: Credentials): Promise<[boolean, number]> {
  const t0 = performance.now();
  const c = await Conn.open(port);
  try {
    await c.until((t) => t.includes("\r\n"));
    const info = infoOf(c.text);
    c.text = "";
    const connect = { verbose: false, pedantic: false, ...creds(info) };
    await c.write(`CONNECT ${JSON.stringify(connect)}\r\nPING\r\n`);
    await c.until((t) => t.includes("PONG\r\n") || t.includes("-ERR"));
    return [c.text.includes("PONG\r\n"), performance.now() - t0];
  } finally {
    c.close();
  }
}

/** The probe: a logged-in connection timing PING→PONG. */
class Probe {
  private constructor(private readonly c: Conn) {}

  static async open(port: number, creds: Credentials): Promise<Probe> {
    const c = await Conn.open(port);
    await c.until((t) => t.includes("\r\n"));
    const info = infoOf(c.text);
    c.text = "";
    await c.write(`CONNECT ${JSON.stringify({ verbose: false, ...creds(info) })}\r\nPING\r\n`);
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

/** The logins of a storm: valid and invalid credentials, one per login (cycled). */
interface LoginSet {
  valid: Credentials[];
  invalid: (i: number) => Credentials;
}

async function storm(
  port: number,
  probe: Probe,
  users: LoginSet,
  mode: "valid" | "invalid",
  args: Args,
): Promise<StormResult> {
  const cap = args.logins > 0 ? args.logins : MAX_LOGINS_PER_STORM;
  const end = performance.now() + args.duration * 1000;
  let logins = 0;
  let failures = 0;
  let started = 0;
  const loginMs: number[] = [];
  let stop = false;
  const workers = Array.from({ length: args.concurrency }, async (_, w) => {
    let i = w;
    while (!stop && performance.now() < end && started < cap) {
      started++;
      const n = i;
      i += args.concurrency;
      const creds = mode === "valid" ? users.valid[n % users.valid.length] : users.invalid(n);
      try {
        const [ok, ms] = await login(port, creds);
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
  users: LoginSet,
  args: Args,
): Promise<TargetResult> {
  const srv = await spawn(cmd, conf);
  try {
    const probe = await Probe.open(srv.port, users.valid[0]);
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

/** bcrypt users: the config and their logins. */
function passwordSetup(args: Args): { config: string; users: LoginSet } {
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
  return {
    config: `authorization {\n  users: [\n${entries.join("\n")}\n  ]\n}\n`,
    users: {
      valid: users.map((u) => password(u.user, u.pass)),
      invalid: (i) => password(users[i % users.length].user, `wrong-${i}`),
    },
  };
}

/** Operator mode: one account, `logins` distinct user JWTs (+1 for the probe). */
async function jwtSetup(args: Args): Promise<{ config: string; users: LoginSet }> {
  const operator = createOperator();
  const account = createAccount();
  const limits = { subs: -1, data: -1, payload: -1, imports: -1, exports: -1, conn: -1, leaf: -1 };
  const opJwt = await encodeOperator("OP", operator);
  const accJwt = await encodeAccount("A", account, { limits }, { signer: operator });
  const count = args.logins + 1;
  const creds: Credentials[] = [];
  const jwts: string[] = [];
  for (let i = 0; i < count; i++) {
    const u = createUser();
    const jwt = await encodeUser(`u${i}`, u, account);
    const seed = dec.decode(u.getSeed());
    jwts.push(jwt);
    creds.push((info) => ({ jwt, sig: signNonce(seed, String(info.nonce)) }));
  }
  const wrong = dec.decode(createUser().getSeed());
  return {
    config: [
      `operator: "${opJwt}"`,
      "resolver: MEMORY",
      `resolver_preload: { ${account.getPublicKey()}: "${accJwt}" }`,
    ].join("\n") + "\n",
    users: {
      // The probe keeps the first user; the storm logs in each of the others once.
      valid: creds,
      invalid: (i) => (info) => ({
        jwt: jwts[i % jwts.length],
        sig: signNonce(wrong, String(info.nonce)),
      }),
    },
  };
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  if (args.jwt && args.logins === 0) args.logins = 500;
  const setup = args.jwt ? await jwtSetup(args) : passwordSetup(args);
  const users = setup.users;
  const dir = await Deno.makeTempDir({ prefix: "authbench" });
  const conf = `${dir}/auth.conf`;
  await Deno.writeTextFile(conf, setup.config);
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
  const what = args.jwt
    ? `user JWT logins (operator mode, ${args.logins} distinct users)`
    : `bcrypt cost ${args.cost}, ${args.users} users`;
  console.log(
    `\n${what}, ${args.concurrency} concurrent logins, ` +
      `${args.duration} s cap per storm, probe = PING/PONG on a logged-in connection\n`,
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
