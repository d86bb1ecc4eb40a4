/**
 * Differential fuzzing against the real `nats-server -t` (development tool, not part of
 * `deno task test`):
 *
 *   deno run -A tests/config/reference_fuzz.ts [count=500] [seed=1] [mix|random|mutate|options]
 *
 * Generates random and mutated configs, runs each through the reference and through
 * `checkConfigFile`, and reports disagreements: exit code, or a reference line (positions
 * included) that we do not print. Our "did you mean" hints are stripped before comparing.
 * Known, deliberate differences (refused/ignored keys) are excluded by the generator's key set.
 */
import { checkConfigFile } from "../../lib/config/mod.ts";
import { Gen, genConfig, genOptions, mutate, randomText, rng } from "./fuzz_gen.ts";

const count = Number(Deno.args[0] ?? 500);
const seed = Number(Deno.args[1] ?? 1);
/** "mix" (default), "random", "mutate" or "options". */
const mode = Deno.args[2] ?? "mix";
const dir = Deno.makeTempDirSync({ prefix: "natsconf-diff-" });
const env = { FOO: "22", PORT: "-1", HOME_X: "'3xyz'" };
const g = new Gen(rng(seed));

function reference(file: string): { code: number; lines: string[] } {
  const out = new Deno.Command("nats-server", {
    args: ["-t", "-c", file],
    cwd: dir,
    clearEnv: true,
    env,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  const lines = text.split("\n").filter((l) => l !== "").map((l) =>
    l.replace(/^nats-server: /, "")
  );
  return { code: out.code, lines };
}

let bad = 0;
const stripHint = (l: string) => l.replace(/ \(did you mean "[^"]*"\?\)$/, "");
for (let i = 0; i < count; i++) {
  const base = genConfig(g);
  const text = mode === "options"
    ? genOptions(g)
    : mode === "random"
    ? randomText(g)
    : mode === "mutate"
    ? mutate(g, mutate(g, base))
    : g.chance(0.15)
    ? randomText(g)
    : g.chance(0.5)
    ? mutate(g, base)
    : base;
  Deno.writeTextFileSync(`${dir}/case.conf`, text);
  const ref = reference("case.conf");
  if (ref.lines.some((l) => /goroutine|panic|stack overflow/.test(l))) continue; // reference crashed
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  let ours;
  try {
    ours = checkConfigFile("case.conf", { env });
  } finally {
    Deno.chdir(cwd);
  }
  const ourLines = ours.lines.map((l) => stripHint(l.replace(/^nats-server: /, "")));
  // Lines with Go pointer dumps (`%v` of nested tokens) cannot be reproduced; nil-pointer
  // panics are a follow-up of another error in the reference.
  const refLines = ref.lines.filter((l) =>
    !l.includes("runtime error: invalid memory address") && !/0xc0|%!|&\{/.test(l)
  );
  const missing = ref.code === 0 ? [] : refLines.filter((l) => !ourLines.includes(l));
  // Lines that only we print, by design (refused / ignored keys, warnings for what the
  // reference silently ignores).
  const deliberate = (l: string) => /not supported yet|; ignored$|like nats-server$/.test(l);
  const onlyDeliberate = ref.code === 0 && ourLines.every(deliberate);
  if ((ref.code !== ours.exitCode && !onlyDeliberate) || missing.length) {
    bad++;
    console.log("=".repeat(70));
    console.log(JSON.stringify(text));
    console.log("REF  rc=" + ref.code + "\n  " + ref.lines.join("\n  "));
    console.log("OURS rc=" + ours.exitCode + "\n  " + ourLines.join("\n  "));
  }
}
Deno.removeSync(dir, { recursive: true });
console.log(`${count} cases, ${bad} disagreements`);
if (bad) Deno.exitCode = 1;
