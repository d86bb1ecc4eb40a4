/**
 * Keeps ARCHITECTURE.md true: every `import`/`export ... from` in lib/** must follow the import
 * rules table there (read from between the `import-rules` markers). A violation names the
 * offending edge: `lib/core/x.ts → lib/protocol/client.ts: core may not import protocol`. And
 * lib/core stays the one home of its primitives: a function of the same name elsewhere in lib/
 * is a copy.
 */
import { assert, assertEquals } from "./helpers/assert.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/** One folder's row of the rules table. */
export interface FolderRule {
  /** Folders (or `folder/file.ts`) it may import values from. */
  values: string[];
  /** Folders (or `folder/file.ts`) it may import with `import type` only. */
  types: string[];
}

/** One import found in a file. */
export interface ImportEdge {
  /** Importing file, relative to the repository root (`lib/...`). */
  from: string;
  /** The specifier as written. */
  specifier: string;
  /** Whether only types are imported (`import type`, `export type`, all-`type` specifiers). */
  typeOnly: boolean;
}

/** Reads the rules table of ARCHITECTURE.md. */
export function parseRules(markdown: string): Map<string, FolderRule> {
  const start = markdown.indexOf("<!-- import-rules:start -->");
  const end = markdown.indexOf("<!-- import-rules:end -->");
  if (start < 0 || end < start) throw new Error("ARCHITECTURE.md: import-rules markers missing");
  const rules = new Map<string, FolderRule>();
  for (const line of markdown.slice(start, end).split("\n")) {
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (cells.length !== 3 || /^-+$/.test(cells[0]) || cells[0] === "folder") continue;
    const names = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    const [folder] = names(cells[0]);
    rules.set(folder, { values: names(cells[1]), types: names(cells[2]) });
  }
  return rules;
}

/** Removes comments (doc examples hold `import` lines that are not imports). */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** The static imports and re-exports of one source text. */
export function importsOf(from: string, src: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  const re = /(?:^|[;\n])\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*["']([^"']+)["']/g;
  const code = stripComments(src);
  for (const m of code.matchAll(re)) {
    const [, , typeKw, clause, specifier] = m;
    edges.push({ from, specifier, typeOnly: typeKw !== undefined || allTypeSpecifiers(clause) });
  }
  for (const m of code.matchAll(/(?:^|[;\n])\s*import\s*["']([^"']+)["']/g)) {
    edges.push({ from, specifier: m[1], typeOnly: false });
  }
  return edges;
}

/** `{ type A, type B }` with nothing else imports types only. */
function allTypeSpecifiers(clause: string): boolean {
  const m = /^\{([\s\S]*)\}$/.exec(clause.trim());
  if (!m) return false;
  const names = m[1].split(",").map((s) => s.trim()).filter((s) => s !== "");
  return names.length > 0 && names.every((s) => s.startsWith("type "));
}

/** `lib/a/b.ts` + `../c/d.ts` → `lib/c/d.ts` (posix, no `..` left). */
function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const seg of specifier.split("/")) {
    if (seg === "..") parts.pop();
    else if (seg !== ".") parts.push(seg);
  }
  return parts.join("/");
}

function matchesEntry(target: string, entry: string): boolean {
  // `folder` covers everything in lib/folder/; `folder/file.ts` only that file.
  return target === `lib/${entry}` || target.startsWith(`lib/${entry}/`);
}

/** Every edge that breaks a rule, as `from → to: why`. */
export function violations(edges: ImportEdge[], rules: Map<string, FolderRule>): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const folder = e.from.split("/")[1];
    const rule = rules.get(folder);
    if (!rule) {
      out.push(`${e.from}: folder lib/${folder}/ has no row in the ARCHITECTURE.md import rules`);
      continue;
    }
    if (/^(npm|jsr|https?):/.test(e.specifier)) {
      out.push(`${e.from} → ${e.specifier}: lib/ uses Deno built-ins only (no third-party code)`);
      continue;
    }
    if (!e.specifier.startsWith(".")) continue; // node:* and other built-ins
    const target = resolve(e.from, e.specifier);
    if (!target.startsWith("lib/")) {
      out.push(`${e.from} → ${target}: lib/ may not import ${target}`);
      continue;
    }
    const targetFolder = target.split("/")[1];
    if (targetFolder === folder) continue;
    const ok = rule.values.some((v) => matchesEntry(target, v)) ||
      (e.typeOnly && rule.types.some((t) => matchesEntry(target, t)));
    if (ok) continue;
    const typesOk = rule.types.some((t) => matchesEntry(target, t));
    out.push(
      `${e.from} → ${target}: ${folder} may not import ${targetFolder}` +
        (typesOk ? " (types only: use `import type`)" : ""),
    );
  }
  return out;
}

async function libFiles(dir = `${ROOT}lib`): Promise<string[]> {
  const files: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) files.push(...await libFiles(path));
    else if (/\.(ts|js|mjs)$/.test(entry.name)) files.push(path.slice(ROOT.length));
  }
  return files.sort();
}

Deno.test("architecture: every import in lib/ follows the ARCHITECTURE.md rules", async () => {
  const rules = parseRules(await Deno.readTextFile(`${ROOT}ARCHITECTURE.md`));
  const edges: ImportEdge[] = [];
  for (const f of await libFiles()) {
    edges.push(...importsOf(f, await Deno.readTextFile(`${ROOT}${f}`)));
  }
  assert(edges.length > 100, `the scan found the imports (${edges.length})`);
  const bad = violations(edges, rules);
  if (bad.length) console.error(`import rule violations:\n  ${bad.join("\n  ")}`);
  assertEquals(bad, []);
});

Deno.test("architecture: the checker reports edges against the direction", () => {
  const rules = parseRules(`<!-- import-rules:start -->
| folder | may import | types only |
| --- | --- | --- |
| \`core\` | | |
| \`transport\` | \`core\` | \`protocol/transport.ts\` |
| \`server\` | \`core\`, \`transport\` | |
<!-- import-rules:end -->`);
  const src = (text: string, from: string) => importsOf(from, text);
  const edges = [
    ...src(`import { x } from "../transport/tcp.ts";`, "lib/core/a.ts"),
    ...src(`import type { T } from "../protocol/transport.ts";`, "lib/transport/b.ts"),
    ...src(`import { type T } from "../protocol/transport.ts";`, "lib/transport/c.ts"),
    ...src(`import { T } from "../protocol/transport.ts";`, "lib/transport/d.ts"),
    ...src(`import type { C } from "../protocol/client.ts";`, "lib/transport/e.ts"),
    ...src(`/** import { s } from "../../mod.ts"; */\nimport "./f.ts";`, "lib/core/f.ts"),
    ...src(`export { s } from "../../mod.ts";`, "lib/core/g.ts"),
    ...src(`import x from "npm:ws";`, "lib/transport/h.ts"),
    ...src(`import net from "node:net";`, "lib/transport/i.ts"),
    ...src(`import { y } from "../core/y.ts";`, "lib/other/j.ts"),
    ...src(`import {\n  a,\n  b,\n} from "../server/server.ts";`, "lib/transport/k.ts"),
  ];
  assertEquals(violations(edges, rules), [
    "lib/core/a.ts → lib/transport/tcp.ts: core may not import transport",
    "lib/transport/d.ts → lib/protocol/transport.ts: transport may not import protocol " +
    "(types only: use `import type`)",
    "lib/transport/e.ts → lib/protocol/client.ts: transport may not import protocol",
    "lib/core/g.ts → mod.ts: lib/ may not import mod.ts",
    "lib/transport/h.ts → npm:ws: lib/ uses Deno built-ins only (no third-party code)",
    "lib/other/j.ts: folder lib/other/ has no row in the ARCHITECTURE.md import rules",
    "lib/transport/k.ts → lib/server/server.ts: transport may not import server",
  ]);
});

/** The exported function names of lib/core (the primitives every folder imports from there). */
async function corePrimitives(): Promise<Map<string, string>> {
  const names = new Map<string, string>();
  for (const f of await libFiles(`${ROOT}lib/core`)) {
    const text = await Deno.readTextFile(`${ROOT}${f}`);
    for (const m of text.matchAll(/^export function (\w+)/gm)) names.set(m[1], f);
  }
  return names;
}

Deno.test("architecture: lib/core's primitives are defined there only (no copies elsewhere in lib/)", async () => {
  const prims = await corePrimitives();
  assert(prims.has("isValidSubject") && prims.has("crc16") && prims.has("goQuote"), "scan works");
  const copies: string[] = [];
  for (const f of await libFiles()) {
    if (f.startsWith("lib/core/")) continue;
    const text = await Deno.readTextFile(`${ROOT}${f}`);
    // A function or const-arrow of the same name as a core primitive is a copy.
    for (const m of text.matchAll(/^\s*(?:export\s+)?(?:function|const)\s+(\w+)\s*[=(<]/gm)) {
      if (prims.has(m[1])) copies.push(`${f}: ${m[1]} (defined in ${prims.get(m[1])})`);
    }
  }
  assertEquals(copies, []);
});

/**
 * `lib/` loads `node:*` modules through lib/core/node_builtin.ts, on first use: a static value
 * import would start Deno's Node compatibility layer in every server (~6 MB idle RSS).
 */
Deno.test("architecture: lib/ has no static value imports of node:* modules", async () => {
  const offenders: string[] = [];
  for (const f of await libFiles()) {
    const text = await Deno.readTextFile(`${ROOT}${f}`);
    for (
      const m of text.matchAll(/^\s*(import|export)\s+(?!type\b)[^;]*?from\s+"(node:[^"]+)"/gm)
    ) {
      offenders.push(`${f}: ${m[2]}`);
    }
    for (const m of text.matchAll(/^\s*import\s+"(node:[^"]+)"/gm)) offenders.push(`${f}: ${m[1]}`);
  }
  assert(
    (await Deno.readTextFile(`${ROOT}lib/core/node_builtin.ts`)).includes("getBuiltinModule"),
  );
  assertEquals(offenders, []);
});
