/**
 * The single-file fallback for `deno compile`: `deno task bundle` writes one executable
 * JavaScript file (shebang) with the bcrypt worker embedded; it is run from an empty directory
 * with `-c` and a bcrypt user logs in over TCP. Where `deno compile` can get its runtime
 * (download, or `DENORT_BIN`), the `deno task compile` binary is run the same way.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { spawnServerProcess } from "../helpers/server_process.ts";
import { bcryptHash } from "./bcrypt_fixture.ts";
import { exchange } from "./exchange.ts";
import { RUN_FLAGS } from "../../tools/permissions.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

async function task(name: string, ...args: string[]): Promise<void> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", name, ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(`deno task ${name} failed:\n${new TextDecoder().decode(r.stderr)}`);
  }
}

/** Starts `exe -c <conf>` in an empty directory with a bcrypt user; checks a login and a message. */
async function runWithBcryptUser(exe: string, dir: string): Promise<void> {
  const hash = await bcryptHash("pw");
  await Deno.writeTextFile(
    `${dir}/nats.conf`,
    `listen: "127.0.0.1:-1"\nauthorization { user: alice, password: "${hash}" }\n`,
  );
  const p = await spawnServerProcess(exe, ["-c", `${dir}/nats.conf`], {
    cwd: dir,
    env: { PATH: `${Deno.execPath().replace(/\/[^/]+$/, "")}:/usr/bin:/bin` },
    clearEnv: true,
  });
  try {
    assertEquals(
      await exchange({ tcp: `127.0.0.1:${p.port}`, auth: { user: "alice", pass: "pw" } }),
      ["tcp>tcp"],
    );
  } finally {
    await p.stop();
  }
}

Deno.test({
  name: "bundle: one executable JS file runs with -c from an empty directory; bcrypt login works",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "natsbundle" });
    try {
      const out = `${dir}/natsd.js`;
      await task("bundle", out);
      assertEquals([...Deno.readDirSync(dir)].map((e) => e.name), ["natsd.js"], "one file");
      const text = await Deno.readTextFile(out);
      assertEquals(
        text.slice(0, text.indexOf("\n")),
        `#!/usr/bin/env -S deno run --no-config ${RUN_FLAGS.join(" ")}`,
        "shebang with the server's permissions and V8 flags",
      );
      assert((Deno.statSync(out).mode! & 0o111) !== 0, "executable");
      assert(!text.includes("bcrypt_worker.ts"), "no reference to a worker file");
      await runWithBcryptUser(out, dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "bundle: the embedded bcrypt worker verifies in a Worker of its own",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "natsbundle" });
    let worker: Worker | undefined;
    try {
      await task("bundle", `${dir}/natsd.js`);
      const url = /"(data:text\/javascript;base64,[A-Za-z0-9+/=]+)"/.exec(
        await Deno.readTextFile(`${dir}/natsd.js`),
      )?.[1];
      assert(url, "the bundle carries the worker as a data: URL");
      worker = new Worker(url, { type: "module" });
      const hash = await bcryptHash("pw");
      const replies = await Promise.all(
        [["pw", 1], ["nope", 2]].map(([password, id]) =>
          new Promise<unknown>((resolve, reject) => {
            const w = worker!;
            const timer = setTimeout(() => reject(new Error("worker did not answer")), 10_000);
            w.addEventListener("message", (e) => {
              if ((e as MessageEvent).data.id !== id) return;
              clearTimeout(timer);
              resolve((e as MessageEvent).data);
            });
            w.postMessage({ id, hash, password });
          })
        ),
      );
      assertEquals(replies, [{ id: 1, ok: true }, { id: 2, ok: false }]);
    } finally {
      worker?.terminate();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "compile: the `deno task compile` binary runs with -c; bcrypt login works (needs the runtime)",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "natscompile" });
    try {
      try {
        await task("compile");
      } catch (err) {
        // Offline and no DENORT_BIN: the runtime download fails; say so instead of failing.
        const offline = /dns error|error sending request/i.test(String(err));
        if (Deno.env.get("DENORT_BIN") || !offline) throw err;
        console.log(
          "deno compile could not download its runtime (offline, no DENORT_BIN): skipped",
        );
        return;
      }
      await Deno.copyFile(`${ROOT}dist/natsd`, `${dir}/natsd`);
      await Deno.chmod(`${dir}/natsd`, 0o755);
      await runWithBcryptUser(`${dir}/natsd`, dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
