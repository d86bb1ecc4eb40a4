/**
 * Replays every corpus case (cases.ts) through the real nats-server 2.9.10:
 *
 *   deno run -A tests/config/reference_check.ts [-v]
 *
 * (also run by reference_check_test.ts). For each case, per its `ref` mode:
 * - "same": `nats-server -t` exit code equals ours, and every line we print (our "did you mean"
 *   hint stripped) is printed by the reference too;
 * - "message": like "same" without comparing positions (the reference's depends on Go map order);
 * - "exit": same exit code only (the texts differ for a documented reason);
 * - "refuse": the reference accepts; we refuse/warn on purpose;
 * - "extension": keys of ours, which the reference rejects as unknown fields;
 * - "startup": `-t` accepts (as we do) and starting the reference fails with exactly
 *   `nats-server: <validate[0]>`;
 * - "skip": not run (the reason is printed).
 * The reference prints errors of one block in Go map order and stops a block at its first
 * type error, so our list may be longer than its list; it is never allowed to miss one of ours.
 */
import { formatConfigError, loadConfigFile } from "../../lib/config/mod.ts";
import { type Case, CASES } from "./cases.ts";
import { inDir, prepareCase } from "./harness.ts";

export interface CaseReport {
  name: string;
  ok: boolean;
  skipped?: string;
  detail?: string;
}

const decoder = new TextDecoder();

/** Path of nats-server on PATH, or undefined. */
export function findNatsServer(): string | undefined {
  for (const d of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const p = `${d}/nats-server`;
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(
  bin: string,
  args: string[],
  dir: string,
  env: Record<string, string>,
  timeoutMs: number,
) {
  const child = new Deno.Command(bin, {
    args,
    cwd: dir,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }, timeoutMs);
  return child.output().then((out) => {
    clearTimeout(timer);
    const text = decoder.decode(out.stderr) + decoder.decode(out.stdout);
    const lines = text.split("\n").filter((l) => l !== "").map((l) =>
      l.replace(/^nats-server: /, "")
    );
    return { code: out.code, lines, killed };
  });
}

const stripHint = (l: string) => l.replace(/ \(did you mean "[^"]*"\?\)$/, "");

export async function checkCase(bin: string, c: Case): Promise<CaseReport> {
  const mode = c.ref ?? "same";
  if (mode === "skip") return { name: c.name, ok: true, skipped: c.note ?? "skip" };
  const dir = prepareCase(c);
  const env = c.env ?? {};
  const cwd = Deno.cwd();
  let ours: string[];
  Deno.chdir(dir);
  try {
    const r = loadConfigFile("case.conf", { env });
    ours = [...r.warnings, ...r.errors].map(formatConfigError).map(stripHint);
  } finally {
    Deno.chdir(cwd);
  }
  try {
    const ref = await run(bin, ["-t", "-c", "case.conf"], dir, env, 10_000);
    const refOk = ref.code === 0;
    const show = () =>
      `ours:\n    ${ours.join("\n    ")}\n  reference (rc=${ref.code}):\n    ${
        ref.lines.join("\n    ")
      }`;
    switch (mode) {
      case "same":
      case "message":
      case "exit": {
        if (refOk !== (ours.length === 0)) {
          return { name: c.name, ok: false, detail: "accept/reject differs\n  " + show() };
        }
        if (mode === "same" || mode === "message") {
          const bare = (l: string) => mode === "message" ? l.replace(/^[^:]*:\d+:-?\d+: /, "") : l;
          const refBare = ref.lines.map(bare);
          const missing = ours.filter((l) => !refBare.includes(bare(l)));
          if (missing.length) {
            return {
              name: c.name,
              ok: false,
              detail: `not printed by the reference: ${missing.join(" | ")}\n  ` + show(),
            };
          }
        }
        return { name: c.name, ok: true, detail: show() };
      }
      case "extension":
        if (refOk || ours.length !== 0 || !ref.lines.every((l) => l.includes("unknown field"))) {
          return {
            name: c.name,
            ok: false,
            detail: "expected: reference says unknown field, we accept\n  " + show(),
          };
        }
        return { name: c.name, ok: true, detail: show() };
      case "refuse":
        if (!refOk || ours.length === 0) {
          return {
            name: c.name,
            ok: false,
            detail: "expected: reference accepts, we refuse\n  " + show(),
          };
        }
        return { name: c.name, ok: true, detail: show() };
      case "startup": {
        if (!refOk || ours.length !== 0) {
          return { name: c.name, ok: false, detail: "-t should accept\n  " + show() };
        }
        const start = await run(bin, ["-c", "case.conf"], dir, env, 5_000);
        const want = c.validate?.[0];
        const first = start.lines[0];
        if (start.killed || start.code !== 1 || first !== want) {
          return {
            name: c.name,
            ok: false,
            detail: `startup: want "nats-server: ${want}", got rc=${start.code}${
              start.killed ? " (killed)" : ""
            }: ${first}`,
          };
        }
        return { name: c.name, ok: true, detail: `startup: nats-server: ${first}` };
      }
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

export async function runReferenceCheck(bin: string, verbose = false): Promise<CaseReport[]> {
  const out: CaseReport[] = [];
  for (const c of CASES) {
    const r = await checkCase(bin, c);
    out.push(r);
    if (r.skipped) console.log(`SKIP ${c.name}: ${r.skipped}`);
    else if (!r.ok) console.log(`FAIL ${c.name}\n  ${r.detail}`);
    else if (verbose) console.log(`ok   ${c.name}\n  ${r.detail}`);
  }
  return out;
}

export { inDir };

if (import.meta.main) {
  const bin = findNatsServer();
  if (!bin) {
    console.log("nats-server is not on PATH: reference check skipped");
  } else {
    const reports = await runReferenceCheck(bin, Deno.args.includes("-v"));
    const failed = reports.filter((r) => !r.ok).length;
    const skipped = reports.filter((r) => r.skipped).length;
    console.log(
      `${reports.length} cases: ${
        reports.length - failed - skipped
      } agree, ${failed} disagree, ${skipped} skipped`,
    );
    if (failed) Deno.exitCode = 1;
  }
}
