import assert from "node:assert/strict";
import { goUrlParse, utf8ByteString } from "../../lib/core/gourl.ts";

// A config value is Unicode; the parser reads Go byte strings. Observed on nats-server 2.9.10
// with `allowed_origins: ["http://é%zz"]`:
//   unable to parse allowed origin: parse "http://é%zz": invalid URL escape "%zz"
Deno.test("gourl: a config value is parsed as its UTF-8 bytes", () => {
  const r = goUrlParse(utf8ByteString("http://é%zz"));
  assert.deepEqual(r, { ok: false, error: 'parse "http://é%zz": invalid URL escape "%zz"' });
  assert.equal(utf8ByteString("é"), "\xc3\xa9");
  assert.equal(utf8ByteString("abc"), "abc");
});
