/**
 * Fuzz: 100k random, grammar-generated and mutated config texts through the whole pipeline
 * (parse → options → validate). Nothing may throw; every problem must be a ConfigError with a
 * position; no single text may take long (no hang), and the whole run stays well under 30 s.
 */
import { ok } from "node:assert/strict";
import { ConfigError, optionsFromText, validateOptions } from "../../lib/config/mod.ts";
import { CASES } from "./cases.ts";
import { Gen, genConfig, mutate, randomText, rng } from "./fuzz_gen.ts";

const TOTAL = 100_000;
const PER_CASE_LIMIT_MS = 1000;
const TOTAL_LIMIT_MS = 30_000;

Deno.test("config fuzz: 100k random and mutated texts never throw, never hang", () => {
  const dir = Deno.makeTempDirSync({ prefix: "natsconf-fuzz-" });
  const file = `${dir}/fuzz.conf`; // includes resolve inside this empty directory
  const g = new Gen(rng(0x5eed));
  const seeds = CASES.map((c) => c.conf);
  const env = { FOO: "1", BAR: "{a: 1}", BAD: "{", SELF: "$SELF" };
  const start = performance.now();
  let worst = 0;
  let withErrors = 0;
  try {
    for (let i = 0; i < TOTAL; i++) {
      let text: string;
      switch (i % 4) {
        case 0:
          text = randomText(g);
          break;
        case 1:
          text = genConfig(g);
          break;
        case 2:
          text = mutate(g, genConfig(g));
          break;
        default:
          text = mutate(g, g.pick(seeds));
      }
      const t0 = performance.now();
      let r;
      try {
        r = optionsFromText(text, { file, env });
        if (r.errors.length === 0) validateOptions(r.options);
      } catch (e) {
        throw new Error(`threw on ${JSON.stringify(text)}: ${(e as Error)?.stack ?? e}`);
      }
      const dt = performance.now() - t0;
      if (dt > worst) worst = dt;
      ok(dt < PER_CASE_LIMIT_MS, `took ${dt.toFixed(0)} ms: ${JSON.stringify(text)}`);
      for (const e of [...r.errors, ...r.warnings]) {
        ok(e instanceof ConfigError, `not a ConfigError: ${e}`);
        ok(
          typeof e.file === "string" && Number.isInteger(e.line) && Number.isInteger(e.col),
          `no position: ${e} for ${JSON.stringify(text)}`,
        );
        ok(e.message.length > 0, "empty message");
      }
      if (r.errors.length) withErrors++;
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
  const total = performance.now() - start;
  console.log(
    `fuzz: ${TOTAL} texts in ${(total / 1000).toFixed(1)} s, slowest ${worst.toFixed(1)} ms, ` +
      `${withErrors} rejected`,
  );
  ok(total < TOTAL_LIMIT_MS, `fuzz took ${total.toFixed(0)} ms`);
  ok(withErrors > TOTAL / 10 && withErrors < TOTAL, "the generators should produce both outcomes");
});
