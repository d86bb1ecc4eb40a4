/**
 * `deno task bundle`: one executable JavaScript file that starts the server, for machines where
 * `deno compile` cannot download its runtime. `deno bundle` inlines every module but leaves the
 * bcrypt worker as a separate file reference, so the worker is bundled on its own and embedded as
 * a `data:` URL (no file next to the bundle, no read permission needed to start it).
 *
 * Usage: `deno task bundle [output]` (default `dist/natsd.js`), then `./dist/natsd.js -c nats.conf`.
 *
 * @module
 */
import { RUN_FLAGS } from "./permissions.ts";

const ROOT = new URL("../", import.meta.url).pathname;
/** The expression bcrypt_pool.ts uses to start its worker; replaced by the embedded one. */
const WORKER_REF = 'new URL("./bcrypt_worker.ts", import.meta.url).href';

async function denoBundle(entry: string, out: string): Promise<string> {
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "--format", "esm", "-o", out, entry],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!r.success) throw new Error(`deno bundle ${entry} failed`);
  return await Deno.readTextFile(out);
}

/** Bundles main.ts with the worker inlined; returns the executable script's text. */
export async function bundleServer(): Promise<string> {
  const tmp = await Deno.makeTempDir({ prefix: "natsd-bundle" });
  try {
    const worker = await denoBundle("lib/auth/bcrypt_worker.ts", `${tmp}/worker.js`);
    const main = await denoBundle("main.ts", `${tmp}/main.js`);
    const parts = main.split(WORKER_REF);
    if (parts.length !== 2) {
      throw new Error(
        `expected one bcrypt worker reference in the bundle, found ${parts.length - 1}`,
      );
    }
    const dataUrl = `data:text/javascript;base64,${new TextEncoder().encode(worker).toBase64()}`;
    // --no-config: the bundle is self-contained; a deno.json in the working directory must not apply.
    const shebang = `#!/usr/bin/env -S deno run --no-config ${RUN_FLAGS.join(" ")}`;
    return `${shebang}\n${parts.join(JSON.stringify(dataUrl))}`;
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
}

if (import.meta.main) {
  const out = Deno.args[0] ?? `${ROOT}dist/natsd.js`;
  const dir = out.slice(0, out.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(out, await bundleServer(), { mode: 0o755 });
  await Deno.chmod(out, 0o755);
  console.log(`wrote ${out}: run it with -c <config> (needs deno on PATH)`);
}
