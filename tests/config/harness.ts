/** Runs a corpus case in a fresh directory (which is also the working directory). */
import type { Case } from "./cases.ts";

const FIXTURES = new URL("../fixtures/config/tls/", import.meta.url).pathname;

export function prepareCase(c: Case): string {
  const dir = Deno.makeTempDirSync({ prefix: "natsconf-" });
  Deno.writeTextFileSync(`${dir}/case.conf`, c.conf);
  for (const [name, text] of Object.entries(c.files ?? {})) {
    const path = `${dir}/${name}`;
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    Deno.writeTextFileSync(path, text);
  }
  if (c.tls) {
    Deno.mkdirSync(`${dir}/tls`);
    for (const f of Deno.readDirSync(FIXTURES)) {
      Deno.copyFileSync(FIXTURES + f.name, `${dir}/tls/${f.name}`);
    }
  }
  return dir;
}

/** Runs `fn` with the working directory set to `dir`, then removes `dir`. */
export function inDir<T>(dir: string, fn: () => T): T {
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  try {
    return fn();
  } finally {
    Deno.chdir(cwd);
    Deno.removeSync(dir, { recursive: true });
  }
}
