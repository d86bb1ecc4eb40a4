import assert from "node:assert/strict";

/**
 * `lib/` loads `node:*` modules through lib/core/node_builtin.ts, on first use: a static value
 * import would start Deno's Node compatibility layer in every server (~6 MB idle RSS).
 */
Deno.test("lib/ has no static value imports of node:* modules", async () => {
  const root = new URL("../../lib/", import.meta.url);
  const offenders: string[] = [];
  async function walk(dir: URL): Promise<void> {
    for await (const e of Deno.readDir(dir)) {
      const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
      if (e.isDirectory) await walk(url);
      else if (e.name.endsWith(".ts")) {
        const text = await Deno.readTextFile(url);
        for (
          const m of text.matchAll(/^\s*(import|export)\s+(?!type\b)[^;]*?from\s+"(node:[^"]+)"/gm)
        ) {
          offenders.push(`${url.pathname.slice(root.pathname.length)}: ${m[2]}`);
        }
        for (const m of text.matchAll(/^\s*import\s+"(node:[^"]+)"/gm)) {
          offenders.push(`${url.pathname.slice(root.pathname.length)}: ${m[1]}`);
        }
      }
    }
  }
  await walk(root);
  assert.ok(
    (await Deno.readTextFile(new URL("core/node_builtin.ts", root))).includes("getBuiltinModule"),
  );
  assert.deepEqual(offenders, []);
});
