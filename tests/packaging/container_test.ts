/**
 * The container's start command line, run outside Docker (there is no engine here): the image is
 * rebuilt in a temp dir from the Dockerfile itself: its COPY lines copy the same files into
 * `<tmp>/app` (WORKDIR /app), its RUN line caches dependencies into an empty DENO_DIR as the
 * unprivileged user, then ENTRYPOINT + arguments run with `/container` mapped to `<tmp>/container`
 * (the `-v /tmp:/container` mount), same permissions, same user (nobody via setpriv when the tests
 * run as root; /app stays root-owned and read-only to it), an environment holding only PATH, HOME
 * and DENO_DIR.
 */
import { assert, assertEquals, assertMatch } from "../helpers/assert.ts";
import { spawnServerProcess } from "../helpers/server_process.ts";
import { execForm, type Instruction, only, projectDockerfile } from "./dockerfile.ts";
import { exchange } from "./exchange.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const NOBODY = 65534;

/** The built "image": a temp root with app/, container/ and deno-dir/. */
interface Image {
  root: string;
  df: Instruction[];
  /** Runs `argv` (as in the Dockerfile, `deno` first) inside the image. */
  command(argv: string[]): [string, string[]];
  env: Record<string, string>;
  /** The uid the server runs as (nobody when the tests run as root). */
  uid: number;
}

function setprivPath(): string | null {
  for (const p of ["/usr/bin/setpriv", "/bin/setpriv"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch { /* not there */ }
  }
  return null;
}

async function copyTree(from: string, to: string): Promise<void> {
  const st = await Deno.stat(from);
  if (!st.isDirectory) return await Deno.copyFile(from, to);
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) await copyTree(`${from}/${e.name}`, `${to}/${e.name}`);
}

async function chownTree(path: string, uid: number): Promise<void> {
  await Deno.chown(path, uid, uid);
  if (!(await Deno.stat(path)).isDirectory) return;
  for await (const e of Deno.readDir(path)) await chownTree(`${path}/${e.name}`, uid);
}

/** World-readable like an image layer: directories 0755, files 0644. */
async function chmodTree(path: string): Promise<void> {
  const dir = (await Deno.stat(path)).isDirectory;
  await Deno.chmod(path, dir ? 0o755 : 0o644);
  if (!dir) return;
  for await (const e of Deno.readDir(path)) await chmodTree(`${path}/${e.name}`);
}

let built: Promise<Image> | undefined;

/** Builds the image once per test process (COPY, USER, RUN as the Dockerfile says). */
function image(): Promise<Image> {
  built ??= (async () => {
    const df = projectDockerfile();
    const root = await Deno.makeTempDir({ prefix: "natsimage" });
    const app = `${root}${only(df, "WORKDIR").args}`;
    await Deno.mkdir(app, { recursive: true });
    await Deno.mkdir(`${root}/container`);
    await Deno.mkdir(`${root}/deno-dir`);
    await Deno.mkdir(`${root}/home`);
    for (const copy of df.filter((i) => i.op === "COPY")) {
      const parts = copy.args.split(/\s+/);
      const dest = parts.pop()!;
      for (const src of parts) {
        const target = dest.endsWith("/") && !src.endsWith("/")
          ? `${app}/${dest}${src.split("/").pop()}`
          : `${app}/${dest}`;
        await copyTree(`${ROOT}${src.replace(/\/$/, "")}`, target.replace(/\/$/, ""));
      }
    }
    const setpriv = setprivPath();
    const asNobody = Deno.uid() === 0 && setpriv !== null;
    // As in the image: COPY leaves /app owned by root (read-only for the runtime user); the
    // user owns only DENO_DIR (the official image's /deno-dir) and the mounted /container.
    await chmodTree(root);
    if (asNobody) {
      await chownTree(`${root}/deno-dir`, NOBODY);
      await chownTree(`${root}/container`, NOBODY);
      await chownTree(`${root}/home`, NOBODY);
    } else console.log("not root or no setpriv: the image runs as the current user");
    const env = { PATH: "/usr/bin:/bin", HOME: `${root}/home`, DENO_DIR: `${root}/deno-dir` };
    const mapArg = (a: string) =>
      a === "deno" ? Deno.execPath() : a.replace(/^\/container(?=\/|$)/, `${root}/container`);
    const command = (argv: string[]): [string, string[]] => {
      const mapped = argv.map(mapArg);
      return asNobody
        ? [setpriv!, [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", ...mapped]]
        : [mapped[0], mapped.slice(1)];
    };
    const run = only(df, "RUN").args.split(/\s+/);
    const [cmd, args] = command(run);
    const r = await new Deno.Command(cmd, { args, cwd: app, env, clearEnv: true }).output();
    if (!r.success) {
      throw new Error(`RUN ${run.join(" ")} failed:\n${new TextDecoder().decode(r.stderr)}`);
    }
    return { root, df, command, env, uid: asNobody ? NOBODY : Deno.uid()! };
  })();
  return built;
}

async function startContainer(img: Image, args: string[]) {
  const entry = execForm(only(img.df, "ENTRYPOINT"))!;
  const [cmd, argv] = img.command([...entry, ...args]);
  return await spawnServerProcess(cmd, argv, {
    cwd: `${img.root}/app`,
    env: img.env,
    clearEnv: true,
  });
}

function portFree(port: number): boolean {
  try {
    Deno.listen({ hostname: "0.0.0.0", port }).close();
    return true;
  } catch {
    return false;
  }
}

Deno.test({
  name: "container: `-c /container/nats.conf` serves TCP and the seed's websocket block",
  sanitizeResources: false,
  async fn() {
    const img = await image();
    // The seed's block with random ports (8080 may be taken on a shared machine).
    await Deno.writeTextFile(
      `${img.root}/container/nats.conf`,
      "port: -1\nwebsocket {\n  port: -1\n  no_tls: true\n}\n",
    );
    await Deno.chmod(`${img.root}/container/nats.conf`, 0o644);
    const p = await startContainer(img, ["-c", "/container/nats.conf"]);
    try {
      assertMatch(p.stderr(), /Using configuration file: \S+\/container\/nats\.conf/);
      // Deno reads /proc only with --allow-all, so ask ps (the test task has --allow-run).
      const ps = await new Deno.Command("ps", { args: ["-o", "uid=", "-p", String(p.pid)] })
        .output();
      assertEquals(
        new TextDecoder().decode(ps.stdout).trim(),
        String(img.uid),
        "runs unprivileged",
      );
      assert(p.port > 0 && p.wsPort !== undefined, p.stderr());
      assertEquals(
        await exchange({ tcp: `127.0.0.1:${p.port}`, ws: `ws://127.0.0.1:${p.wsPort}` }),
        ["tcp>tcp", "tcp>ws", "ws>tcp", "ws>ws"],
      );
    } finally {
      await p.stop();
    }
  },
});

Deno.test({
  name:
    "container: the default CMD runs the embedded default config on 4222 with monitoring on 8222",
  sanitizeResources: false,
  async fn() {
    if (!portFree(4222) || !portFree(8222)) {
      console.log("4222 or 8222 is in use on this machine: default-CMD run skipped");
      return;
    }
    const img = await image();
    const p = await startContainer(img, execForm(only(img.df, "CMD"))!);
    try {
      assert(!p.stderr().includes("Using configuration file"), "no config file: the embedded one");
      assertEquals(p.port, 4222);
      assertEquals(p.monitorPort, 8222);
      const varz = await (await fetch("http://127.0.0.1:8222/varz")).json();
      assertEquals([varz.port, varz.http_port], [4222, 8222]);
      assertEquals(await exchange({ tcp: "127.0.0.1:4222" }), ["tcp>tcp"]);
    } finally {
      await p.stop();
    }
  },
});

Deno.test({
  name: "container: no write permission; asking for a log file fails with one line naming the flag",
  sanitizeResources: false,
  async fn() {
    const img = await image();
    const entry = execForm(only(img.df, "ENTRYPOINT"))!;
    const [cmd, argv] = img.command([...entry, "-p", "-1", "-l", "/container/nats.log"]);
    const r = await new Deno.Command(cmd, {
      args: argv,
      cwd: `${img.root}/app`,
      env: img.env,
      clearEnv: true,
      stdin: "null",
    }).output();
    const err = new TextDecoder().decode(r.stderr).trim().split("\n");
    assertEquals(r.code, 1);
    assertEquals(err.length, 1, err.join("\n"));
    assertMatch(err[0], /^nats-server: missing permission: .*nats\.log.*--allow-write flag$/);
    assertEquals(err[0].split("--allow-write").length, 2, "the flag is named once");
  },
});

Deno.test("container: image dir removed", async () => {
  if (!built) return;
  const img = await built;
  await Deno.remove(img.root, { recursive: true });
  let gone = false;
  try {
    Deno.statSync(img.root);
  } catch {
    gone = true;
  }
  assert(gone);
});
