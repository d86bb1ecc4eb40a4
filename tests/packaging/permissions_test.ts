/**
 * Permissions: one list (tools/permissions.ts) used by every way of starting the server, and what a
 * newcomer sees when a permission is missing: one line naming the flag, never doubled.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { spawnServerProcess } from "../helpers/server_process.ts";
import { RUN_PERMISSIONS, RUN_V8_FLAGS } from "../../tools/permissions.ts";
import { bcryptHash } from "./bcrypt_fixture.ts";
import { exchange } from "./exchange.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const dec = new TextDecoder();

/** The permission flags of a deno command line (`--allow-*`, `--no-prompt`). */
function permissionFlags(argv: string[]): string[] {
  return argv.filter((a) => /^--(allow-|deny-|no-prompt$)|^-A$/.test(a)).sort();
}

Deno.test("permissions: start, deploy and compile tasks grant exactly the server's list and V8 flags", () => {
  const tasks = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks as Record<
    string,
    string
  >;
  for (const name of ["start", "deploy", "compile"]) {
    const argv = tasks[name].split(/\s+/);
    assertEquals(permissionFlags(argv), [...RUN_PERMISSIONS].sort(), name);
    assertEquals(argv.filter((a) => a.startsWith("--v8-flags")), [...RUN_V8_FLAGS], name);
  }
  const compile = tasks.compile.split(/\s+/);
  const include = compile[compile.indexOf("--include") + 1];
  assertEquals(include, "lib/auth/bcrypt_worker.ts", "the worker is compiled in");
  Deno.statSync(`${ROOT}${include}`);
});

/** Runs a deno command in `cwd` without a terminal; returns exit code and stderr lines. */
async function runDeno(args: string[], cwd: string): Promise<{ code: number; lines: string[] }> {
  const r = await new Deno.Command(Deno.execPath(), { args, cwd, stdin: "null" }).output();
  return { code: r.code, lines: dec.decode(r.stderr).trimEnd().split("\n") };
}

Deno.test("permissions: the card's `deno run --allow-net main.ts -c nats.conf` says which flag, in one line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsperm" });
  try {
    await Deno.writeTextFile(`${dir}/nats.conf`, "port: -1\n");
    const r = await runDeno(["run", "--allow-net", MAIN, "-c", "nats.conf"], dir);
    assertEquals(r.code, 1);
    assertEquals(r.lines, [
      "nats-server: open nats.conf: permission denied (run deno with --allow-read)",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("permissions: a missing write permission is named once (no doubled hint)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "natsperm" });
  try {
    const r = await runDeno(
      ["run", ...RUN_PERMISSIONS, MAIN, "-a", "127.0.0.1", "-p", "-1", "-P", `${dir}/nats.pid`],
      dir,
    );
    assertEquals(r.code, 1);
    const last = r.lines.at(-1)!;
    assertMatch(last, /^nats-server: missing permission: Requires write access to ".*nats\.pid"/);
    assertEquals(last.split("--allow-write").length, 2, last);
    assert(!last.includes("(run with"), last);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "permissions: read granted for the config file only is enough, bcrypt worker included",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "natsperm" });
    const conf = `${dir}/nats.conf`;
    await Deno.writeTextFile(
      conf,
      `listen: "127.0.0.1:-1"\nauthorization { user: a, password: "${await bcryptHash("pw")}" }\n`,
    );
    const p = await spawnServerProcess(
      Deno.execPath(),
      ["run", "--allow-net", `--allow-read=${conf}`, "--no-prompt", MAIN, "-c", conf],
      { cwd: dir, cleanup: () => Deno.remove(dir, { recursive: true }) },
    );
    try {
      assertEquals(
        await exchange({ tcp: `127.0.0.1:${p.port}`, auth: { user: "a", pass: "pw" } }),
        ["tcp>tcp"],
      );
      assert(!p.stderr().includes("permission"), p.stderr());
    } finally {
      await p.stop();
    }
  },
});
