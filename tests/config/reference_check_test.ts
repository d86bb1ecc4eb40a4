/**
 * Replays the whole corpus through the real nats-server 2.9.10 when it is on PATH
 * (see reference_check.ts); skipped with a printed reason otherwise.
 */
import { deepEqual } from "node:assert/strict";
import { findNatsServer, runReferenceCheck } from "./reference_check.ts";

const bin = findNatsServer();
if (!bin) console.log("reference check skipped: nats-server is not on PATH");

Deno.test({
  name: "config corpus agrees with nats-server 2.9.10 (-t and startup)",
  ignore: bin === undefined,
  fn: async () => {
    const version = new Deno.Command(bin!, { args: ["--version"] }).outputSync();
    const v = new TextDecoder().decode(version.stdout) + new TextDecoder().decode(version.stderr);
    if (!v.includes("v2.9.10")) console.log(`warning: reference is ${v.trim()}, not v2.9.10`);
    const reports = await runReferenceCheck(bin!);
    const failed = reports.filter((r) => !r.ok).map((r) => `${r.name}: ${r.detail}`);
    const skipped = reports.filter((r) => r.skipped).length;
    console.log(
      `${reports.length} cases: ${
        reports.length - failed.length - skipped
      } agree, ${skipped} skipped`,
    );
    deepEqual(failed, []);
  },
});
