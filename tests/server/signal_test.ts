/**
 * Signals and `--signal <verb>[=<pid|pidfile>]`, against this server and nats-server 2.9.10 in
 * the same test: each verb's effect on a running server (exit code, log line), the pid file left
 * in place, and the error texts of bad `--signal` arguments.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { haveNatsServer } from "../helpers/reference.ts";
import type { ServerProcess, ServerProgram } from "../helpers/server_process.ts";
import { normaliseLog, programs, sameOnBoth } from "./_reload_harness.ts";
import { sendSignalCommand, SignalError } from "../../lib/server/signals.ts";

const opts = { sanitizeOps: false, sanitizeResources: false };
const MAIN = new URL("../../main.ts", import.meta.url).pathname;

interface Run {
  code: number;
  stderr: string;
}

/** Runs `--signal <arg>` with the given program (ours needs --allow-run to send signals). */
async function signalCommand(program: ServerProgram, arg: string): Promise<Run> {
  const [cmd, args] = program === "ours"
    ? [Deno.execPath(), ["run", "--allow-read", "--allow-run", MAIN, "--signal", arg]]
    : ["nats-server", ["--signal", arg]];
  const out = await new Deno.Command(cmd, { args, stdout: "null", stderr: "piped" }).output();
  return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
}

/** What a verb did: the command's result, the server's new log lines and how it ended. */
async function afterVerb(
  p: ServerProcess,
  program: ServerProgram,
  arg: string,
  until: RegExp | "exit",
): Promise<Record<string, unknown>> {
  const mark = p.stderr().length;
  const sent = await signalCommand(program, arg);
  if (until !== "exit") await p.waitForLog((l) => until.test(l.slice(mark)), 10_000);
  const status = await p.waitForExit(until === "exit" ? 10_000 : 100);
  await p.waitForLog(() => false, 50); // the last lines reach the pipe
  return {
    sent,
    log: normaliseLog(p.stderr().slice(mark)).filter((l) => !l.startsWith("DBG")),
    exit: status ? { code: status.code, signal: status.signal } : null,
  };
}

const VERBS: { verb: string; until: RegExp | "exit"; expect: Record<string, unknown> }[] = [
  {
    verb: "reload",
    until: /Reloaded server configuration/,
    expect: {
      log: [
        "INF Reloaded: authorization users",
        "INF Reloaded: accounts",
        "INF Reloaded server configuration",
      ],
      exit: null,
    },
  },
  {
    verb: "reopen",
    until: /File log re-open/,
    expect: { log: ["INF File log re-open ignored, not a file logger"], exit: null },
  },
  {
    verb: "quit",
    until: "exit",
    expect: {
      log: ["INF Initiating Shutdown...", "INF Server Exiting.."],
      exit: { code: 0, signal: null },
    },
  },
  {
    verb: "term",
    until: "exit",
    expect: {
      log: ["INF Initiating Shutdown...", "INF Server Exiting.."],
      exit: { code: 1, signal: null },
    },
  },
  {
    verb: "stop",
    until: "exit",
    expect: { log: [], exit: { code: 137, signal: "SIGKILL" } },
  },
  {
    verb: "ldm",
    until: "exit",
    expect: {
      log: [
        "INF Entering lame duck mode, stop accepting new clients",
        "INF Initiating Shutdown...",
        "INF Server Exiting..",
      ],
      exit: { code: 0, signal: null },
    },
  },
];

for (const { verb, until, expect } of VERBS) {
  Deno.test(`--signal ${verb}=<pidfile>: the server acts as nats-server does`, opts, async () => {
    const dir = await Deno.makeTempDir({ prefix: "natssig" });
    const pidFile = `${dir}/server.pid`;
    const seen = await sameOnBoth("", async (p, program) => {
      const r = await afterVerb(p, program, `${verb}=${pidFile}`, until);
      return { ...r, pidFileKept: (await Deno.readTextFile(pidFile)) === String(p.pid) };
    }, ["-P", pidFile]);
    await Deno.remove(dir, { recursive: true });
    assertEquals(seen as Record<string, unknown>, {
      sent: { code: 0, stderr: "" },
      ...expect,
      pidFileKept: true,
    });
  });
}

Deno.test("--signal reload=<pid> with a numeric pid works too", opts, async () => {
  const seen = await sameOnBoth("", async (p, program) => {
    const r = await afterVerb(p, program, `reload=${p.pid}`, /Reloaded server configuration/);
    return r.sent;
  });
  assertEquals(seen, { code: 0, stderr: "" });
});

Deno.test("--signal: bad arguments get the reference's errors", async () => {
  const cases = ["foo=1", "reload=1=2", "reload=abc", "reload=999999999"];
  for (const arg of cases) {
    const ours = await signalCommand("ours", arg);
    assertEquals(ours.code, 1, arg);
    if (haveNatsServer()) {
      assertEquals(ours, await signalCommand("nats-server", arg), arg);
    } else assert(ours.stderr.startsWith("nats-server: "), ours.stderr);
  }
});

Deno.test("--signal without a pid: one running server, none, or several", () => {
  const sent: string[] = [];
  const err = (f: () => void) => {
    try {
      f();
      return "";
    } catch (e) {
      if (!(e instanceof SignalError)) throw e;
      return e.message;
    }
  };
  assertEquals(
    err(() => sendSignalCommand("reload", { runningPids: () => [] })),
    "no nats-server processes running",
  );
  assertEquals(
    err(() => sendSignalCommand("reload", { runningPids: () => [11, 12] })),
    "multiple nats-server processes running:\n11\n12",
  );
  assertEquals(
    err(() => sendSignalCommand("bogus", { runningPids: () => [999999999] })),
    `unknown signal "bogus"`,
  );
  assertEquals(sent, []);
});

/** Polls `file` until it holds `text` (bounded); returns its content. */
async function fileWith(file: string, text: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let content = "";
  while (!content.includes(text) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    content = await Deno.readTextFile(file).catch(() => "");
  }
  return content;
}

Deno.test("SIGUSR1 reopens the log file after rotation, as nats-server does", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natslog" });
  const logFile = `${dir}/server.log`;
  const seen: Record<string, unknown>[] = [];
  for (const program of programs()) {
    const args = ["-a", "127.0.0.1", "-p", "-1", "-l", logFile];
    const [cmd, full] = program === "ours"
      ? [Deno.execPath(), ["run", "--allow-net", "--allow-read", "--allow-write", MAIN, ...args]]
      : ["nats-server", args];
    const child = new Deno.Command(cmd, { args: full, stdout: "null", stderr: "null" }).spawn();
    const started = await fileWith(logFile, "Server is ready");
    await Deno.rename(logFile, `${logFile}.1`);
    child.kill("SIGUSR1");
    const reopened = await fileWith(logFile, "File log re-opened");
    child.kill("SIGINT");
    await child.status;
    seen.push({
      started: started.includes("Server is ready"),
      reopened: normaliseLog(reopened).filter((l) =>
        !l.includes("Shutdown") && !l.includes("Exiting")
      ),
    });
    await Deno.remove(`${logFile}.1`);
    await Deno.remove(logFile).catch(() => {});
  }
  await Deno.remove(dir, { recursive: true });
  for (const s of seen) assertEquals(s, { started: true, reopened: ["INF File log re-opened"] });
});

Deno.test("SIGQUIT exits at once with code 2, as Go's runtime does", opts, async () => {
  const seen = await sameOnBoth("", async (p) => {
    p.kill("SIGQUIT");
    const status = await p.waitForExit(10_000);
    return { code: status?.code, quitLine: /SIGQUIT: quit/.test(p.stderr()) };
  });
  assertEquals(seen, { code: 2, quitLine: true });
});
