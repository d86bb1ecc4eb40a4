import assert from "node:assert/strict";
import {
  isValidLiteralSubject,
  isValidQueueName,
  isValidSubject,
  subjectHasWildcard,
  subjectIsSubsetOf,
  subjectMatchesPattern,
} from "../../lib/core/subject.ts";

// [subject, valid, literal]
const SUBJECTS: [string, boolean, boolean][] = [
  ["foo", true, true],
  ["foo.bar", true, true],
  ["foo.bar.baz", true, true],
  ["a.b.c.d.e.f.g.h", true, true],
  ["*", true, false],
  [">", true, false],
  ["foo.*", true, false],
  ["foo.>", true, false],
  ["foo.bar.*", true, false],
  ["foo.bar.>", true, false],
  ["*.bar", true, false],
  ["*.*.*", true, false],
  ["foo.*.>", true, false],
  ["*.>", true, false],
  // Wildcard characters inside a longer token are literal.
  ["foo*", true, true],
  ["foo**", true, true],
  ["foo.**", true, true],
  ["foo*bar", true, true],
  ["foo.*bar", true, true],
  ["foo*.bar", true, true],
  ["*bar", true, true],
  ["foo>", true, true],
  ["foo>>", true, true],
  ["foo.>>", true, true],
  ["foo>bar", true, true],
  ["foo.>bar", true, true],
  ["foo>.bar", true, true],
  [">bar", true, true],
  [">.>>", false, false],
  ["foo.*-", true, true],
  ["foo.>-", true, true],
  ["_INBOX.abc123.*", true, false],
  ["$SYS.REQ.SERVER.PING", true, true],
  ["héllo.wörld", true, true],
  ["foo-bar_baz:qux/1", true, true],
  // Empty tokens.
  ["", false, false],
  [".", false, false],
  ["..", false, false],
  [".foo", false, false],
  ["foo.", false, false],
  ["foo..bar", false, false],
  ["foo.bar..baz", false, false],
  ["a.b..d", false, false],
  ["foo.*.", false, false],
  // `>` must be the last token.
  [">.foo", false, false],
  [">.bar", false, false],
  ["foo.>.bar", false, false],
  [">.>", false, false],
  [">.*", false, false],
  // Whitespace.
  [" ", false, false],
  ["foo bar", false, false],
  ["foo.bar ", false, false],
  [" foo", false, false],
  ["foo\tbar", false, false],
  ["foo.\t", false, false],
  ["foo\rbar", false, false],
  ["foo\nbar", false, false],
  ["foo\r\n", false, false],
  ["foo\fbar", false, false],
  ["foo. .bar", false, false],
  ["foo.* ", false, false],
];

Deno.test("subject: validity table", async (t) => {
  for (const [subject, valid, literal] of SUBJECTS) {
    await t.step(JSON.stringify(subject), () => {
      assert.equal(isValidSubject(subject), valid, "isValidSubject");
      assert.equal(isValidLiteralSubject(subject), literal, "isValidLiteralSubject");
    });
  }
});

Deno.test("subject: queue names", () => {
  for (const q of ["q", "workers", "a.b", "q*", ">", "x-y_z"]) {
    assert.equal(isValidQueueName(q), true, q);
  }
  for (const q of ["", " ", "a b", "a\tb", "a\r", "\nq"]) {
    assert.equal(isValidQueueName(q), false, JSON.stringify(q));
  }
});

// [pattern, subject, matches]
const MATCHES: [string, string, boolean][] = [
  ["foo", "foo", true],
  ["foo", "bar", false],
  ["foo", "fo", false],
  ["fo", "foo", false],
  ["foo", "foo.bar", false],
  ["foo.bar", "foo", false],
  ["*", "foo", true],
  ["*", "foo.bar", false],
  [">", "foo", true],
  [">", "a", true],
  [">", "a.b", true],
  [">", "a.b.c", true],
  ["a.>", "a", false],
  ["a.>", "a.b", true],
  ["a.>", "a.b.c", true],
  ["a.>", "b.c", false],
  ["a.*", "a", false],
  ["a.*", "a.b", true],
  ["a.*", "a.b.c", false],
  ["*.b", "a.b", true],
  ["*.b", "a.c", false],
  ["*.*", "a.b", true],
  ["*.*", "a", false],
  ["*.*", "a.b.c", false],
  ["a.*.c", "a.b.c", true],
  ["a.*.c", "a.b.d", false],
  ["a.*.c", "a.c", false],
  ["a.*.>", "a.b", false],
  ["a.*.>", "a.b.c", true],
  ["a.*.>", "a.b.c.d", true],
  ["foo.bar", "foo.bar", true],
  ["foo.bar", "foo.baz", false],
  ["foo.bar", "foo.barx", false],
  ["foo.barx", "foo.bar", false],
  ["stats.>", "stats.test.22", true],
  ["stats.*.*", "stats.test.22", true],
  ["stats.test.*", "stats.test", false],
  ["stats.*", "stats.test.foos", false],
  ["stats.*.*.foos", "stats.test.foos", false],
  // Wildcard characters in longer tokens are literal.
  ["*bar", "*bar", true],
  ["*bar", "xbar", false],
  ["foo*", "foo*", true],
  ["foo*", "foox", false],
  ["foo.***.bar", "foo.***.bar", true],
  [">bar", ">bar", true],
  [">bar", "xbar", false],
  ["foo.>>>.bar", "foo.>>>.bar", true],
  ["foo.*-", "foo.bar", false],
  ["foo.>-", "foo.bar", false],
  // A wildcard never matches an empty subject token.
  ["*", "", false],
  [">", "", false],
  ["a.*", "a.", false],
  ["a.>", "a.", false],
  ["*.b", ".b", false],
];

Deno.test("subject: subjectMatchesPattern table", async (t) => {
  for (const [pattern, subject, want] of MATCHES) {
    await t.step(`${pattern} ~ ${subject}`, () => {
      assert.equal(subjectMatchesPattern(pattern, subject), want);
    });
  }
});

// [subject, pattern, subset]
const SUBSETS: [string, string, boolean][] = [
  // From the reference's TestIsSubsetMatch.
  ["foo.*", ">", true],
  ["foo.*", "*.*", true],
  ["foo.*", "foo.*", true],
  ["foo.*", "foo.bar", false],
  ["foo.>", ">", true],
  ["foo.>", "*.>", true],
  ["foo.>", "foo.>", true],
  ["foo.>", "foo.bar", false],
  ["foo..bar", "foo.*", false],
  ["foo.*", "foo..bar", false],
  // More.
  ["foo.bar", "foo.bar", true],
  ["foo.bar", "foo.*", true],
  ["foo.bar", "foo.>", true],
  ["foo.bar", ">", true],
  ["foo.bar", "*.*", true],
  ["foo.bar", "*", false],
  ["foo.bar", "foo", false],
  ["foo", "foo.>", false],
  ["foo", ">", true],
  ["foo", "*", true],
  [">", ">", true],
  [">", "*", false],
  [">", "*.>", false],
  ["*", ">", true],
  ["*", "*", true],
  ["*", "foo", false],
  ["*.>", ">", true],
  ["*.>", "*.>", true],
  ["*.>", "foo.>", false],
  ["foo.>", "foo.*", false],
  ["foo.>", "foo.*.>", false],
  ["foo.*.>", "foo.>", true],
  ["foo.*.>", "foo.*.>", true],
  ["foo.*.>", "*.*.>", true],
  ["foo.*.baz", "foo.*.*", true],
  ["foo.*.baz", "foo.bar.*", false],
  ["foo.*", "foo.*.*", false],
  ["foo.*.*", "foo.*", false],
  ["foo.*", "foo.*bar", false],
  ["foo.*bar", "foo.*", true],
  ["foo.*bar", "foo.*bar", true],
  ["foo.xbar", "foo.*bar", false],
  ["foo.>bar", "foo.>", true],
  ["foo.>bar", "foo.*", true],
  ["foo.>", "foo.>bar", false],
  ["foo", "", false],
  // The reference decides a pattern `>` before looking at the subject token
  // (isSubsetMatchTokenized); the config copy agreed, lib/routing's old copy did not.
  ["", ">", true],
  ["foo..bar", "foo.>", true],
  ["foo.", "foo.>", true],
  ["foo..bar", "foo.*.bar", false],
  ["", "*", false],
  ["", "", false],
];

// [subject, has a wildcard token] (the reference's !subjectIsLiteral)
const WILDCARDS: [string, boolean][] = [
  ["foo", false],
  ["*", true],
  [">", true],
  ["foo.*", true],
  ["*.foo", true],
  ["foo.>", true],
  ["foo.*.bar", true],
  ["foo.*bar", false],
  ["foo.>bar", false],
  ["**", false],
  ["foo*.bar", false],
  ["", false],
  ["..*..", true],
];

Deno.test("subject: subjectHasWildcard table", async (t) => {
  for (const [subject, want] of WILDCARDS) {
    await t.step(subject, () => assert.equal(subjectHasWildcard(subject), want));
  }
});

Deno.test("subject: subjectIsSubsetOf table", async (t) => {
  for (const [subject, pattern, want] of SUBSETS) {
    await t.step(`${subject} ⊆ ${pattern}`, () => {
      assert.equal(subjectIsSubsetOf(subject, pattern), want);
    });
  }
});

Deno.test("subject: a literal subject is a subset exactly when it matches", () => {
  for (const [pattern, subject] of MATCHES) {
    if (!isValidLiteralSubject(subject) || !isValidSubject(pattern)) continue;
    assert.equal(
      subjectIsSubsetOf(subject, pattern),
      subjectMatchesPattern(pattern, subject),
      `${subject} vs ${pattern}`,
    );
  }
});
