import assert from "node:assert/strict";
import {
  acceptKey,
  build101Response,
  buildErrorResponse,
  buildHttpParseErrorResponse,
  checkUpgradeRequest,
  getCookie,
  handshakeErrorLog,
  NO_ALLOWED_ORIGINS,
  parseAllowedOrigins,
  parseCookies,
  parseTrustedProxies,
  pathKind,
  requestPath,
  toWebSocketPeer,
  type UpgradeAccepted,
  type UpgradeCheckOptions,
  type UpgradeRequest,
} from "../../../lib/transport/ws/mod.ts";

const dec = new TextDecoder();

/** testWSCreateValidReq */
function validReq(extra: Record<string, string> = {}, url = "/"): UpgradeRequest {
  const headers = new Headers({
    Host: "localhost",
    Upgrade: "websocket",
    Connection: "Upgrade",
    "Sec-Websocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    "Sec-Websocket-Version": "13",
  });
  for (const [k, v] of Object.entries(extra)) headers.set(k, v);
  return { method: "GET", headers, url };
}

function opts(o: Partial<UpgradeCheckOptions> = {}): UpgradeCheckOptions {
  return {
    sameOrigin: false,
    allowedOrigins: NO_ALLOWED_ORIGINS,
    compression: false,
    isTls: false,
    trustedProxies: [],
    remoteIp: "127.0.0.1",
    ...o,
  };
}

function accepted(req: UpgradeRequest, o: Partial<UpgradeCheckOptions> = {}): UpgradeAccepted {
  const r = checkUpgradeRequest(req, opts(o));
  assert.ok(r.ok, `expected 101, got ${JSON.stringify(r)}`);
  return r;
}

// Port of TestWSUpgradeValidationErrors (hijack/buffered-data cases belong to the engines).
const VALIDATION: {
  name: string;
  mutate: (r: UpgradeRequest) => void;
  o?: Partial<UpgradeCheckOptions>;
  status: number;
  reason: string;
}[] = [
  {
    name: "bad method",
    mutate: (r) => (r.method = "POST"),
    status: 405,
    reason: "request method must be GET",
  },
  {
    name: "head method",
    mutate: (r) => (r.method = "HEAD"),
    status: 405,
    reason: "request method must be GET",
  },
  {
    name: "no host",
    mutate: (r) => r.headers.delete("host"),
    status: 400,
    reason: "'Host' missing in request",
  },
  {
    name: "empty host",
    mutate: (r) => r.headers.set("host", ""),
    status: 400,
    reason: "'Host' missing in request",
  },
  {
    name: "invalid upgrade header",
    mutate: (r) => r.headers.delete("upgrade"),
    status: 400,
    reason: "invalid value for header 'Upgrade'",
  },
  {
    name: "wrong upgrade token",
    mutate: (r) => r.headers.set("upgrade", "h2c"),
    status: 400,
    reason: "invalid value for header 'Upgrade'",
  },
  {
    name: "invalid connection header",
    mutate: (r) => r.headers.delete("connection"),
    status: 400,
    reason: "invalid value for header 'Connection'",
  },
  {
    name: "connection keep-alive only",
    mutate: (r) => r.headers.set("connection", "keep-alive"),
    status: 400,
    reason: "invalid value for header 'Connection'",
  },
  {
    name: "no key",
    mutate: (r) => r.headers.delete("sec-websocket-key"),
    status: 400,
    reason: "key missing",
  },
  {
    name: "empty key",
    mutate: (r) => r.headers.set("sec-websocket-key", ""),
    status: 400,
    reason: "key missing",
  },
  {
    name: "missing version",
    mutate: (r) => r.headers.delete("sec-websocket-version"),
    status: 400,
    reason: "invalid version",
  },
  {
    name: "wrong version",
    mutate: (r) => r.headers.set("sec-websocket-version", "99"),
    status: 400,
    reason: "invalid version",
  },
  {
    name: "origin",
    mutate: (r) => r.headers.set("origin", "http://bad.host.com"),
    o: { sameOrigin: true },
    status: 403,
    reason: "origin not allowed: not same origin",
  },
  {
    name: "origin null",
    mutate: (r) => r.headers.set("origin", "null"),
    o: { sameOrigin: true },
    status: 403,
    reason: 'origin not allowed: parse "null": invalid URI for request',
  },
  {
    name: "Sec-Websocket-Origin used when no Origin",
    mutate: (r) => r.headers.set("sec-websocket-origin", "http://bad.host.com"),
    o: { sameOrigin: true },
    status: 403,
    reason: "origin not allowed: not same origin",
  },
  {
    name: "order: method wins over everything",
    mutate: (r) => {
      r.method = "PUT";
      r.headers.delete("host");
      r.headers.delete("upgrade");
    },
    status: 405,
    reason: "request method must be GET",
  },
  {
    name: "order: Upgrade before Connection and key",
    mutate: (r) => {
      r.headers.delete("upgrade");
      r.headers.delete("connection");
      r.headers.delete("sec-websocket-key");
    },
    status: 400,
    reason: "invalid value for header 'Upgrade'",
  },
  {
    name: "order: key before version",
    mutate: (r) => {
      r.headers.delete("sec-websocket-key");
      r.headers.delete("sec-websocket-version");
    },
    status: 400,
    reason: "key missing",
  },
  {
    name: "order: version before origin",
    mutate: (r) => {
      r.headers.delete("sec-websocket-version");
      r.headers.set("origin", "null");
    },
    o: { sameOrigin: true },
    status: 400,
    reason: "invalid version",
  },
];

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  405: "Method Not Allowed",
};

for (const t of VALIDATION) {
  Deno.test(`ws handshake: TestWSUpgradeValidationErrors ${t.name}`, () => {
    const req = validReq();
    t.mutate(req);
    const r = checkUpgradeRequest(req, opts(t.o));
    assert.deepEqual(r, {
      ok: false,
      status: t.status,
      statusText: STATUS_TEXT[t.status],
      body: STATUS_TEXT[t.status] + "\n",
      headers: [
        ["Content-Type", "text/plain; charset=utf-8"],
        ["Sec-Websocket-Version", "13"],
        ["X-Content-Type-Options", "nosniff"],
      ],
      reason: t.reason,
    });
  });
}

const TOKEN_OK: [string, Record<string, string>][] = [
  ["Upgrade list", { upgrade: "foo, WebSocket" }],
  ["Upgrade with tabs", { upgrade: "\twebsocket\t" }],
  ["Connection keep-alive, Upgrade", { connection: "keep-alive, Upgrade" }],
  ["Connection lower case", { connection: "upgrade" }],
  ["version list", { "sec-websocket-version": "8, 13" }],
  ["key not validated", { "sec-websocket-key": "x" }],
];

for (const [name, extra] of TOKEN_OK) {
  Deno.test(`ws handshake: accepted with ${name}`, () => {
    accepted(validReq(extra));
  });
}

Deno.test("ws handshake: accept key RFC 6455 example", () => {
  assert.equal(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  const r = accepted(validReq());
  assert.equal(r.key, "dGhlIHNhbXBsZSBub25jZQ==");
  assert.equal(r.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("ws handshake: plain success result", () => {
  assert.deepEqual(accepted(validReq()), {
    ok: true,
    kind: "client",
    key: "dGhlIHNhbXBsZSBub25jZQ==",
    accept: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
    compress: false,
    noMasking: false,
    browser: false,
    noCompressFragmentation: false,
    responseHeaders: [],
  });
});

const PATHS: [string, string][] = [
  ["/", "client"],
  ["/anything/here", "client"],
  ["", "client"],
  ["/leafnode", "leafnode"],
  ["/leafnode/sub?x=1", "leafnode"],
  ["/leafnodes", "leafnode"],
  ["/mqtt", "mqtt"],
  ["/mqtt?a", "mqtt"],
  // Issue 11: a path ending in /leafnode is a leafnode (nats-server since 2.10.5; a reverse proxy
  // may prefix a sub-path); 2.9.10 checked the prefix only and took it for a client.
  ["/x/leafnode", "leafnode"],
  ["/x/leafnodes", "client"],
  ["/%6Ceafnode", "client"], // escaped path is compared as is
  ["http://localhost:8080/leafnode", "leafnode"],
  ["http://localhost:8080/mqtt/x", "mqtt"],
  ["http://localhost:8080/?/leafnode", "client"],
];

for (const [url, kind] of PATHS) {
  Deno.test(`ws handshake: path ${JSON.stringify(url)} → ${kind}`, () => {
    assert.equal(pathKind(requestPath(url)), kind);
    assert.equal(accepted(validReq({}, url)).kind, kind);
  });
}

// TestWSCompressNegotiation + wsPMCExtensionSupport(checkPMCOnly) details.
const COMPRESSION: [string, boolean, string | null, boolean][] = [
  ["server off, client offers", false, "permessage-deflate", false],
  ["server on, client offers", true, "permessage-deflate", true],
  ["server on, client silent", true, null, false],
  ["offer with params (Chromium)", true, "permessage-deflate; client_max_window_bits", true],
  ["offer among others", true, "x-webkit-deflate-frame, permessage-deflate", true],
  ["case insensitive", true, "PerMessage-Deflate", true],
  ["as a later ';' part", true, "foo; permessage-deflate", true],
  ["other extension only", true, "x-webkit-deflate-frame", false],
];

for (const [name, server, offer, want] of COMPRESSION) {
  Deno.test(`ws handshake: compression ${name}`, () => {
    const r = accepted(
      validReq(offer === null ? {} : { "sec-websocket-extensions": offer }),
      { compression: server },
    );
    assert.equal(r.compress, want);
    assert.deepEqual(
      r.responseHeaders,
      want
        ? [[
          "Sec-WebSocket-Extensions",
          "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        ]]
        : [],
    );
  });
}

Deno.test("ws handshake: Nats-No-Masking needs the exact value true", () => {
  assert.equal(accepted(validReq({ "nats-no-masking": "true" })).noMasking, true);
  assert.equal(accepted(validReq({ "nats-no-masking": "TRUE" })).noMasking, false);
  assert.equal(accepted(validReq({ "nats-no-masking": "1" })).noMasking, false);
  assert.deepEqual(accepted(validReq({ "nats-no-masking": "true" })).responseHeaders, [
    ["Nats-No-Masking", "true"],
  ]);
});

Deno.test("ws handshake: 101 bytes match the reference (mqtt + compression + no masking)", () => {
  // Observed on nats-server 2.9.10 for GET /mqtt with these headers.
  const r = accepted(
    validReq({
      "sec-websocket-extensions": "x, permessage-deflate; a",
      "nats-no-masking": "true",
    }, "/mqtt"),
    { compression: true },
  );
  assert.equal(
    dec.decode(build101Response(r)),
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" +
      "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover\r\n" +
      "Nats-No-Masking: true\r\nSec-Websocket-Protocol: mqtt\r\n\r\n",
  );
  assert.equal(
    dec.decode(build101Response(accepted(validReq()))),
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
      "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n",
  );
});

Deno.test("ws handshake: error response bytes match the reference", () => {
  const date = "Sun, 29 Nov 2026 11:36:07 GMT";
  assert.equal(
    dec.decode(buildErrorResponse(405, { date })),
    "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      "Sec-Websocket-Version: 13\r\nX-Content-Type-Options: nosniff\r\n" +
      `Date: ${date}\r\nContent-Length: 19\r\n\r\nMethod Not Allowed\n`,
  );
  assert.equal(
    dec.decode(buildErrorResponse(403, { date })),
    "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      "Sec-Websocket-Version: 13\r\nX-Content-Type-Options: nosniff\r\n" +
      `Date: ${date}\r\nContent-Length: 10\r\n\r\nForbidden\n`,
  );
  assert.equal(
    dec.decode(buildErrorResponse(400, { date, httpVersion: "HTTP/1.0" })),
    "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n" +
      "Sec-Websocket-Version: 13\r\nX-Content-Type-Options: nosniff\r\n" +
      `Date: ${date}\r\nContent-Length: 12\r\n\r\nBad Request\n`,
  );
  const noDate = dec.decode(buildErrorResponse(400, { date: null, connectionClose: true }));
  assert.ok(!noDate.includes("Date:"));
  assert.ok(noDate.includes("Content-Length: 12\r\nConnection: close\r\n\r\n"));
  const now = dec.decode(buildErrorResponse(400));
  assert.match(now, /\r\nDate: [A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\r\n/);
});

Deno.test("ws handshake: Go's parse-level 400 for HTTP/1.1 without Host", () => {
  assert.equal(
    dec.decode(buildHttpParseErrorResponse("missing required Host header")),
    "HTTP/1.1 400 Bad Request: missing required Host header\r\n" +
      "Content-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" +
      "400 Bad Request: missing required Host header",
  );
});

Deno.test("ws handshake: log line", () => {
  assert.equal(
    handshakeErrorLog("127.0.0.1:49094", "request method must be GET"),
    "127.0.0.1:49094 - websocket handshake error: request method must be GET",
  );
});

// ---------------------------------------------------------------------------------------------
// Browser detection

const BROWSERS: [string, string, string | null, boolean, boolean][] = [
  [
    "Chrome on macOS",
    "/",
    "Mozilla/5.0 (Macintosh) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
    true,
    false,
  ],
  [
    "Safari",
    "/",
    "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Version/17.0 Safari/605.1.15",
    true,
    true,
  ],
  ["not a browser", "/", "nats.go/1.2", false, false],
  ["no UA", "/", null, false, false],
  ["mozilla lower case", "/", "mozilla/5.0", false, false],
  ["mqtt path browser", "/mqtt", "Mozilla/5.0", true, false],
  ["leafnode path never browser", "/leafnode", "Mozilla/5.0 Version/1 Safari/1", false, false],
];

for (const [name, url, ua, browser, nocompfrag] of BROWSERS) {
  Deno.test(`ws handshake: browser detection ${name}`, () => {
    const r = accepted(
      validReq({
        ...(ua === null ? {} : { "user-agent": ua }),
        "sec-websocket-extensions": "permessage-deflate",
      }, url),
      { compression: true },
    );
    assert.equal(r.browser, browser);
    assert.equal(r.noCompressFragmentation, nocompfrag);
  });
}

Deno.test("ws handshake: Safari without compression keeps fragmentation", () => {
  const r = accepted(validReq({ "user-agent": "Mozilla/5.0 Version/17 Safari/605" }));
  assert.equal(r.browser, true);
  assert.equal(r.noCompressFragmentation, false);
});

// ---------------------------------------------------------------------------------------------
// Cookies

const COOKIES: [string, string[], [string, string][]][] = [
  ["simple", ["jwt=abc"], [["jwt", "abc"]]],
  ["several", ["a=1; jwt=eyJ.x.y; b=2"], [["a", "1"], ["jwt", "eyJ.x.y"], ["b", "2"]]],
  ["spaces trimmed around parts", ["  a=1 ;  b=2  "], [["a", "1"], ["b", "2"]]],
  ["quoted value", ['jwt="abc"'], [["jwt", "abc"]]],
  ["empty value", ["jwt="], [["jwt", ""]]],
  ["no '='", ["jwt"], [["jwt", ""]]],
  ["invalid name skipped", ["a b=1; c=2"], [["c", "2"]]],
  ["name with trailing space invalid", ["a =1"], []],
  ["invalid value char skipped", ['a=x"y; b=\\; c=3'], [["c", "3"]]],
  ["value keeps '=' and is not decoded", ["a=b=c%20d"], [["a", "b=c%20d"]]],
  ["value may hold space and comma", ["a=x y,z"], [["a", "x y,z"]]],
  ["several header lines", ["a=1", "b=2"], [["a", "1"], ["b", "2"]]],
  ["empty parts", [";;a=1;;"], [["a", "1"]]],
];

for (const [name, lines, want] of COOKIES) {
  Deno.test(`ws handshake: cookie parsing ${name}`, () => {
    assert.deepEqual(parseCookies(lines), want);
  });
}

Deno.test("ws handshake: getCookie returns the first valid match", () => {
  assert.equal(getCookie(["jwt=1; jwt=2"], "jwt"), "1");
  assert.equal(getCookie(['jwt=bad"; jwt=2'], "jwt"), "2");
  assert.equal(getCookie(["JWT=1"], "jwt"), undefined); // names are case-sensitive
  assert.equal(getCookie([], "jwt"), undefined);
});

Deno.test("ws handshake: jwt_cookie", () => {
  const req = validReq({ cookie: "other=x; nats_jwt=eyJhbGc.payload.sig" });
  assert.equal(accepted(req, { jwtCookie: "nats_jwt" }).cookieJwt, "eyJhbGc.payload.sig");
  assert.equal(accepted(req).cookieJwt, undefined); // option not set
  assert.equal(accepted(req, { jwtCookie: "missing" }).cookieJwt, undefined);
  const leaf = validReq({ cookie: "nats_jwt=x" }, "/leafnode");
  assert.equal(accepted(leaf, { jwtCookie: "nats_jwt" }).cookieJwt, undefined);
  const mqtt = validReq({ cookie: "nats_jwt=x" }, "/mqtt");
  assert.equal(accepted(mqtt, { jwtCookie: "nats_jwt" }).cookieJwt, "x");
});

// ---------------------------------------------------------------------------------------------
// X-Forwarded-For + trusted proxies

function proxies(list: string[]) {
  const r = parseTrustedProxies(list);
  assert.ok(r.ok);
  return r.cidrs;
}

const XFF: {
  name: string;
  trusted: string[];
  remoteIp: string;
  values: string[] | null;
  raw?: boolean;
  want: string | undefined;
}[] = [
  {
    name: "no proxies configured",
    trusted: [],
    remoteIp: "127.0.0.1",
    values: ["1.2.3.4"],
    want: undefined,
  },
  {
    name: "trusted IPv4 peer",
    trusted: ["127.0.0.0/8"],
    remoteIp: "127.0.0.1",
    values: ["1.2.3.4"],
    want: "1.2.3.4",
  },
  {
    name: "untrusted IPv4 peer",
    trusted: ["10.0.0.0/8"],
    remoteIp: "127.0.0.1",
    values: ["1.2.3.4"],
    want: undefined,
  },
  {
    name: "trusted IPv6 peer",
    trusted: ["::1/128"],
    remoteIp: "::1",
    values: ["1.2.3.4"],
    want: "1.2.3.4",
  },
  {
    name: "trusted IPv6 CIDR, IPv6 client",
    trusted: ["fd00::/8"],
    remoteIp: "fd00::10",
    values: ["::1"],
    want: "::1",
  },
  {
    name: "untrusted IPv6 peer",
    trusted: ["fd00::/8"],
    remoteIp: "fe80::1",
    values: ["1.2.3.4"],
    want: undefined,
  },
  {
    name: "IPv4-mapped peer vs IPv4 CIDR",
    trusted: ["10.0.0.0/8"],
    remoteIp: "::ffff:10.0.0.7",
    values: ["1.2.3.4"],
    want: "1.2.3.4",
  },
  {
    name: "header absent",
    trusted: ["0.0.0.0/0"],
    remoteIp: "127.0.0.1",
    values: null,
    want: undefined,
  },
  {
    name: "invalid IP",
    trusted: ["0.0.0.0/0"],
    remoteIp: "127.0.0.1",
    values: ["not a valid IP"],
    want: undefined,
  },
  {
    name: "empty value",
    trusted: ["0.0.0.0/0"],
    remoteIp: "127.0.0.1",
    values: [""],
    want: undefined,
  },
  {
    name: "multi-value header ignored",
    trusted: ["0.0.0.0/0"],
    remoteIp: "127.0.0.1",
    values: ["1.2.3.4, 5.6.7.8"],
    want: undefined,
  },
  {
    name: "padded value ignored",
    trusted: ["0.0.0.0/0"],
    remoteIp: "127.0.0.1",
    values: ["1.2.3.4 "],
    raw: true,
    want: undefined,
  },
  {
    name: "two instances (raw): first used",
    trusted: ["0.0.0.0/0"],
    remoteIp: "127.0.0.1",
    values: ["1.2.3.4", "5.6.7.8"],
    raw: true,
    want: "1.2.3.4",
  },
  {
    name: "two instances (raw): first invalid",
    trusted: ["0.0.0.0/0"],
    remoteIp: "127.0.0.1",
    values: ["x", "5.6.7.8"],
    raw: true,
    want: undefined,
  },
  {
    name: "two instances (Headers joins them): ignored",
    trusted: ["0.0.0.0/0"],
    remoteIp: "127.0.0.1",
    values: ["1.2.3.4", "5.6.7.8"],
    want: undefined,
  },
];

for (const t of XFF) {
  Deno.test(`ws handshake: X-Forwarded-For ${t.name}`, () => {
    const req = validReq();
    if (t.values) { for (const v of t.values) req.headers.append("x-forwarded-for", v); }
    if (t.raw) {
      const raw: [string, string][] = [...validReq().headers.entries()];
      for (const v of t.values ?? []) raw.push(["X-Forwarded-For", v]);
      req.rawHeaders = raw;
    }
    const r = accepted(req, { trustedProxies: proxies(t.trusted), remoteIp: t.remoteIp });
    assert.equal(r.forwardedFor, t.want);
  });
}

Deno.test("ws handshake: X-Forwarded-For applies to leafnode connections too", () => {
  const req = validReq({ "x-forwarded-for": "1.2.3.4" }, "/leafnode");
  assert.equal(
    accepted(req, { trustedProxies: proxies(["127.0.0.1"]) }).forwardedFor,
    "1.2.3.4",
  );
});

// ---------------------------------------------------------------------------------------------
// Raw headers (own-codec engine): first-instance rules

Deno.test("ws handshake: rawHeaders first instance for key, origin, masking, UA", () => {
  const rawHeaders: [string, string][] = [
    ["Host", "localhost"],
    ["Upgrade", "foo"],
    ["upgrade", "websocket"], // all instances count for token checks
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="],
    ["Sec-WebSocket-Key", "other"],
    ["Sec-WebSocket-Version", "13"],
    ["Nats-No-Masking", "true"],
    ["Nats-No-Masking", "false"],
    ["User-Agent", "Mozilla/5.0"],
    ["Origin", "http://localhost"],
    ["Origin", "http://evil.com"],
  ];
  const headers = new Headers();
  for (const [k, v] of rawHeaders) headers.append(k, v);
  const req: UpgradeRequest = { method: "GET", headers, url: "/", rawHeaders };
  const r = accepted(req, { sameOrigin: true });
  assert.equal(r.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  assert.equal(r.noMasking, true);
  assert.equal(r.browser, true);
  // Without raw headers the joined values differ from Go's Header.Get.
  const joined = checkUpgradeRequest(
    { method: "GET", headers, url: "/" },
    opts({ sameOrigin: true }),
  );
  assert.ok(!joined.ok);
});

Deno.test("ws handshake: explicit host overrides the header", () => {
  const req = validReq();
  req.headers.delete("host");
  req.host = "localhost";
  accepted(req);
});

Deno.test("ws handshake: allowed origins through checkUpgradeRequest", () => {
  const p = parseAllowedOrigins(["https://app.example.com"]);
  assert.ok(p.ok);
  const o = { allowedOrigins: p.origins, isTls: true };
  accepted(validReq({ origin: "https://app.example.com" }), o);
  accepted(validReq(), o); // no Origin → accepted
  const r = checkUpgradeRequest(validReq({ origin: "http://app.example.com" }), opts(o));
  assert.ok(!r.ok);
  assert.equal(r.status, 403);
  assert.equal(r.reason, "origin not allowed: not in the allowed list");
});

Deno.test("ws handshake: toWebSocketPeer", () => {
  const req = validReq({
    "user-agent": "Mozilla/5.0",
    cookie: "jwt=J",
    "x-forwarded-for": "9.9.9.9",
  });
  const r = accepted(req, { jwtCookie: "jwt", trustedProxies: proxies(["127.0.0.1"]) });
  const peer = toWebSocketPeer(r);
  assert.ok(!("headers" in peer), "the request headers are not kept for the connection's life");
  assert.equal(peer.browser, true);
  assert.equal(peer.cookieJwt, "J");
  assert.equal(peer.forwardedFor, "9.9.9.9");
  const plain = toWebSocketPeer(accepted(validReq()));
  assert.ok(!("cookieJwt" in plain) && !("forwardedFor" in plain));
});
