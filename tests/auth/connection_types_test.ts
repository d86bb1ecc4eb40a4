/**
 * `allowed_connection_types` values at startup: any case is accepted, unknown values refuse
 * to start with `invalid connection types [...]` (with the position of the list). Checked with
 * `main.ts -t -c` and a real start, next to `nats-server` on the same files when on PATH.
 * (That the accepted values then let the right transports in is in matrix_e2e_test.ts.)
 */
import { assertEquals } from "../helpers/assert.ts";
import { haveNatsServer } from "../helpers/reference.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

interface Case {
  name: string;
  config: string;
  /** Exit code and stderr (file path replaced by FILE, trailing whitespace trimmed). */
  check: { code: number; stderr: string };
  start: { code: number; stderr: string } | "starts";
}

const CASES: Case[] = [
  {
    name: "unknown values are listed, upper-cased",
    config:
      'authorization { users [{user: a, password: b, allowed_connection_types: ["BOGUS", "standard", "Nope"]}] }\n',
    check: { code: 1, stderr: 'nats-server: FILE:1:46: invalid connection types ["BOGUS" "NOPE"]' },
    start: { code: 1, stderr: 'nats-server: FILE:1:46: invalid connection types ["BOGUS" "NOPE"]' },
  },
  {
    name: "unknown value in an account user (connection_types alias)",
    config: `accounts {
  A {
    users [
      {user: a, password: b, connection_types: ["websocket", "tcp"]}
    ]
  }
}
`,
    check: { code: 1, stderr: 'nats-server: FILE:4:30: invalid connection types ["TCP"]' },
    start: { code: 1, stderr: 'nats-server: FILE:4:30: invalid connection types ["TCP"]' },
  },
  {
    name: "every known value in any case",
    config:
      'authorization { users [{user: a, password: b, allowed_connection_types: ["standard", "WebSocket", "leafnode", "Mqtt", "mqtt_ws", "LEAFNODE_WS"]}] }\n',
    check: { code: 0, stderr: "nats-server: configuration file FILE is valid" },
    start: "starts",
  },
];

async function run(
  cmd: string[],
  args: string[],
  file: string,
  waitReady: boolean,
): Promise<{ code: number; stderr: string } | "starts"> {
  const child = new Deno.Command(cmd[0], {
    args: [...cmd.slice(1), ...args],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  const timer = setTimeout(() => child.kill("SIGKILL"), 20_000);
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
      if (waitReady && text.includes("Server is ready")) {
        child.kill("SIGTERM");
        await reader.cancel();
        await child.status;
        return "starts";
      }
    }
    const { code } = await child.status;
    return { code, stderr: text.replaceAll(file, "FILE").trimEnd() };
  } finally {
    clearTimeout(timer);
  }
}

const TARGETS: [string, string[]][] = [
  ["ours", [Deno.execPath(), "run", "-A", MAIN]],
  ["nats-server", ["nats-server"]],
];

for (const c of CASES) {
  Deno.test(`allowed_connection_types: ${c.name}`, async (t) => {
    const dir = await Deno.makeTempDir({ prefix: "conntypes" });
    const file = `${dir}/types.conf`;
    await Deno.writeTextFile(file, c.config);
    try {
      for (const [name, cmd] of TARGETS) {
        const skip = name === "nats-server" && !haveNatsServer();
        await t.step({
          name: `${name} -t -c`,
          ignore: skip,
          fn: async () => assertEquals(await run(cmd, ["-t", "-c", file], file, false), c.check),
        });
        await t.step({
          name: `${name} start`,
          ignore: skip,
          fn: async () =>
            assertEquals(
              await run(cmd, ["-c", file, "-a", "127.0.0.1", "-p", "-1"], file, true),
              c.start,
            ),
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}
