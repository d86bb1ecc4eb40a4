/**
 * The key table (lib/config/keys.ts) against the builder: every key the builder accepts is in
 * the table and every table key is accepted, with the status the table records (supported,
 * refused, ignored with a warning, extension). The type checker already ties the handlers and
 * the nested switches to the table; these tests check what a config file actually gets.
 */
import { deepStrictEqual, ok } from "node:assert/strict";
import { optionsFromText } from "../../lib/config/mod.ts";
import { TOP_LEVEL_HANDLERS } from "../../lib/config/build.ts";
import * as K from "../../lib/config/keys.ts";
import * as accounts from "../../lib/config/blocks/accounts.ts";
import * as authorization from "../../lib/config/blocks/authorization.ts";
import * as cluster from "../../lib/config/blocks/cluster.ts";
import * as gateway from "../../lib/config/blocks/gateway.ts";
import * as jetstream from "../../lib/config/blocks/jetstream.ts";
import * as leafnodes from "../../lib/config/blocks/leafnodes.ts";
import * as monitoring from "../../lib/config/blocks/monitoring.ts";
import * as mqtt from "../../lib/config/blocks/mqtt.ts";
import * as operator from "../../lib/config/blocks/operator.ts";
import * as tls from "../../lib/config/blocks/tls.ts";
import * as top from "../../lib/config/blocks/top.ts";
import * as websocket from "../../lib/config/blocks/websocket.ts";

const MODULES: Record<K.BlockName, { topLevelHandlers: object }> = {
  top,
  authorization,
  accounts,
  tls,
  websocket,
  leafnodes,
  monitoring,
  operator,
  cluster,
  gateway,
  jetstream,
  mqtt,
};

/** Values of every type: a key's status shows with at least one of them. */
const VALUES = ["1", "true", "false", '"x"', '"10s"', "[a]", "{}", "1.5", "-1"];

/** Where each nested block sits in a config file. */
const NESTED: [K.BlockSpec, (entry: string) => string][] = [
  [K.AUTHORIZATION, (s) => `authorization { ${s} }`],
  [K.USER, (s) => `authorization { users: [ { user: a, ${s} } ] }`],
  [K.PERMISSIONS, (s) => `authorization { users: [ { user: a, permissions: { ${s} } } ] }`],
  [
    K.SUBJECT_PERMISSION,
    (s) => `authorization { users: [ { user: a, permissions: { publish: { ${s} } } } ] }`,
  ],
  [
    K.ALLOW_RESPONSES,
    (s) => `authorization { users: [ { user: a, permissions: { allow_responses: { ${s} } } } ] }`,
  ],
  [K.ACCOUNT, (s) => `accounts { A { ${s} } }`],
  [K.EXPORT, (s) => `accounts { A { exports: [ { ${s} } ] } }`],
  [K.IMPORT, (s) => `accounts { A { imports: [ { ${s} } ] } }`],
  [K.IMPORT_SOURCE, (s) => `accounts { B {}, A { imports: [ { stream: { ${s} } } ] } }`],
  [K.TLS, (s) => `tls { ${s} }`],
  [K.WEBSOCKET, (s) => `websocket { ${s} }`],
  [K.WEBSOCKET_AUTH, (s) => `websocket { authorization { ${s} } }`],
  [K.LEAFNODES, (s) => `leafnodes { ${s} }`],
  [K.LEAFNODE_AUTH, (s) => `leafnodes { authorization { ${s} } }`],
  [K.LEAFNODE_USER, (s) => `leafnodes { authorization { users: [ { ${s} } ] } }`],
];

interface Outcome {
  unknown: boolean;
  refused: boolean;
  ignored: boolean;
}

/** What loading `text` says about `spelling` (case-insensitive). */
function outcome(text: string, spelling: string): Outcome {
  const r = optionsFromText(text, { file: "/tmp/keys_test.conf" });
  const lines = [...r.errors, ...r.warnings].map((e) => e.message);
  const s = spelling.toLowerCase();
  const about = (l: string) => l.toLowerCase().includes(s);
  return {
    unknown: r.errors.some((e) => /unknown field/i.test(e.message) && about(e.message)),
    refused: r.errors.some((e) => e.message.endsWith(": not supported yet") && about(e.message)),
    ignored:
      r.warnings.some((e) =>
        e.message.endsWith(": not supported yet, ignored") && about(e.message)
      ) && !lines.some((l) => l.endsWith(": not supported yet")),
  };
}

/** Checks one spelling of one key against its table status. */
function checkKey(entry: K.KeyEntry, spelling: string, wrap: (s: string) => string): void {
  const results = VALUES.map((v) => outcome(wrap(`${spelling}: ${v}`), spelling));
  const where = `${wrap(spelling)} (${entry.status})`;
  ok(results.every((r) => !r.unknown), `${where}: reported as unknown`);
  switch (entry.status) {
    case "supported":
    case "extension":
      ok(results.every((r) => !r.refused && !r.ignored), `${where}: refused or ignored`);
      break;
    case "refused":
      ok(results.some((r) => r.refused), `${where}: never refused`);
      ok(results.every((r) => !r.ignored), `${where}: ignored instead of refused`);
      break;
    case "ignored":
      ok(results.some((r) => r.ignored), `${where}: never accepted with a warning`);
      ok(results.every((r) => !r.refused), `${where}: refused instead of ignored`);
      break;
  }
}

Deno.test("keys: the top-level handlers are exactly the table's keys, each in its table block", () => {
  deepStrictEqual(Object.keys(TOP_LEVEL_HANDLERS).sort(), Object.keys(K.TOP_LEVEL.keys).sort());
  for (const [name, mod] of Object.entries(MODULES)) {
    const inTable = Object.entries(K.TOP_LEVEL.keys as Record<string, K.KeyEntry>)
      .filter(([, e]) => e.block === name).map(([k]) => k).sort();
    deepStrictEqual(Object.keys(mod.topLevelHandlers).sort(), inTable, `block module ${name}`);
  }
});

Deno.test("keys: every top-level spelling has the status the table records", () => {
  for (const [key, entry] of Object.entries(K.TOP_LEVEL.keys as Record<string, K.KeyEntry>)) {
    for (const spelling of [key, ...entry.aliases, key.toUpperCase()]) {
      checkKey(entry, spelling, (s) => s);
    }
  }
});

Deno.test("keys: every nested spelling has the status the table records", () => {
  for (const [spec, wrap] of NESTED) {
    for (const [key, entry] of Object.entries(spec.keys)) {
      for (const spelling of [key, ...entry.aliases]) checkKey(entry, spelling, wrap);
    }
  }
});

Deno.test("keys: a key missing from a block's table is unknown there, with a hint from the table", () => {
  for (const [spec, wrap] of [[K.TOP_LEVEL, (s: string) => s], ...NESTED] as const) {
    ok(outcome(wrap("zz_not_a_key: 1"), "zz_not_a_key").unknown, `${spec.path}: zz_not_a_key`);
    const first = spec.candidates[0];
    const typo = first + "x";
    const r = optionsFromText(wrap(`${typo}: 1`), { file: "/tmp/keys_test.conf" });
    ok(
      r.errors.some((e) => e.message.includes(`(did you mean "${first}"?)`)),
      `${spec.path}: ${typo} gets no hint: ${r.errors.map(String)}`,
    );
  }
});

Deno.test("keys: the table is well formed (lower case, unique spellings, reload recorded)", () => {
  for (const spec of [K.TOP_LEVEL, ...K.NESTED_BLOCKS]) {
    const spellings = spec.candidates;
    deepStrictEqual(new Set(spellings).size, spellings.length, `${spec.path}: duplicate spelling`);
    for (const s of spellings) ok(s === s.toLowerCase(), `${spec.path}: ${s} is not lower case`);
    for (const [key, e] of Object.entries(spec.keys)) {
      ok(e.reload.fields.length > 0, `${spec.path} ${key}: no reference field`);
      if (e.reload.reloadable === "partly") ok(e.reload.note, `${spec.path} ${key}: no note`);
      if (e.status !== "supported") ok(e.why, `${spec.path} ${key}: no reason`);
    }
  }
  deepStrictEqual(K.NESTED_BLOCKS.length, NESTED.length, "every nested block is tested here");
});

Deno.test("keys: keys inside refused blocks are listed, each block refused by a table row", () => {
  const specs = [K.TOP_LEVEL, ...K.NESTED_BLOCKS];
  for (const { spec, refusedAt } of K.REFUSED_BLOCKS) {
    const cut = refusedAt.lastIndexOf(" ");
    const parentPath = cut < 0 ? "" : refusedAt.slice(0, cut);
    const key = refusedAt.slice(cut + 1);
    const parent = specs.find((s) => s.path === parentPath);
    ok(parent, `${spec.path}: no block ${parentPath}`);
    const row = (parent.keys as Record<string, K.KeyEntry>)[key];
    deepStrictEqual(row?.status, "refused", `${spec.path}: ${refusedAt} is not refused`);
    const spellings = spec.candidates;
    deepStrictEqual(new Set(spellings).size, spellings.length, `${spec.path}: duplicate spelling`);
    for (const [k, e] of Object.entries(spec.keys)) {
      deepStrictEqual(e.status, "refused", `${spec.path} ${k}`);
      ok(e.reload.fields.length > 0, `${spec.path} ${k}: no reference field`);
    }
    if (parentPath === "") {
      // The whole block is refused at its key, whatever is inside.
      for (const k of spellings) {
        const r = optionsFromText(`${key} { ${k}: 1 }`, { file: "/tmp/keys_test.conf" });
        deepStrictEqual(r.errors.map((e) => e.message), [`${key}: not supported yet`]);
      }
    }
  }
});

Deno.test("keys: allKeyRows flattens every block once", () => {
  const rows = K.allKeyRows();
  const ids = rows.map((r) => `${r.path} ${r.key}`);
  deepStrictEqual(new Set(ids).size, ids.length);
  ok(ids.includes(" websocket") && ids.includes("websocket compress"));
  ok(ids.includes("cluster routes") && ids.includes("accounts <name> limits max_payload"));
  const top = rows.filter((r) => r.path === "");
  deepStrictEqual(top.length, Object.keys(K.TOP_LEVEL.keys).length);
});
