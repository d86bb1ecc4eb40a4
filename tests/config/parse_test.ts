/** The generic layer: parseConfigText's tree, kinds, positions, variables, includes. */
import { deepEqual, equal, ok } from "node:assert/strict";
import { type ConfigMap, type ConfigNode, parseConfigText } from "../../lib/config/mod.ts";

function get(m: ConfigMap, ...path: string[]): ConfigNode {
  let n: ConfigNode | undefined;
  let cur: ConfigMap = m;
  for (const k of path) {
    n = cur.get(k);
    if (!n) throw new Error(`no ${k}`);
    if (n.kind === "map") cur = n.value;
  }
  return n!;
}

/** The plain JS value of a node (for comparisons). */
function plain(n: ConfigNode): unknown {
  switch (n.kind) {
    case "map":
      return Object.fromEntries([...n.value].map(([k, v]) => [k, plain(v)]));
    case "array":
      return n.value.map(plain);
    default:
      return n.value;
  }
}

Deno.test("parse: value kinds (int64 as bigint, float, bool, date, string, array, map)", () => {
  const r = parseConfigText(
    "a = 1; b = 2.5; c = yes; d = 2016-05-04T18:53:41Z; e = 'x'; f = [1, two, 3 ]; g { h: -1 }",
  );
  equal(r.errors.length, 0);
  deepEqual(
    plain({ kind: "map", value: r.value, file: "", line: 0, col: 0, usedVariable: false }),
    {
      a: 1n,
      b: 2.5,
      c: true,
      d: new Date(Date.UTC(2016, 4, 4, 18, 53, 41)),
      e: "x",
      f: [1n, "two", 3n],
      g: { h: -1n },
    },
  );
});

Deno.test("parse: size suffixes are exact int64 and wrap like Go", () => {
  const r = parseConfigText("a: 2m\nb: 1EB\nc: 9EB\nd: 64MiB\ne: 1Gi\nf: 3xyz\ng: 1Ghz");
  equal(get(r.value, "a").value, 2_000_000n);
  equal(get(r.value, "b").value, 1152921504606846976n);
  equal(get(r.value, "c").value, BigInt.asIntN(64, 9n * 1024n ** 6n));
  equal(get(r.value, "d").value, 64n * 1024n * 1024n);
  equal(get(r.value, "e").value, 1024n ** 3n);
  equal(get(r.value, "f").value, "3xyz");
  equal(get(r.value, "g").value, "1Ghz");
});

Deno.test("parse: positions are those of the reference (key position; line 1 is 0-based)", () => {
  const r = parseConfigText("port: 1\n  nest {\n    inner: [ 5, {x: 1} ]\n  }\n", {
    file: "p.conf",
  });
  const port = get(r.value, "port");
  deepEqual([port.file, port.line, port.col], ["p.conf", 1, 0]);
  const nest = get(r.value, "nest");
  deepEqual([nest.line, nest.col], [2, 3]);
  const inner = get(r.value, "nest", "inner");
  deepEqual([inner.line, inner.col], [3, 5]);
  ok(inner.kind === "array");
  deepEqual([inner.value[0].line, inner.value[0].col], [3, 14]);
  // A map element takes the position of its closing brace.
  deepEqual([inner.value[1].line, inner.value[1].col], [3, 23]);
});

Deno.test("parse: columns count bytes, like the reference", () => {
  const r = parseConfigText("x: 1\n\u00e9\u00e9: 2\n");
  const n = get(r.value, "\u00e9\u00e9");
  deepEqual([n.line, n.col], [2, 1]);
  const r2 = parseConfigText("x: 1\n  \u00e9: 2\n  k: 3\n");
  deepEqual([get(r2.value, "k").line, get(r2.value, "k").col], [3, 3]);
});

Deno.test("parse: variables resolve innermost scope first and mark the variable used", () => {
  const r = parseConfigText("index = 22\nnest {\n  index = 11\n  foo = $index\n}\nbar = $index\n");
  equal(r.errors.length, 0);
  equal(get(r.value, "nest", "foo").value, 11n);
  equal(get(r.value, "bar").value, 22n);
  equal(get(r.value, "index").usedVariable, true);
  equal(get(r.value, "bar").usedVariable, false);
  // The reference takes the position of the key that holds the reference.
  deepEqual([get(r.value, "bar").line, get(r.value, "bar").col], [6, 1]);
});

Deno.test("parse: environment lookups (object or function), values re-parsed", () => {
  const env = (n: string) =>
    ({ A: "{x: 1, y: [a, b ]}", B: "true", C: "'quoted'" } as Record<string, string>)[n];
  const r = parseConfigText("a: $A\nb: $B\nc: $C\n", { env, file: "e.conf" });
  equal(r.errors.length, 0);
  deepEqual(plain(get(r.value, "a")), { x: 1n, y: ["a", "b"] });
  equal(get(r.value, "b").value, true);
  equal(get(r.value, "c").value, "quoted");
  // Nested values of an env value take the position of the reference.
  const a = get(r.value, "a");
  ok(a.kind === "map");
  deepEqual([a.value.get("x")!.file, a.value.get("x")!.line], ["e.conf", 1]);
  const bad = parseConfigText("a: $A", { env: { A: "{" } });
  equal(
    bad.errors[0].message,
    "variable reference for 'A' on line 1 could not be parsed: Parse error on line 1: 'Unexpected EOF processing map.'",
  );
  const loop = parseConfigText("a: $A", { env: { A: "$A" } });
  ok(loop.errors[0].message.includes("too many nested environment variable references"));
});

Deno.test("parse: semantic errors are all collected; a lexer error stops", () => {
  const r = parseConfigText("a: $X\nb: $Y\nc: 99999999999999999999\n", { env: {} });
  deepEqual(r.errors.map((e) => e.message), [
    "variable reference for 'X' on line 1 can not be found",
    "variable reference for 'Y' on line 2 can not be found",
    "integer '99999999999999999999' is out of the range",
  ]);
  deepEqual(r.errors.map((e) => [e.line, e.col]), [[1, 4], [2, 5], [3, 4]]);
  equal(r.value.size, 0);
  const lex = parseConfigText("a: 1\nb: [1, 2\nc: $Z", { env: {} });
  equal(lex.errors.length, 1);
  ok(lex.errors[0].message.startsWith("Parse error on line 3:"));
});

Deno.test("parse: includes resolve against the including file, merge into the current map", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${dir}/sub`);
    Deno.writeTextFileSync(`${dir}/sub/a.conf`, "x: 1\ninclude 'b.conf'\n");
    Deno.writeTextFileSync(`${dir}/sub/b.conf`, "y: 2\n");
    const r = parseConfigText("m {\n  include sub/a.conf\n  z: 3\n}\n", {
      file: `${dir}/main.conf`,
    });
    equal(r.errors.length, 0);
    deepEqual(plain(get(r.value, "m")), { x: 1n, y: 2n, z: 3n });
    equal(get(r.value, "m", "y").file, `${dir}/sub/b.conf`);
    // Variables of the including file are not visible in the included one.
    Deno.writeTextFileSync(`${dir}/v.conf`, "w: $V\n");
    const v = parseConfigText("V: 1\ninclude v.conf\n", { file: `${dir}/main.conf`, env: {} });
    equal(
      v.errors[0].message,
      "error parsing include file 'v.conf', variable reference for 'V' on line 1 can not be found",
    );
    equal(v.errors[0].file, `${dir}/v.conf`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parse: include cycles are errors, not stack overflows", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.writeTextFileSync(`${dir}/self.conf`, "include self.conf\n");
    const r = parseConfigText("include self.conf\n", { file: `${dir}/main.conf` });
    equal(r.errors.length, 1);
    ok(r.errors[0].message.includes("include cycle detected"), r.errors[0].message);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("parse: reference quirks are kept (key without value, ']' glued to a number)", () => {
  // A key at EOF has no value and disappears.
  equal(parseConfigText("port").value.size, 0);
  // "5]" is the string "5]": arrays of numbers need a separator before ']'.
  const r = parseConfigText("a: [1, 5]\n");
  equal(
    r.errors[0].message,
    `Parse error on line 2: 'Expected an array value terminator "," or an array terminator "]", but got '\0' instead.'`,
  );
});
