/**
 * Lints the Dockerfile (no Docker engine here): a pinned official base image of the project's
 * Deno version, a non-root USER before the ENTRYPOINT, exec-form ENTRYPOINT/CMD, the exposed
 * ports, exactly the server's permissions, dependencies cached at build time, and a .dockerignore
 * that keeps what COPY needs.
 */
import { assert, assertEquals } from "../helpers/assert.ts";
import { execForm, only, projectDockerfile } from "./dockerfile.ts";
import { RUN_FLAGS } from "../../tools/permissions.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const df = projectDockerfile();

/** The Deno version CI installs (`.ci/run`), the one the project is pinned to. */
function projectDenoVersion(): string {
  const m = /^DENO_VERSION=([0-9.]+)$/m.exec(Deno.readTextFileSync(`${ROOT}.ci/run`));
  assert(m, ".ci/run pins DENO_VERSION");
  return m[1];
}

Deno.test("Dockerfile: FROM the official Deno image pinned to the project's Deno version", () => {
  const from = only(df, "FROM");
  assertEquals(df[0], from, "FROM comes first");
  assertEquals(from.args, `denoland/deno:${projectDenoVersion()}`);
});

Deno.test("Dockerfile: a non-root USER is in force for the cache step and the ENTRYPOINT", () => {
  const users = df.filter((i) => i.op === "USER");
  assert(users.length > 0, "has a USER instruction");
  const entry = only(df, "ENTRYPOINT");
  const run = only(df, "RUN");
  const last = users.filter((u) => u.line < entry.line).at(-1);
  assert(last, "USER before ENTRYPOINT");
  assert(!/^(root|0)(:|$)/.test(last.args), `USER ${last.args} is not root`);
  assert(users.some((u) => u.line < run.line), "deps are cached by the runtime user");
  assert(users.every((u) => !/^(root|0)(:|$)/.test(u.args)), "never switches back to root");
});

Deno.test("Dockerfile: ENTRYPOINT and CMD are JSON arrays; the entrypoint has exactly the server's permissions and V8 flags", () => {
  const entry = execForm(only(df, "ENTRYPOINT"));
  const cmd = execForm(only(df, "CMD"));
  assert(entry, "ENTRYPOINT in exec form");
  assert(cmd, "CMD in exec form");
  assertEquals(entry.slice(0, 2), ["deno", "run"]);
  assertEquals(entry.at(-1), "main.ts");
  const flags = entry.slice(2, -1);
  assertEquals(flags.filter((f) => f !== "--cached-only").sort(), [...RUN_FLAGS].sort());
  assert(flags.includes("--cached-only"), "nothing is fetched at start");
  // The default command is the embedded default config (no -c), nothing more than monitoring.
  assert(!cmd.includes("-c") && !cmd.includes("--config"), `CMD ${JSON.stringify(cmd)} has no -c`);
});

Deno.test("Dockerfile: EXPOSE 4222 8080 8222, WORKDIR /app, dependencies cached at build time", () => {
  assertEquals(only(df, "EXPOSE").args.split(/\s+/).sort(), ["4222", "8080", "8222"]);
  assertEquals(only(df, "WORKDIR").args, "/app");
  const run = only(df, "RUN").args.split(/\s+/);
  assertEquals(run.slice(0, 2), ["deno", "cache"]);
  for (const m of ["main.ts", "lib/auth/bcrypt_worker.ts"]) assert(run.includes(m), `caches ${m}`);
});

Deno.test("Dockerfile: COPY sources exist and .dockerignore excludes none of them", () => {
  const ignored = Deno.readTextFileSync(`${ROOT}.dockerignore`).split("\n")
    .map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
  for (const must of [".git", "tests", "bench"]) assert(ignored.includes(must), `ignores ${must}`);
  const sources = df.filter((i) => i.op === "COPY").flatMap((i) =>
    i.args.split(/\s+/).slice(0, -1)
  );
  assert(sources.includes("main.ts") && sources.includes("lib/"), "copies the server");
  for (const src of sources) {
    Deno.statSync(`${ROOT}${src}`);
    const top = src.replace(/\/$/, "").split("/")[0];
    assert(!ignored.includes(top), `${src} is not dockerignored`);
  }
});
