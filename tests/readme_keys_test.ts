/**
 * The README's table of config keys is generated from lib/config/keys.ts, so it cannot drift:
 * this test renders the table and compares it with the README section between the
 * `config-keys` markers. After changing the key table, regenerate it with
 * `deno test -A tests/readme_keys_test.ts -- --update` (then `deno fmt README.md`).
 */
import { assertEquals } from "./helpers/assert.ts";
import { allKeyRows, type KeyRow } from "../lib/config/keys.ts";

const README = new URL("../README.md", import.meta.url).pathname;
const START = "<!-- config-keys:start (generated from lib/config/keys.ts) -->";
const END = "<!-- config-keys:end -->";

function status(r: KeyRow): string {
  switch (r.status) {
    case "supported":
      return r.why ? `supported; ${r.why}` : "supported";
    case "refused": {
      const where = r.path === "" ? r.key : `${r.path} ${r.key}`;
      return `refused: \`${where}: not supported yet\` (${r.why})`;
    }
    case "ignored":
      return `accepted and ignored, with a warning (${r.why})`;
    case "extension":
      return `extension: ${r.why}`;
  }
}

function reload(r: KeyRow): string {
  const { reloadable, note } = r.reload;
  if (reloadable === "partly") return `partly: ${note}`;
  return reloadable ? "yes" : "no";
}

const cell = (s: string) => s.replaceAll("|", "\\|");

/** The markdown table of every key. */
export function renderKeyTable(): string {
  const lines = [
    "| block | key | also spelled | here | nats-server 2.9.10 reloads it |",
    "| ----- | --- | ------------ | ---- | ----------------------------- |",
  ];
  for (const r of allKeyRows()) {
    const aliases = r.aliases.map((a) => `\`${a}\``).join(", ");
    lines.push(
      `| ${r.path === "" ? "(top level)" : cell(`\`${r.path}\``)} | \`${r.key}\` | ${aliases} | ${
        cell(status(r))
      } | ${cell(reload(r))} |`,
    );
  }
  return lines.join("\n");
}

function section(readme: string): { before: string; table: string; after: string } {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error("README: config-keys markers missing");
  return {
    before: readme.slice(0, a + START.length),
    table: readme.slice(a + START.length, b).trim(),
    after: readme.slice(b),
  };
}

/** Cell padding and dash counts as `deno fmt` leaves them do not matter. */
function normalise(table: string): string {
  return table.split("\n").map((line) =>
    line.split(/(?<!\\)\|/).map((c) => c.trim().replace(/^-+$/, "-")).join("|")
  ).join("\n");
}

Deno.test("README: the config key table is the one lib/config/keys.ts renders", async () => {
  const readme = await Deno.readTextFile(README);
  const { before, table, after } = section(readme);
  const want = renderKeyTable();
  if (Deno.args.includes("--update")) {
    await Deno.writeTextFile(README, `${before}\n\n${want}\n\n${after}`);
    return;
  }
  assertEquals(
    normalise(table),
    normalise(want),
    "regenerate: deno test -A tests/readme_keys_test.ts -- --update",
  );
});
