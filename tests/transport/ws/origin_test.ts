import assert from "node:assert/strict";
import {
  type AllowedOrigins,
  checkOrigin,
  goQuoteByteString as goQuote,
  goUrlParse,
  goUrlParseRequestURI,
  hostAndPort,
  NO_ALLOWED_ORIGINS,
  parseAllowedOrigins,
} from "../../../lib/transport/ws/mod.ts";
import { splitHostPort as goSplitHostPort } from "../../../lib/core/gofmt.ts";

function origins(list: string[]): AllowedOrigins {
  const r = parseAllowedOrigins(list);
  assert.ok(r.ok, "allowed origins should parse");
  return r.origins;
}

// Port of server/websocket_test.go TestWSCheckOrigin. `err` is a substring of the reason
// ("" = accepted), as in the reference.
const SOME_LIST = ["http://host1.com", "http://host2.com:1234"];
const CHECK_ORIGIN_TABLE: {
  name: string;
  sameOrigin: boolean;
  origins: string[];
  reqHost: string;
  reqTLS: boolean;
  origin: string;
  err: string;
}[] = [
  {
    name: "any",
    sameOrigin: false,
    origins: [],
    reqHost: "",
    reqTLS: false,
    origin: "http://any.host.com",
    err: "",
  },
  {
    name: "same origin ok",
    sameOrigin: true,
    origins: [],
    reqHost: "host.com",
    reqTLS: false,
    origin: "http://host.com:80",
    err: "",
  },
  {
    name: "same origin bad host",
    sameOrigin: true,
    origins: [],
    reqHost: "host.com",
    reqTLS: false,
    origin: "http://other.host.com",
    err: "not same origin",
  },
  {
    name: "same origin bad port",
    sameOrigin: true,
    origins: [],
    reqHost: "host.com",
    reqTLS: false,
    origin: "http://host.com:81",
    err: "not same origin",
  },
  {
    name: "same origin bad scheme",
    sameOrigin: true,
    origins: [],
    reqHost: "host.com",
    reqTLS: true,
    origin: "http://host.com",
    err: "not same origin",
  },
  {
    name: "same origin bad uri",
    sameOrigin: true,
    origins: [],
    reqHost: "host.com",
    reqTLS: false,
    origin: "@@@://invalid:url:1234",
    err: "invalid URI",
  },
  {
    name: "same origin bad url",
    sameOrigin: true,
    origins: [],
    reqHost: "host.com",
    reqTLS: false,
    origin: "http://invalid:url:1234",
    err: "too many colons",
  },
  {
    name: "same origin bad req host",
    sameOrigin: true,
    origins: [],
    reqHost: "invalid:url:1234",
    reqTLS: false,
    origin: "http://host.com",
    err: "too many colons",
  },
  {
    name: "no origin same origin ignored",
    sameOrigin: true,
    origins: [],
    reqHost: "",
    reqTLS: false,
    origin: "",
    err: "",
  },
  {
    name: "no origin list ignored",
    sameOrigin: true,
    origins: SOME_LIST,
    reqHost: "",
    reqTLS: false,
    origin: "",
    err: "",
  },
  {
    name: "no origin same origin and list ignored",
    sameOrigin: true,
    origins: SOME_LIST,
    reqHost: "",
    reqTLS: false,
    origin: "",
    err: "",
  },
  {
    name: "allowed from list",
    sameOrigin: false,
    origins: SOME_LIST,
    reqHost: "",
    reqTLS: false,
    origin: "http://host2.com:1234",
    err: "",
  },
  {
    name: "allowed with different path",
    sameOrigin: false,
    origins: SOME_LIST,
    reqHost: "",
    reqTLS: false,
    origin: "http://host1.com/some/path",
    err: "",
  },
  {
    name: "list bad port",
    sameOrigin: false,
    origins: SOME_LIST,
    reqHost: "",
    reqTLS: false,
    origin: "http://host1.com:1234",
    err: "not in the allowed list",
  },
  {
    name: "list bad scheme",
    sameOrigin: false,
    origins: SOME_LIST,
    reqHost: "",
    reqTLS: false,
    origin: "https://host2.com:1234",
    err: "not in the allowed list",
  },
];

for (const t of CHECK_ORIGIN_TABLE) {
  Deno.test(`ws origin: TestWSCheckOrigin ${t.name}`, () => {
    const err = checkOrigin(t.origin, {
      sameOrigin: t.sameOrigin,
      allowedOrigins: origins(t.origins),
      requestHost: t.reqHost,
      isTls: t.reqTLS,
    });
    if (t.err === "") assert.equal(err, null);
    else {
      assert.notEqual(err, null);
      assert.ok(err!.includes(t.err), `${err} should contain ${t.err}`);
    }
  });
}

// Exact reasons observed on nats-server 2.9.10 (same_origin: true, plain ws, Host as given).
const SAME_ORIGIN_VERIFIED: [string, string, string | null][] = [
  ["localhost", "http://localhost", null],
  ["localhost", "http://LOCALHOST:80", null],
  ["localhost", "https://localhost", "not same origin"],
  ["localhost", "http://localhost:", "not same origin"],
  ["localhost:", "http://localhost", "not same origin"],
  ["localhost:80", "http://localhost", null],
  ["LocalHost", "http://localhost/x/y?z#w", null],
  ["localhost", "http://invalid:url:1234", "address invalid:url:1234: too many colons in address"],
  ["invalid:url:1234", "http://localhost", "address invalid:url:1234: too many colons in address"],
  [
    "localhost",
    "@@@://invalid:url:1234",
    'parse "@@@://invalid:url:1234": invalid URI for request',
  ],
  [
    "localhost",
    "http://exa mple.com",
    'parse "http://exa mple.com": invalid character " " in host name',
  ],
  ["localhost", "http://user@localhost", null],
  ["localhost", "ws://localhost", null],
  ["localhost", "http:/localhost", "not same origin"],
  ["localhost", "http:localhost", "not same origin"],
  ["localhost", "HTTP://localhost", null],
  ["[::1]", "http://[::1]", null],
  ["[::1]", "http://[::1]:80", "not same origin"],
  ["localhost", "http://[::1", `parse "http://[::1": missing ']' in host`],
  [
    "localhost",
    "http://localhost:8a",
    'parse "http://localhost:8a": invalid port ":8a" after host',
  ],
  ["localhost", "http://local%41host", 'parse "http://local%41host": invalid URL escape "%41"'],
  ["localhost", "http://local%zzhost", 'parse "http://local%zzhost": invalid URL escape "%zz"'],
  ["localhost", "/foo", "not same origin"],
  ["localhost", "http://localhost/%zz", 'parse "http://localhost/%zz": invalid URL escape "%zz"'],
  ["localhost", "http://a:b@localhost:80", null],
  ["localhost", "*", "not same origin"],
  ["localhost", "http://localhost?x", null],
  ["localhost", "http://[fe80::1%25en0]:80", "not same origin"],
  ["localhost", "http://localhost:99999", "not same origin"],
  ["localhost", 'http://local"host', "not same origin"],
  ["localhost", "1http://localhost", 'parse "1http://localhost": invalid URI for request'],
  ["localhost", "http://[::1]x", 'parse "http://[::1]x": invalid port "x" after host'],
  ["localhost", "null", 'parse "null": invalid URI for request'],
  ["localhost", "http://bad.com", "not same origin"],
];

for (const [host, origin, want] of SAME_ORIGIN_VERIFIED) {
  Deno.test(`ws origin: same_origin verified Host=${host} Origin=${origin}`, () => {
    const err = checkOrigin(origin, {
      sameOrigin: true,
      allowedOrigins: NO_ALLOWED_ORIGINS,
      requestHost: host,
      isTls: false,
    });
    assert.equal(err, want);
  });
}

// allowed_origins observed on 2.9.10; "host1.com" is skipped (logged), "HTTP://host3.com" is
// overridden by "https://host3.com" (one entry per host, last wins).
const VERIFIED_LIST = [
  "host1.com",
  "http://Host2.com:1234/p",
  "HTTP://host3.com",
  "https://host3.com",
  "http://a:b:1234",
  "http://[::1]",
];
const ALLOWED_VERIFIED: [string, string | null][] = [
  ["http://host1.com", "not in the allowed list"],
  ["http://host2.com:1234", null],
  ["http://HOST2.com:1234/other", null],
  ["http://host2.com", "not in the allowed list"],
  ["https://host3.com", null],
  ["http://host3.com", "not in the allowed list"],
  ["https://host3.com:443", null],
  ["http://[::1]", null],
  ["http://[::1]:80", "not in the allowed list"],
  ["", null],
  ["null", 'parse "null": invalid URI for request'],
];

for (const [origin, want] of ALLOWED_VERIFIED) {
  Deno.test(`ws origin: allowed list verified Origin=${origin || "(none)"}`, () => {
    const err = checkOrigin(origin, {
      sameOrigin: false,
      allowedOrigins: origins(VERIFIED_LIST),
      requestHost: "x",
      isTls: false,
    });
    assert.equal(err, want);
  });
}

Deno.test("ws origin: allowed list table contents and warnings", () => {
  const r = parseAllowedOrigins(VERIFIED_LIST);
  assert.ok(r.ok);
  assert.deepEqual(r.warnings, [
    'error parsing allowed origin: parse "host1.com": invalid URI for request',
  ]);
  assert.deepEqual([...r.origins.entries()], [
    ["host2.com", { scheme: "http", port: "1234" }],
    ["host3.com", { scheme: "https", port: "443" }],
    ["", { scheme: "http", port: "" }],
    ["[::1]", { scheme: "http", port: "80" }],
  ]);
});

Deno.test("ws origin: only unparsable-as-request entries means no restriction", () => {
  const r = parseAllowedOrigins(["host1.com"]);
  assert.ok(r.ok);
  assert.equal(r.origins.size, 0);
  assert.equal(
    checkOrigin("http://evil.com", {
      sameOrigin: false,
      allowedOrigins: r.origins,
      requestHost: "x",
      isTls: false,
    }),
    null,
  );
});

Deno.test("ws origin: same origin with TLS default port 443", () => {
  const p = {
    sameOrigin: true,
    allowedOrigins: NO_ALLOWED_ORIGINS,
    requestHost: "h.com",
    isTls: true,
  };
  assert.equal(checkOrigin("https://h.com", p), null);
  assert.equal(checkOrigin("https://h.com:443", p), null);
  assert.equal(checkOrigin("http://h.com:443", p), null); // scheme only matters through the port
  assert.equal(checkOrigin("http://h.com", p), "not same origin");
});

Deno.test("ws origin: same origin and allowed list both apply", () => {
  const p = {
    sameOrigin: true,
    allowedOrigins: origins(["http://other.com"]),
    requestHost: "h.com",
    isTls: false,
  };
  assert.equal(checkOrigin("http://h.com", p), "not in the allowed list");
  assert.equal(checkOrigin("http://other.com", p), "not same origin");
});

// Startup validation errors (exact texts observed on 2.9.10).
const VALIDATION_VERIFIED: [string, string][] = [
  ["http://this:is:bad:url", 'parse "http://this:is:bad:url": invalid port ":url" after host'],
  ["http://a b", 'parse "http://a b": invalid character " " in host name'],
  ["http://h#%zz", 'parse "http://h#%zz": invalid URL escape "%zz"'],
  ["http://h4.com#%zz", 'parse "http://h4.com#%zz": invalid URL escape "%zz"'],
  ["http://h/%zz", 'parse "http://h/%zz": invalid URL escape "%zz"'],
  [":foo", 'parse ":foo": missing protocol scheme'],
  ["http://[::1", `parse "http://[::1": missing ']' in host`],
];

for (const [entry, want] of VALIDATION_VERIFIED) {
  Deno.test(`ws origin: parseAllowedOrigins rejects ${entry}`, () => {
    const r = parseAllowedOrigins(["http://fine.com", entry]);
    assert.deepEqual(r, { ok: false, error: `unable to parse allowed origin: ${want}` });
  });
}

Deno.test("ws origin: hostAndPort defaults and errors", () => {
  assert.deepEqual(hostAndPort(false, "Host.COM"), { ok: true, host: "host.com", port: "80" });
  assert.deepEqual(hostAndPort(true, "host.com"), { ok: true, host: "host.com", port: "443" });
  assert.deepEqual(hostAndPort(false, ""), { ok: true, host: "", port: "80" });
  assert.deepEqual(hostAndPort(false, "[::1]:4443"), { ok: true, host: "::1", port: "4443" });
  assert.deepEqual(hostAndPort(false, "[::1]"), { ok: true, host: "[::1]", port: "80" });
  assert.deepEqual(hostAndPort(false, "a:b:c"), {
    ok: false,
    error: "address a:b:c: too many colons in address",
  });
});

Deno.test("ws origin: goSplitHostPort error texts", () => {
  const cases: [string, string][] = [
    ["host", "address host: missing port in address"],
    ["[::1", "address [::1: missing ']' in address"],
    ["[::1]", "address [::1]: missing port in address"],
    ["[::1]:80:90", "address [::1]:80:90: too many colons in address"],
    ["[::1]x:80", "address [::1]x:80: missing port in address"],
    ["a[b:80", "address a[b:80: unexpected '[' in address"],
    ["a]b:80", "address a]b:80: unexpected ']' in address"],
    ["", "missing port in address"],
  ];
  for (const [input, want] of cases) {
    const r = goSplitHostPort(input);
    assert.ok(!r.ok, input);
    assert.equal(r.error, want, input);
  }
  assert.deepEqual(goSplitHostPort(":80"), { ok: true, host: "", port: "80" });
  assert.deepEqual(goSplitHostPort("[fe80::1%en0]:80"), {
    ok: true,
    host: "fe80::1%en0",
    port: "80",
  });
});

Deno.test("ws origin: Go url parsing details", () => {
  const ok = (r: ReturnType<typeof goUrlParse>) => {
    assert.ok(r.ok);
    return r.url;
  };
  assert.deepEqual(ok(goUrlParseRequestURI("HTTP://User:pw@Host.com:81/a%20b?q#f")), {
    scheme: "http",
    host: "Host.com:81",
    opaque: "",
    path: "/a b",
  });
  assert.equal(ok(goUrlParse("host1.com")).path, "host1.com");
  assert.equal(ok(goUrlParse("http:opaque")).opaque, "opaque");
  assert.equal(ok(goUrlParse("//h.com/p")).host, "h.com");
  assert.equal(ok(goUrlParseRequestURI("//h.com/p")).host, "");
  assert.equal(ok(goUrlParseRequestURI("http://[fe80::1%25en0]:8")).host, "[fe80::1%en0]:8");
  const err = (r: ReturnType<typeof goUrlParse>) => {
    assert.ok(!r.ok);
    return r.error;
  };
  assert.equal(err(goUrlParseRequestURI("")), 'parse "": empty url');
  assert.equal(
    err(goUrlParse("http://a\x01b")),
    'parse "http://a\\x01b": net/url: invalid control character in URL',
  );
  assert.equal(ok(goUrlParse("a:b/c:d")).opaque, "b/c:d");
  assert.equal(
    err(goUrlParse("1a:b")),
    'parse "1a:b": first path segment in URL cannot contain colon',
  );
  assert.equal(err(goUrlParse("http://u{@h")), 'parse "http://u{@h": net/url: invalid userinfo');
  assert.equal(err(goUrlParse("http://u%zz@h")), 'parse "http://u%zz@h": invalid URL escape "%zz"');
  assert.equal(err(goUrlParse("http://h%")), 'parse "http://h%": invalid URL escape "%"');
});

Deno.test("ws origin: goQuote", () => {
  assert.equal(goQuote("abc"), '"abc"');
  assert.equal(goQuote('a"b\\c'), '"a\\"b\\\\c"');
  assert.equal(goQuote("\t\n\x00\x7f"), '"\\t\\n\\x00\\x7f"');
  assert.equal(goQuote("\xc3\xa9"), '"é"'); // ByteString holding valid UTF-8
  assert.equal(goQuote("\xff"), '"\\xff"');
  assert.equal(goQuote("é"), '"\\xe9"'); // a lone Latin-1 byte is invalid UTF-8
});
