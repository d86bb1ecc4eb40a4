/** Test assertions: node:assert/strict with the argument order of Deno's std. */
import assert from "node:assert/strict";

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  assert.deepStrictEqual(actual, expected, msg);
}

export function assert_(cond: unknown, msg?: string): asserts cond {
  assert.ok(cond, msg);
}
export { assert_ as assert };

export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  assert.match(actual, re, msg);
}

export async function assertRejects(fn: () => Promise<unknown>, msg?: string): Promise<void> {
  await assert.rejects(fn, msg);
}
