/** The command line as a process: flags, -t, log lines, pid/ports files, signals, exit codes. */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { RawClient, transcript } from "../helpers/raw.ts";
import { haveNatsServer } from "../helpers/reference.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const PERMS = ["--allow-net", "--allow-read", "--allow-write", "--allow-env"];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function ours(args: string[], perms = PERMS): Promise<Run> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...perms, MAIN, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function reference(args: string[]): Promise<Run> {
  const out = await new Deno.Command("nats-server", { args, stdout: "piped", stderr: "piped" })
    .output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

async function tempConfig(text: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "natscli" });
  const file = `${dir}/nats.conf`;
  await Deno.writeTextFile(file, text);
  return file;
}

/** Cases whose exit code and output must equal nats-server's. */
const SAME_AS_REFERENCE: { name: string; args: (dir: string) => string[]; config?: string }[] = [
  { name: "-v", args: () => ["-v"] },
  { name: "--version", args: () => ["--version"] },
  { name: "-t without -c", args: () => ["-t"] },
  { name: "-t valid", args: (f) => ["-t", "-c", f], config: "port: 4222\n" },
  { name: "-t unknown field", args: (f) => ["-t", "-c", f], config: "port: 4222\nfoo: 1\n" },
  { name: "-t bad type", args: (f) => ["-t", "-c", f], config: 'max_payload: "x"\n' },
  { name: "-t missing file", args: () => ["-t", "-c", "/nonexistent.conf"] },
  {
    name: "start refused: max_payload above max_pending",
    args: (f) => ["-c", f],
    config: "max_payload: 10MB\nmax_pending: 1MB\nlisten: 127.0.0.1:-1\n",
  },
  { name: "start refused: missing config file", args: () => ["-c", "/nonexistent.conf"] },
];

for (const c of SAME_AS_REFERENCE) {
  Deno.test(`cli: ${c.name} matches nats-server`, async () => {
    const file = c.config !== undefined ? await tempConfig(c.config) : "";
    const got = await ours(c.args(file));
    if (!haveNatsServer()) {
      assert(got.code === 0 || got.code === 1);
      return;
    }
    const want = await reference(c.args(file));
    assertEquals({ code: got.code, stdout: got.stdout, stderr: got.stderr }, {
      code: want.code,
      stdout: want.stdout,
      stderr: want.stderr,
    });
  });
}

Deno.test("cli: unknown flag prints the Go message and usage, exits 0", async () => {
  const r = await ours(["-bogus"]);
  assertEquals(r.code, 0);
  assertEquals(r.stderr, "flag provided but not defined: -bogus\n");
  assertMatch(r.stdout, /Usage: nats-server \[options\]/);
});

Deno.test("cli: -h prints usage with the flags that exist", async () => {
  const r = await ours(["-h"]);
  assertEquals(r.code, 0);
  for (const flag of ["--config", "--port", "--addr", "--ports_file_dir", "--user", "-DV"]) {
    assert(r.stdout.includes(flag), `usage lacks ${flag}`);
  }
});

Deno.test("cli: runs, logs like nats-server, writes pid/ports files, exits on signals", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natscli" });
  for (const [signal, code] of [["SIGINT", 0], ["SIGTERM", 1]] as const) {
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...PERMS,
        MAIN,
        "-a",
        "127.0.0.1",
        "-p",
        "-1",
        "-n",
        "cli-test",
        "-P",
        `${dir}/nats.pid`,
        "--ports_file_dir",
        dir,
      ],
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
    let log = "";
    const deadline = Date.now() + 15_000;
    while (!log.includes("Server is ready")) {
      assert(Date.now() < deadline, `not ready:\n${log}`);
      const { value, done } = await reader.read();
      assert(!done, `exited early:\n${log}`);
      log += value;
    }
    const line =
      /^\[(\d+)\] \d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d\.\d{6} \[INF\] Starting nats-server$/m;
    assertMatch(log, line);
    assertMatch(log, /\[INF\] {3}Version: {2}2\.9\.10/);
    assertMatch(log, /\[INF\] {3}Name: {5}cli-test/);
    assertMatch(log, /\[INF\] {3}ID: {7}N[A-Z2-7]{55}/);
    const port = Number(/Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log)![1]);
    assertEquals(await Deno.readTextFile(`${dir}/nats.pid`), String(child.pid));
    const ports = JSON.parse(await Deno.readTextFile(`${dir}/nats-server_${child.pid}.ports`));
    assertEquals(ports.nats, [`nats://127.0.0.1:${port}`]);
    const c = await RawClient.connect(port);
    const info = await c.info();
    assertEquals(info.server_name, "cli-test");
    child.kill(signal);
    await c.readUntil(() => false, 10_000);
    assert(c.closed);
    c.close();
    const status = await child.status;
    assertEquals(status.code, code);
    await reader.cancel();
    await Deno.stat(`${dir}/nats-server_${child.pid}.ports`).then(
      () => assert(false, "ports file should be removed"),
      () => {},
    );
  }
});

Deno.test("cli: a missing permission is reported clearly", async () => {
  const file = await tempConfig("listen: 127.0.0.1:-1\n");
  const r = await ours(["-c", file], ["--allow-read", "--no-prompt"]);
  assertEquals(r.code, 1);
  assertMatch(r.stderr, /^nats-server: missing permission: .*--allow-net/m);
});

Deno.test("cli: -DV traces protocol ops like nats-server, with the password redacted", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natscli" });
  const logFile = `${dir}/nats.log`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...PERMS, MAIN, "-a", "127.0.0.1", "-p", "-1", "-DV", "-l", logFile],
    stdout: "null",
    stderr: "null",
  }).spawn();
  try {
    let log = "";
    const deadline = Date.now() + 15_000;
    while (!log.includes("Server is ready")) {
      assert(Date.now() < deadline, `not ready:\n${log}`);
      await new Promise((r) => setTimeout(r, 50));
      log = await Deno.readTextFile(logFile).catch(() => "");
    }
    const port = Number(/Listening for client connections on 127\.0\.0\.1:(\d+)/.exec(log)![1]);
    const c = await RawClient.connect(port);
    await c.info();
    await c.send(
      'CONNECT {"verbose":false,"pass":"secret","lang":"go","version":"1.2.3"}\r\n' +
        "SUB foo 1\r\nPUB foo 5\r\nhello\r\nPING\r\n",
    );
    await c.readUntil((t) => t.includes("PONG"));
    c.close();
    const want = [
      /\[DBG\] 127\.0\.0\.1:\d+ - cid:\d+ - Client connection created/,
      /\[TRC\] 127\.0\.0\.1:\d+ - cid:\d+ - <<- \[CONNECT \{.*"pass":"\[REDACTED\]".*\}\]/,
      /- "v1\.2\.3:go" - <<- \[SUB foo 1\]/,
      /- "v1\.2\.3:go" - <<- \[PUB foo 5\]/,
      /- "v1\.2\.3:go" - <<- MSG_PAYLOAD: \["hello"\]/,
      /- "v1\.2\.3:go" - ->> \[MSG foo 1 5\]/,
      /- "v1\.2\.3:go" - ->> \[PONG\]/,
      /- "v1\.2\.3:go" - Client connection closed: Client Closed/,
    ];
    const deadline2 = Date.now() + 10_000;
    while (!want.every((re) => re.test(log)) && Date.now() < deadline2) {
      await new Promise((r) => setTimeout(r, 50));
      log = await Deno.readTextFile(logFile);
    }
    for (const re of want) assertMatch(log, re);
    assert(!log.includes("secret"), "password leaked into the trace");
  } finally {
    child.kill("SIGINT");
    await child.status;
  }
});

Deno.test("cli: a variable hidden by a missing --allow-env says so", async () => {
  const file = await tempConfig("listen: 127.0.0.1:-1\nport: $NATS_TEST_PORT\n");
  const r = await ours(["-c", file], ["--allow-net", "--allow-read", "--no-prompt"]);
  assertEquals(r.code, 1);
  assertEquals(
    r.stderr,
    "nats-server: variable reference for 'NATS_TEST_PORT' on line 2 can not be found" +
      " (environment not readable: run with --allow-env)\n",
  );
});

/** A running server process whose stderr log is collected. */
interface Proc {
  port: number;
  log(): string;
  stop(): Promise<void>;
}

/** Spawns `cmd args` and waits for "Server is ready"; works for ours and nats-server alike. */
async function spawnServer(cmd: string, args: string[]): Promise<Proc> {
  const child = new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  const deadline = Date.now() + 15_000;
  while (!log.includes("Server is ready")) {
    assert(Date.now() < deadline, `not ready:\n${log}`);
    const { value, done } = await reader.read();
    assert(!done, `exited early:\n${log}`);
    log += value;
  }
  const port = Number(/Listening for client connections on [^\s]*:(\d+)/.exec(log)![1]);
  return {
    port,
    log: () => log,
    async stop() {
      child.kill("SIGINT");
      await reader.cancel();
      await child.status;
    },
  };
}

const AUTH_FLAG_CASES: { flags: string[]; connect: string; expect: string }[] = [
  { flags: ["--user", "a", "--pass", "b"], connect: '{"user":"a","pass":"b"}', expect: "PONG\r\n" },
  {
    flags: ["--user", "a", "--pass", "b"],
    connect: '{"user":"a","pass":"x"}',
    expect: "-ERR 'Authorization Violation'\r\n",
  },
  { flags: ["--auth", "tok"], connect: '{"auth_token":"tok"}', expect: "PONG\r\n" },
  { flags: ["--auth", "tok"], connect: "{}", expect: "-ERR 'Authorization Violation'\r\n" },
];

Deno.test("cli: --user/--pass/--auth require credentials like nats-server", async () => {
  const targets: [string, string, string[]][] = [["ours", Deno.execPath(), [
    "run",
    ...PERMS,
    MAIN,
  ]]];
  if (haveNatsServer()) targets.push(["nats-server", "nats-server", []]);
  for (const [name, cmd, prefix] of targets) {
    for (const c of AUTH_FLAG_CASES) {
      const p = await spawnServer(cmd, [...prefix, "-a", "127.0.0.1", "-p", "-1", ...c.flags]);
      try {
        const opts = { verbose: false, ...JSON.parse(c.connect) };
        const until = c.expect === "PONG\r\n" ? "pong" : "close";
        const r = await transcript(p.port, [`CONNECT ${JSON.stringify(opts)}\r\n`], until);
        assertEquals(r.text, c.expect, `${name} ${c.flags.join(" ")} ${c.connect}`);
      } finally {
        await p.stop();
      }
    }
  }
});

Deno.test("cli: plaintext passwords are warned about, like nats-server", async () => {
  const file = await tempConfig("authorization { user: a, password: b }\n");
  const targets: [string, string, string[]][] = [["ours", Deno.execPath(), [
    "run",
    ...PERMS,
    MAIN,
  ]]];
  if (haveNatsServer()) targets.push(["nats-server", "nats-server", []]);
  for (const [name, cmd, prefix] of targets) {
    const p = await spawnServer(cmd, [...prefix, "-c", file, "-a", "127.0.0.1", "-p", "-1"]);
    try {
      assertMatch(p.log(), /\[WRN\] Plaintext passwords detected, use nkeys or bcrypt\n/, name);
      assertMatch(p.log(), new RegExp(`\\[INF\\] Using configuration file: ${file}\\n`), name);
    } finally {
      await p.stop();
    }
  }
});
