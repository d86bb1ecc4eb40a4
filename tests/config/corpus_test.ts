/** The table-driven corpus (cases.ts): our exact outcome for every case. */
import { deepEqual } from "node:assert/strict";
import { formatConfigError, loadConfigFile, validateOptions } from "../../lib/config/mod.ts";
import { CASES } from "./cases.ts";
import { inDir, prepareCase } from "./harness.ts";

for (const c of CASES) {
  Deno.test(`config corpus: ${c.name}`, () => {
    inDir(prepareCase(c), () => {
      const r = loadConfigFile("case.conf", { env: c.env ?? {} });
      deepEqual(r.errors.map(formatConfigError), c.errors ?? [], "errors");
      deepEqual(r.warnings.map(formatConfigError), c.warnings ?? [], "warnings");
      if (r.errors.length === 0) {
        c.expect?.(r.options);
        deepEqual(validateOptions(r.options), c.validate ?? [], "validateOptions");
      }
    });
  });
}
