/**
 * The config corpus: every case is a config file, its exact expected outcome here, and how the
 * real `nats-server -t` (2.9.10) relates to it (see `ref`). `reference_check.ts` replays every
 * case through the reference binary.
 */
import { equal } from "node:assert/strict";
import type { ServerOptions } from "../../lib/config/mod.ts";
import { JWT_CASES } from "./jwt_cases.ts";

export type RefMode =
  /** `-t` agrees on accept/reject and prints each of our lines (our hint stripped). */
  | "same"
  /**
   * Like "same", but positions are not compared: the reference reports this error at a key
   * that depends on Go's random map iteration order (see `note`).
   */
  | "message"
  /** `-t` agrees on accept/reject; the texts differ (see `note`). */
  | "exit"
  /** The reference accepts; we refuse or warn on purpose (unimplemented key). */
  | "refuse"
  /** Our own keys: the reference rejects them with `unknown field`, we accept them. */
  | "extension"
  /** `-t` accepts (like ours); the reference exits 1 at startup with `nats-server: validate[0]`. */
  | "startup"
  /** Cannot be run through the reference (see `note`). */
  | "skip";

export interface Case {
  name: string;
  /** Written as `case.conf` in a fresh directory that is also the working directory. */
  conf: string;
  /** Extra files (relative paths) in that directory. */
  files?: Record<string, string>;
  /** Copy tests/fixtures/config/tls/*.pem to ./tls/. */
  tls?: boolean;
  env?: Record<string, string>;
  /** Expected errors, as printed (`formatConfigError`), in order. Default none. */
  errors?: string[];
  /** Expected warnings, as printed. Default none. */
  warnings?: string[];
  /** Assertions on the loaded options (run when there are no errors). */
  expect?: (o: ServerOptions) => void;
  /** Expected `validateOptions` result. Default []. */
  validate?: string[];
  ref?: RefMode;
  note?: string;
}

const L = (...lines: string[]) => lines.join("\n") + "\n";
const NKEY_USER = "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4";
const NKEY_ACCOUNT = "AD4KMBMWXWT62YYYUPNQCO5ZAPNEITRLF2ACDO2L5TK4AJ42TA4HDRQN";
const PIN = "a".repeat(64);

export const CASES: Case[] = [
  // ---------------------------------------------------------------- format: separators & forms
  {
    name: "key: value, key = value and key value",
    conf: L("port: 4333", "server_name = srv1", "debug true", "trace   =   false"),
    expect: (o) => {
      equal(o.port, 4333);
      equal(o.serverName, "srv1");
      equal(o.debug, true);
      equal(o.trace, false);
    },
  },
  {
    name: "JSON file with a top-level { }",
    conf: L("{", '  "port": 4334,', '  "server_name": "json",', '  "max_payload": 2048', "}"),
    expect: (o) => {
      equal(o.port, 4334);
      equal(o.serverName, "json");
      equal(o.maxPayload, 2048);
    },
  },
  {
    name: "comments with # and //, ; and , terminators",
    conf: L(
      "# a comment",
      "// another",
      "port: 4335; debug: true, trace: true # trailing",
      "server_name: x // trailing",
    ),
    expect: (o) => {
      equal(o.port, 4335);
      equal(o.debug, true);
      equal(o.trace, true);
      equal(o.serverName, "x");
    },
  },
  {
    name: "map separators: newline, comma, semicolon; no separator before a map",
    conf: L(
      "authorization {",
      "  user: a, password: b; timeout: 3",
      "}",
      "websocket { port: 8443; no_tls: true }",
    ),
    expect: (o) => {
      equal(o.auth.user, "a");
      equal(o.auth.password, "b");
      equal(o.authTimeoutMs, 3000);
      equal(o.websocket.port, 8443);
    },
  },
  {
    name: "case-insensitive top-level keys, duplicate key: last wins",
    conf: L("PORT: 1111", "Max_Payload: 4096", "port: 2222"),
    expect: (o) => {
      equal(o.port, 2222);
      equal(o.maxPayload, 4096);
    },
  },
  // ---------------------------------------------------------------- strings
  {
    name: 'double-quoted escapes \\t \\n \\r \\" \\\\ \\xHH',
    conf: L('server_name: "a\\tb\\nc\\rd\\"e\\\\f\\x41"'),
    expect: (o) => equal(o.serverName, 'a\tb\nc\rd"e\\fA'),
  },
  {
    name: "bad escape: the reference's lexer text",
    conf: L("port: 4222", 'server_name: "a\\qb"'),
    errors: [
      "Parse error on line 2: 'Invalid escape character 'q'. Only the following escape characters are allowed: \\xXX, \\t, \\n, \\r, \\\", \\\\.'",
    ],
  },
  {
    name: "bad \\x escape",
    conf: L('server_name: "\\xzz"'),
    errors: ["Parse error on line 1: 'Expected two hexadecimal digits after '\\x', but got 'zz''"],
  },
  {
    name: "single-quoted strings are raw, may span lines",
    conf: L("server_name: 'a\\tb'", "http_base_path: '/x", "y'"),
    expect: (o) => {
      equal(o.serverName, "a\\tb");
      equal(o.monitor.basePath, "/x\ny");
    },
  },
  {
    name: "unquoted strings may contain : = . /",
    conf: L("listen: 127.0.0.1:4336", "server_name: a=b/c:d.e", "http_base_path: /nats/mon"),
    expect: (o) => {
      equal(o.host, "127.0.0.1");
      equal(o.port, 4336);
      equal(o.serverName, "a=b/c:d.e");
      equal(o.monitor.basePath, "/nats/mon");
    },
  },
  {
    name: "block string ( ... ) with ) alone on a line",
    conf: L("server_name (", "line one", "line two", ")", "port: 4337"),
    expect: (o) => {
      equal(o.serverName, "\nline one\nline two\n");
      equal(o.port, 4337);
    },
  },
  {
    name: "unterminated block",
    conf: L("server_name (", "abc"),
    errors: ["Parse error on line 3: 'Unexpected EOF processing block.'"],
  },
  {
    name: "unterminated map",
    conf: L("authorization {", "  user: a"),
    errors: ["Parse error on line 3: 'Unexpected EOF processing map.'"],
  },
  // ---------------------------------------------------------------- numbers & sizes
  {
    name: "size suffixes: k=1000, kb/ki/kib=1024, MB, 2m = 2,000,000",
    conf: L("max_payload: 1MB", "max_pending: 2m", "max_control_line: 8k", "max_connections: 1Ki"),
    expect: (o) => {
      equal(o.maxPayload, 1024 * 1024);
      equal(o.maxPending, 2_000_000);
      equal(o.maxControlLine, 8000);
      equal(o.maxConnections, 1024);
    },
  },
  {
    name: "gb/tb sizes",
    conf: L("max_pending: 1GB"),
    expect: (o) => equal(o.maxPending, 1024 ** 3),
  },
  {
    name: "an unknown size suffix drops the key silently (reference quirk)",
    conf: L("port: 1kbb", "server_name: s"),
    expect: (o) => {
      equal(o.port, 4222);
      equal(o.serverName, "s");
    },
  },
  {
    name: "integer out of range",
    conf: L("max_pending: 99999999999999999999"),
    errors: ["integer '99999999999999999999' is out of the range"],
  },
  {
    name: "float must start with a digit",
    conf: L("port: 4222", "max_payload: .5"),
    errors: ["Parse error on line 2: 'Floats must start with a digit'"],
  },
  {
    name: "a string that starts with a digit (3xyz) and an IP are strings",
    conf: L("server_name: 3xyz", "host: 10.0.0.1"),
    expect: (o) => {
      equal(o.serverName, "3xyz");
      equal(o.host, "10.0.0.1");
    },
  },
  {
    name: "max_payload value is too big",
    conf: L("max_payload: 3GB"),
    errors: ["case.conf:1:0: max_payload value is too big"],
  },
  {
    name: "max_control_line value is too big",
    conf: L("port: 4222", "MAX_CONTROL_LINE: 4gb"),
    errors: ["case.conf:2:1: MAX_CONTROL_LINE value is too big"],
  },
  {
    name: "max_payload > max_pending is a startup error",
    conf: L("listen: 127.0.0.1:-1", "max_payload: 10MB", "max_pending: 1MB"),
    validate: ["max_payload (10485760) cannot be higher than max_pending (1048576)"],
    ref: "startup",
  },
  // ---------------------------------------------------------------- durations
  {
    name: "durations as strings",
    conf: L('ping_interval: "30s"', 'write_deadline: "1m30s"', "ping_max: 5"),
    expect: (o) => {
      equal(o.pingIntervalMs, 30_000);
      equal(o.writeDeadlineMs, 90_000);
      equal(o.pingMax, 5);
    },
  },
  {
    name: "durations as integer seconds warn (and make -t fail)",
    conf: L("ping_interval: 5", "write_deadline: 2"),
    warnings: [
      'case.conf:1:0: invalid use of field "ping_interval": ping_interval should be converted to a duration',
      'case.conf:2:1: invalid use of field "write_deadline": write_deadline should be converted to a duration',
    ],
    expect: (o) => {
      equal(o.pingIntervalMs, 5000);
      equal(o.writeDeadlineMs, 2000);
    },
  },
  {
    name: "unquoted 2m is the integer 2000000, so ping_interval: 2m is 2000000 seconds",
    conf: L("ping_interval: 2m"),
    warnings: [
      'case.conf:1:0: invalid use of field "ping_interval": ping_interval should be converted to a duration',
    ],
    expect: (o) => equal(o.pingIntervalMs, 2_000_000_000),
  },
  {
    name: "bad duration string",
    conf: L('write_deadline: "2x"', 'ping_interval: "abc"'),
    errors: [
      'case.conf:1:0: error parsing write_deadline: time: unknown unit "x" in duration "2x"',
      'case.conf:2:1: error parsing ping_interval: time: invalid duration "abc"',
    ],
  },
  {
    name: "lame duck duration and grace period",
    conf: L('lame_duck_duration: "45s"', 'lame_duck_grace_period: "5s"'),
    expect: (o) => {
      equal(o.lameDuckDurationMs, 45_000);
      equal(o.lameDuckGracePeriodMs, 5_000);
    },
  },
  {
    name: "lame_duck_duration below the minimum, negative grace period",
    conf: L('lame_duck_duration: "5s"', 'lame_duck_grace_period: "-1s"'),
    errors: [
      "case.conf:1:0: invalid lame_duck_duration of 5s, minimum is 30 seconds",
      "case.conf:2:1: invalid lame_duck_grace_period, needs to be positive",
    ],
  },
  {
    name: "lame duck grace period must be lower than the duration (startup)",
    conf: L("listen: 127.0.0.1:-1", 'lame_duck_duration: "30s"', 'lame_duck_grace_period: "40s"'),
    validate: [
      "lame duck grace period (40s) should be strictly lower than lame duck duration (30s)",
    ],
    ref: "startup",
  },
  // ---------------------------------------------------------------- booleans & dates
  {
    name: "booleans: yes/no/on/off/true/false, case-insensitive",
    conf: L("debug: yes", "trace: On", "logtime: off", "no_header_support: TRUE"),
    expect: (o) => {
      equal(o.debug, true);
      equal(o.trace, true);
      equal(o.logtime, false);
      equal(o.noHeaderSupport, true);
    },
  },
  {
    name: 'a quoted "true" is a string (type error)',
    conf: L('debug: "true"'),
    errors: ["case.conf:1:0: interface conversion: interface {} is string, not bool"],
  },
  {
    name: "ISO dates are values (unknown key here) and must be valid",
    conf: L("now: 2016-05-04T18:53:41Z", "bad: 2016-13-04T18:53:41Z"),
    errors: ["expected Zulu formatted DateTime, but got '2016-13-04T18:53:41Z'"],
  },
  // ---------------------------------------------------------------- include
  {
    name: "include, relative to the including file, also inside a map",
    conf: L("include conf.d/main.conf", "authorization {", "  include 'auth.conf'", "}"),
    files: {
      "conf.d/main.conf": L("port: 4338", "include sub/name.conf"),
      "conf.d/sub/name.conf": L("server_name: included"),
      "auth.conf": L("user: u1", "password: p1"),
    },
    expect: (o) => {
      equal(o.port, 4338);
      equal(o.serverName, "included");
      equal(o.auth.user, "u1");
      equal(o.auth.password, "p1");
    },
  },
  {
    name: "errors in an included file point into it",
    conf: L("port: 4222", "include inc.conf"),
    files: { "inc.conf": L("server_name: s", "bogus: 1") },
    errors: ['inc.conf:2:1: unknown field "bogus"'],
  },
  {
    name: "missing include",
    conf: L("include nope.conf"),
    errors: ["error parsing include file 'nope.conf', open nope.conf: no such file or directory"],
  },
  {
    name: "include cycle is detected (the reference overflows its stack)",
    conf: L("include a.conf"),
    files: { "a.conf": L("include b.conf"), "b.conf": L("port: 1", "include a.conf") },
    errors: [
      "error parsing include file 'a.conf', error parsing include file 'b.conf', error parsing include file 'a.conf', include cycle detected (case.conf -> a.conf -> b.conf -> a.conf)",
    ],
    ref: "skip",
    note: "nats-server 2.9.10 recurses until `fatal error: stack overflow`",
  },
  {
    name: "a lexer error inside an included file",
    conf: L("port: 4222", "include 'inc.conf'"),
    files: { "inc.conf": L("a {", "  b: [1, 2", "}") },
    errors: [
      `error parsing include file 'inc.conf', Parse error on line 3: 'Expected an array value terminator "," or an array terminator "]", but got '}' instead.'`,
    ],
  },
  // ---------------------------------------------------------------- variables
  {
    name: "variables: enclosing scopes first, then the environment (re-parsed)",
    conf: L(
      "NAME: outer",
      "server_name: $NAME",
      "authorization {",
      "  U: inner",
      "  user: $U",
      "  password: $PASS",
      "}",
      "port: $PORT_VAR",
    ),
    env: { PORT_VAR: "4339", PASS: "'3xyz'" },
    expect: (o) => {
      equal(o.serverName, "outer");
      equal(o.auth.user, "inner");
      equal(o.auth.password, "3xyz");
      equal(o.port, 4339);
    },
  },
  {
    name: "env value is re-parsed: -1 is an int, 3Gyz a string",
    conf: L("port: $P", "server_name: $S"),
    env: { P: "-1", S: "3Gyz" },
    expect: (o) => {
      equal(o.port, -1);
      equal(o.serverName, "3Gyz");
    },
  },
  {
    name: "an environment value that does not parse",
    conf: L("server_name: $BAD"),
    env: { BAD: "{" },
    errors: [
      "variable reference for 'BAD' on line 1 could not be parsed: Parse error on line 1: 'Unexpected EOF processing map.'",
    ],
  },
  {
    name: "missing variable",
    conf: L("port: 4222", "server_name: $NOPE"),
    errors: ["variable reference for 'NOPE' on line 2 can not be found"],
  },
  {
    name: "unused top-level variable is an unknown field",
    conf: L("UNUSED: 1", "USED: 4340", "port: $USED"),
    errors: ['case.conf:1:0: unknown field "UNUSED"'],
  },
  {
    name: "bcrypt: unquoted $2a$ is not a variable, quoted hashes are strings",
    conf: L(
      "authorization {",
      "  users: [",
      "    {user: a, password: $2a$11$ooo}",
      '    {user: b, password: "$2b$11$ppp"}',
      "  ]",
      "}",
    ),
    expect: (o) => {
      equal(o.auth.users[0].password, "$2a$11$ooo");
      equal(o.auth.users[1].password, "$2b$11$ppp");
    },
  },
  {
    name: "unquoted $2b$ is a variable reference",
    conf: L("authorization {", "  user: a", "  password: $2b$11$ooo", "}"),
    errors: ["variable reference for '2b$11$ooo' on line 3 can not be found"],
  },
  // ---------------------------------------------------------------- unknown keys, positions
  {
    name: "unknown fields everywhere, all collected, with hints",
    conf: L(
      "max_payloads: 1",
      "authorization {",
      "  usr: a",
      "}",
      "tls {",
      "  cert_fil: x",
      "}",
      "websocket {",
      "  portt: 1",
      "}",
      "zzz: 1",
    ),
    errors: [
      'case.conf:1:0: unknown field "max_payloads" (did you mean "max_payload"?)',
      'case.conf:3:3: unknown field "usr" (did you mean "user"?)',
      'case.conf:6:3: error parsing tls config, unknown field ["cert_fil"] (did you mean "cert_file"?)',
      'case.conf:9:3: unknown field "portt" (did you mean "port"?)',
      'case.conf:11:1: unknown field "zzz"',
    ],
  },
  {
    name: "the reference's quirk: a key with no value before } swallows the outer key",
    conf: L("a { b }"),
    errors: ['case.conf:1:4: unknown field "b"'],
  },
  {
    name: "type errors are Go interface conversions, at the key",
    conf: L("port: 4222", '  port: "abc"', "listen { port: 1 }", "server_name: 5"),
    errors: [
      "case.conf:2:3: interface conversion: interface {} is string, not int64",
      "case.conf:3:1: expected port or host:port, got map[string]interface {}",
      "case.conf:4:1: interface conversion: interface {} is int64, not string",
    ],
  },
  {
    name: "listen errors",
    conf: L('listen: "nohost"', 'http: "127.0.0.1:abc"'),
    errors: [
      'case.conf:1:0: could not parse address string "nohost"',
      'case.conf:2:1: could not parse port "abc"',
    ],
  },
  {
    name: "aliases: net, max_conn, max_subs, log_file, pidfile, monitor_port",
    conf: L(
      "net: 127.0.0.2",
      "max_conn: 10",
      "max_subs: 20",
      "log_file: /tmp/n.log",
      "pidfile: /tmp/n.pid",
      "monitor_port: 8222",
      "ports_file_dir: /tmp",
      "client_advertise: adv:4222",
      "trace_verbose: true",
    ),
    expect: (o) => {
      equal(o.host, "127.0.0.2");
      equal(o.maxConnections, 10);
      equal(o.maxSubscriptions, 20);
      equal(o.logFile, "/tmp/n.log");
      equal(o.pidFile, "/tmp/n.pid");
      equal(o.monitor.port, 8222);
      equal(o.monitor.host, "127.0.0.2");
      equal(o.portsFileDir, "/tmp");
      equal(o.clientAdvertise, "adv:4222");
      equal(o.trace, true);
      equal(o.traceVerbose, true);
    },
  },
  {
    name: "http: host:port and http_base_path",
    conf: L('http: "127.0.0.1:8223"', "http_base_path: /mon"),
    expect: (o) => {
      equal(o.monitor.host, "127.0.0.1");
      equal(o.monitor.port, 8223);
      equal(o.monitor.basePath, "/mon");
      equal(o.host, "0.0.0.0");
    },
  },
  {
    name: "http as a port: the monitoring host follows host",
    conf: L("host: 127.0.0.3", "http: 8224", "max_connections: 0"),
    expect: (o) => {
      equal(o.monitor.host, "127.0.0.3");
      equal(o.monitor.port, 8224);
      equal(o.maxConnections, 65536);
    },
  },
  {
    name: "defaults (empty file)",
    conf: L("# nothing"),
    expect: (o) => {
      equal(o.host, "0.0.0.0");
      equal(o.port, 4222);
      equal(o.maxPayload, 1048576);
      equal(o.maxPending, 67108864);
      equal(o.maxControlLine, 4096);
      equal(o.maxConnections, 65536);
      equal(o.pingIntervalMs, 120_000);
      equal(o.pingMax, 2);
      equal(o.writeDeadlineMs, 10_000);
      equal(o.authTimeoutMs, 2000);
      equal(o.monitor.port, 0);
    },
  },
  // ---------------------------------------------------------------- authorization
  {
    name: "authorization: user/password (aliases username/pass), token, timeout",
    conf: L("authorization {", "  username: u", "  pass: p", "  timeout: 1.5", "}"),
    expect: (o) => {
      equal(o.auth.user, "u");
      equal(o.auth.password, "p");
      equal(o.authTimeoutMs, 1500);
    },
  },
  {
    name: "Cannot have a user/pass and token",
    conf: L("port: 4222", "authorization {", "  user: a", "  token: t", "}"),
    errors: ["case.conf:2:1: Cannot have a user/pass and token"],
  },
  {
    name: "Can not have a single user/pass and a users array",
    conf: L("authorization {", "  user: a", "  users: [{user: b}]", "}"),
    errors: ["case.conf:1:0: Can not have a single user/pass and a users array"],
  },
  {
    name: "Can not have a token and a users array",
    conf: L("authorization {", "  token: t", "  users: []", "}"),
    errors: ["case.conf:1:0: Can not have a token and a users array"],
  },
  {
    name: "users with permissions, connection types (normalised), nkeys, default permissions",
    conf: L(
      "authorization {",
      "  default_permissions: { publish: ['pub.>'], subscribe: { deny: 'secret.>' } }",
      "  users: [",
      "    {user: alice, password: a, permissions: {publish: {allow: ['a.>'], deny: 'a.b'}, subscribe: 'x', allow_responses: true}}",
      "    {username: bob, pass: b, allowed_connection_types: [websocket, 'Standard']}",
      `    {nkey: ${NKEY_USER}, connection_types: MQTT}`,
      "    {user: carol, password: c, permissions: {sub: 'q.* grp', allow_responses: {max: 5, expires: '1m'}}}",
      "  ]",
      "}",
    ),
    expect: (o) => {
      const [alice, bob, nk, carol] = o.auth.users;
      equal(alice.user, "alice");
      equal(alice.account, "$G");
      equal(
        JSON.stringify(alice.permissions),
        JSON.stringify({
          publish: { allow: ["a.>"], deny: ["a.b"] },
          subscribe: { allow: ["x"] },
          response: { max: 1, expiresMs: 120000 },
        }),
      );
      equal(JSON.stringify(bob.allowedConnectionTypes), '["WEBSOCKET","STANDARD"]');
      equal(JSON.stringify(bob.permissions), JSON.stringify(o.auth.defaultPermissions));
      equal(nk.nkey, NKEY_USER);
      equal(nk.user, undefined);
      equal(JSON.stringify(nk.allowedConnectionTypes), '["MQTT"]');
      equal(
        JSON.stringify(carol.permissions),
        JSON.stringify({
          subscribe: { allow: ["q.* grp"] },
          response: { max: 5, expiresMs: 60000 },
          publish: { allow: [] },
        }),
      );
    },
  },
  {
    name: "invalid connection types",
    conf: L(
      "authorization {",
      "  users: [",
      "    {user: a, allowed_connection_types: [STANDARD, bogus]}",
      "  ]",
      "}",
    ),
    errors: ['case.conf:3:15: invalid connection types ["BOGUS"]'],
  },
  {
    name: "users entry problems",
    conf: L("authorization {", "  users: [", "    {password: x}", "  ]", "}"),
    errors: ["case.conf:3:6: User entry requires a user"],
  },
  {
    name: "users must be an array of maps",
    conf: L("authorization {", "  users: false", "}"),
    errors: ["case.conf:2:3: Expected users field to be an array, got false"],
  },
  {
    name: "user entry must be a map",
    conf: L("authorization {", "  users: [false]", "}"),
    errors: ["case.conf:2:11: Expected user entry to be a map/struct, got false"],
  },
  {
    name: "bad user nkey",
    conf: L("authorization {", "  users: [", "    {nkey: UBAD}", "  ]", "}"),
    errors: ["case.conf:3:6: Not a valid public nkey for a user"],
  },
  {
    name: "nkey users take no password",
    conf: L("authorization {", "  users: [", `    {nkey: ${NKEY_USER}, password: x}`, "  ]", "}"),
    errors: ["case.conf:3:70: Nkey users do not take usernames or passwords"],
    ref: "message",
    note:
      "the reference reports it at the last key of the entry in Go map order; we use the password key",
  },
  {
    name: "duplicate user",
    conf: L("authorization {", "  users: [{user: a}, {user: a}]", "}"),
    errors: ['case.conf:1:0: Duplicate user "a" detected'],
  },
  {
    name: "permission errors: unknown field, unknown allow/deny field, bad types",
    conf: L(
      "authorization {",
      "  permissions {",
      "    publish = { allow: 'a', denied: 'b' }",
      "    inboxes = {}",
      "    subscribe = { allow: [1 ] }",
      "  }",
      "}",
    ),
    errors: [
      `case.conf:3:29: Unknown field name "denied" parsing subject permissions, only 'allow' or 'deny' are permitted`,
      'case.conf:4:5: Unknown field "inboxes" parsing permissions',
      "case.conf:5:27: Subject in permissions array cannot be cast to string",
    ],
  },
  {
    name: "invalid permission subject (old style: reported without position, like the reference)",
    conf: L("authorization {", "  permissions {", '    publish: "foo..bar"', "  }", "}"),
    errors: ['subject "foo..bar" is not a valid subject'],
  },
  {
    name: "allow_responses must be a bool or a map",
    conf: L("authorization {", "  permissions {", "    allow_responses: 5", "  }", "}"),
    errors: ["case.conf:3:5: error parsing response permissions, expected a boolean or a map"],
  },
  {
    name: "authorization timeout that is not a number counts as 1s (the reference) and we warn",
    conf: L("authorization {", '  timeout: "5s"', "}"),
    warnings: [
      "case.conf:2:3: authorization timeout: expected a number of seconds, got string; using 1 second like nats-server",
    ],
    expect: (o) => equal(o.authTimeoutMs, 1000),
    ref: "refuse",
    note: "the reference silently uses 1 second",
  },
  // ---------------------------------------------------------------- accounts
  {
    name: "accounts map form: users, nkey, exports, imports, default_permissions",
    conf: L(
      "accounts {",
      "  A: {",
      `    nkey: ${NKEY_ACCOUNT}`,
      "    users: [{user: a1, password: p}]",
      "    exports: [",
      "      {stream: 'pub.>'}",
      "      {service: 'svc.a', accounts: [B], response_type: stream}",
      "    ]",
      "  }",
      "  B: {",
      "    users: [{user: b1}]",
      "    default_permissions: { publish: 'b.>' }",
      "    imports: [",
      "      {stream: {account: A, subject: 'pub.x'}, prefix: from_a}",
      "      {service: {account: A, subject: 'svc.a'}, to: 'a.svc'}",
      "    ]",
      "  }",
      "}",
    ),
    expect: (o) => {
      equal(o.auth.accounts.length, 2);
      const [a, b] = o.auth.accounts;
      equal(a.nkey, NKEY_ACCOUNT);
      equal(
        JSON.stringify(a.exports),
        JSON.stringify([
          { stream: "pub.>" },
          { service: "svc.a", accounts: ["B"], responseType: "stream" },
        ]),
      );
      equal(
        JSON.stringify(b.imports),
        JSON.stringify([
          { stream: { account: "A", subject: "pub.x" }, prefix: "from_a" },
          { service: { account: "A", subject: "svc.a" }, to: "a.svc" },
        ]),
      );
      equal(o.auth.users[0].account, "A");
      equal(o.auth.users[1].account, "B");
      equal(JSON.stringify(o.auth.users[1].permissions), '{"publish":{"allow":["b.>"]}}');
    },
  },
  {
    name: "accounts array form",
    conf: L("accounts: [A, B]"),
    expect: (o) => equal(o.auth.accounts.map((a) => a.name).join(","), "A,B"),
  },
  {
    name: "an unquoted $G is a variable reference",
    conf: L("accounts: [a, $G, a]", "accounts2: 1"),
    errors: [
      "variable reference for 'G' on line 1 can not be found",
    ],
  },
  {
    name: '"$G" is a Reserved Account (quoted); Duplicate Account Entry',
    conf: L('accounts: [a, "$G", a]'),
    errors: [
      'case.conf:1:15: "$G" is a Reserved Account',
      "case.conf:1:20: Duplicate Account Entry: a",
    ],
  },
  {
    name: "accounts map: reserved name, non-map entry, bad nkey, unknown field",
    conf: L(
      "accounts {",
      '  "$G": {}',
      "  A: 1",
      "  B: { nkey: invalid, usrs: [] }",
      "}",
    ),
    errors: [
      'case.conf:2:4: "$G" is a Reserved Account',
      "case.conf:3:3: Expected map entries for accounts",
      'case.conf:4:8: Not a valid public nkey for an account: "invalid"',
      'case.conf:4:23: unknown field "usrs" (did you mean "users"?)',
    ],
  },
  {
    name: "duplicate user across accounts",
    conf: L("accounts {", "  A { users: [{user: a}] }", "  B { users: [{user: a}] }", "}"),
    errors: ['case.conf:3:7: Duplicate user "a" detected'],
    ref: "message",
    note: "the reference reports it at the users of whichever account it iterates second",
  },
  {
    name: "import of an undefined account / not authorized",
    conf: L(
      "accounts {",
      "  A { exports: [{service: 'svc.a', accounts: [C]}] }",
      "  C { imports: [{stream: {account: A, subject: 'x'}}] }",
      "  D { imports: [{service: {account: Z, subject: 'y'}}] }",
      "}",
    ),
    errors: [
      'case.conf:1:0: Error adding stream import "x": stream import not authorized',
      'case.conf:1:0: "Z" account not defined for service import',
    ],
  },
  {
    name: "exports/imports must be arrays",
    conf: L(
      "accounts {",
      "  A { exports: true }",
      "  B { imports: true, users: [{user: b}] }",
      "}",
    ),
    errors: [
      "case.conf:2:7: Exports should be an array, got bool",
      "case.conf:3:7: Imports should be an array, got bool",
    ],
  },
  {
    name: "a single user and account users",
    conf: L(
      "authorization { user: x, password: y }",
      "accounts {",
      "  B { users: [{user: b}] }",
      "}",
    ),
    errors: ["case.conf:3:7: Can not have a single user/pass and accounts"],
    ref: "exit",
    note: "depending on Go map order the reference reports this, or " +
      "'Can not have a single user/pass and a users array' at the authorization key",
  },
  {
    name: "no_auth_user must name a user (startup)",
    conf: L(
      "listen: 127.0.0.1:-1",
      "authorization { users: [{user: a, password: b}] }",
      "no_auth_user: nope",
    ),
    validate: [
      'no_auth_user: "nope" not present as user in authorization block or account configuration',
    ],
    ref: "startup",
  },
  {
    name: "no_auth_user without users (startup)",
    conf: L("listen: 127.0.0.1:-1", "no_auth_user: nope"),
    validate: ['no_auth_user: "nope" present, but users are not defined'],
    ref: "startup",
  },
  {
    name: "no_auth_user naming an account user",
    conf: L("accounts { A { users: [{user: a}] } }", "no_auth_user: a"),
    expect: (o) => equal(o.auth.noAuthUser, "a"),
  },
  // ---------------------------------------------------------------- tls
  {
    name: "tls block",
    tls: true,
    conf: L(
      "tls {",
      "  cert_file: tls/server-cert.pem",
      "  key_file: tls/server-key.pem",
      "  ca_file: tls/ca.pem",
      "  verify_and_map: true",
      "  timeout: 3",
      `  pinned_certs: ["${PIN.toUpperCase()}"]`,
      "}",
    ),
    expect: (o) => {
      equal(o.tls!.certFile, Deno.cwd() + "/tls/server-cert.pem");
      equal(o.tls!.verify, true);
      equal(o.tls!.verifyAndMap, true);
      equal(o.tls!.timeoutMs, 3000);
      equal(o.tls!.pinnedCerts![0], PIN);
      equal(o.authTimeoutMs, 4000);
    },
  },
  {
    name: "missing 'key_file' in TLS configuration",
    tls: true,
    conf: L("port: 4222", "tls {", "  cert_file: tls/server-cert.pem", "}"),
    errors: ["case.conf:2:1: missing 'key_file' in TLS configuration"],
  },
  {
    name: "tls: unreadable cert, mismatched key",
    tls: true,
    conf: L(
      "tls { cert_file: nope.pem, key_file: tls/server-key.pem }",
      "websocket {",
      "  tls { cert_file: tls/server-cert.pem, key_file: tls/other-key.pem }",
      "}",
    ),
    errors: [
      "case.conf:1:0: error parsing X509 certificate/key pair: open nope.pem: no such file or directory",
      "case.conf:3:3: error parsing X509 certificate/key pair: tls: private key does not match public key",
    ],
  },
  {
    name: "tls: wrong types and bad pinned cert",
    conf: L("tls {", "  verify: 1", '  timeout: "x"', "  pinned_certs: [abc]", "}"),
    errors: [
      "case.conf:2:3: error parsing tls config, expected 'verify' to be a boolean",
      `case.conf:3:3: error parsing tls config, 'timeout' time: invalid duration "x"`,
      "case.conf:4:18: error parsing tls config, 'pinned_certs' key abc does not look like hex-encoded sha256 of DER encoded SubjectPublicKeyInfo",
    ],
    ref: "exit",
    note: "the reference stops at the first tls error (in random order); we report all",
  },
  {
    name: "tls: cert and key switched, CA file without certificates",
    tls: true,
    conf: L(
      "tls { cert_file: tls/server-key.pem, key_file: tls/server-key.pem }",
      "leafnodes {",
      "  tls { cert_file: tls/server-cert.pem, key_file: tls/server-key.pem, ca_file: tls/server-key.pem }",
      "}",
    ),
    errors: [
      "case.conf:1:0: error parsing X509 certificate/key pair: tls: failed to find certificate PEM data in certificate input, but did find a private key; PEM inputs may have been switched",
      "case.conf:3:3: failed to parse root ca certificate",
    ],
  },
  {
    name: "tls: verify_cert_and_check_known_urls is not for client connections",
    tls: true,
    conf: L(
      "websocket {",
      "  port: 8080",
      "  tls { cert_file: tls/server-cert.pem, key_file: tls/server-key.pem, verify_cert_and_check_known_urls: true }",
      "}",
    ),
    errors: ["case.conf:3:71: verify_cert_and_check_known_urls not supported in this context"],
  },
  // ---------------------------------------------------------------- websocket
  {
    name: "websocket block with aliases",
    conf: L(
      "ws {",
      "  listen: 127.0.0.1:8080",
      "  advertise: ws.example.com:443",
      "  no_tls: true",
      "  same_origin: true",
      '  allowed_origin: "https://a.example.com"',
      '  handshake_timeout: "4s"',
      "  compress: true",
      "  authentication { user: wu, pass: wp, timeout: 5 }",
      "  no_auth_user: wu",
      "}",
    ),
    expect: (o) => {
      const ws = o.websocket;
      equal(ws.host, "127.0.0.1");
      equal(ws.port, 8080);
      equal(ws.advertise, "ws.example.com:443");
      equal(ws.noTls, true);
      equal(ws.sameOrigin, true);
      equal(ws.allowedOrigins.join(), "https://a.example.com");
      equal(ws.handshakeTimeoutMs, 4000);
      equal(ws.compression, true);
      equal(
        JSON.stringify(o.auth.websocket),
        '{"user":"wu","password":"wp","timeoutMs":5000,"noAuthUser":"wu"}',
      );
    },
    validate: ['no_auth_user: "wu" present, but users are not defined'],
  },
  {
    name: "websocket: handshake_timeout as integer seconds, origins list, jwt_cookie",
    conf: L(
      "websocket {",
      "  port: -1",
      "  no_tls: true",
      "  handshake_timeout: 3",
      "  origins: [ 'http://a', 'http://b' ]",
      "  jwt_cookie: my_jwt",
      "}",
    ),
    expect: (o) => {
      equal(o.websocket.handshakeTimeoutMs, 3000);
      equal(o.websocket.allowedOrigins.length, 2);
      equal(o.websocket.jwtCookie, "my_jwt");
    },
    validate: [
      'trusted operators or trusted keys configuration is required for JWT authentication via cookie "my_jwt"',
    ],
  },
  {
    name: "websocket: users are not allowed in its authorization",
    conf: L("websocket {", "  port: 8080", "  authorization { users: [] }", "}"),
    errors: ['case.conf:3:19: unknown field "users" (did you mean "user"?)'],
  },
  {
    name: "websocket: type errors and bad origin types",
    conf: L(
      "websocket {",
      "  port: '8080'",
      "  handshake_timeout: true",
      "  allowed_origins: [1, 'x']",
      "}",
    ),
    errors: [
      "case.conf:2:3: interface conversion: interface {} is string, not int64",
      "case.conf:3:3: error parsing handshake timeout: unsupported type bool",
      "case.conf:4:21: error parsing allowed origins: unsupported type in array int64",
    ],
    ref: "exit",
    note: "a type error aborts the rest of the block in the reference",
  },
  {
    name: "websocket requires TLS (startup)",
    conf: L("listen: 127.0.0.1:-1", "websocket { listen: '127.0.0.1:-1' }"),
    validate: ["websocket requires TLS configuration"],
    ref: "startup",
  },
  {
    name: "websocket: unparsable allowed origin (startup)",
    conf: L(
      "listen: 127.0.0.1:-1",
      "websocket {",
      "  listen: '127.0.0.1:-1'",
      "  no_tls: true",
      '  allowed_origins: ["http://this:is:bad:url"]',
      "}",
    ),
    validate: [
      'unable to parse allowed origin: parse "http://this:is:bad:url": invalid port ":url" after host',
    ],
    ref: "startup",
  },
  {
    name: "websocket: auth username with users (startup)",
    conf: L(
      "listen: 127.0.0.1:-1",
      "authorization { users: [{user: a, password: b}] }",
      "websocket {",
      "  listen: '127.0.0.1:-1'",
      "  no_tls: true",
      "  authorization { user: x, password: y }",
      "}",
    ),
    validate: ["websocket authentication username not compatible with presence of users/nkeys"],
    ref: "startup",
  },
  {
    name: "websocket: jwt_cookie needs operators (startup)",
    conf: L(
      "listen: 127.0.0.1:-1",
      "websocket {",
      "  listen: '127.0.0.1:-1'",
      "  no_tls: true",
      "  jwt_cookie: jwt",
      "}",
    ),
    validate: [
      'trusted operators or trusted keys configuration is required for JWT authentication via cookie "jwt"',
    ],
    ref: "startup",
  },
  {
    name: "websocket: our trusted_proxies and engine",
    conf: L(
      "websocket {",
      "  port: 8080",
      "  no_tls: true",
      '  trusted_proxies: ["10.0.0.0/8", "::1/128", "192.168.1.1"]',
      "  engine: native",
      "}",
    ),
    expect: (o) => {
      equal(o.websocket.trustedProxies.join(), "10.0.0.0/8,::1/128,192.168.1.1");
      equal(o.websocket.engine, "native");
    },
    ref: "extension",
    note: "keys of ours: the reference says unknown field",
  },
  {
    name: "websocket: bad trusted_proxies and engine",
    conf: L(
      "websocket {",
      "  port: 8080",
      '  trusted_proxies: ["10.0.0.0/33"]',
      "  engine: fast",
      "}",
    ),
    errors: [
      "case.conf:3:3: error parsing trusted_proxies: invalid CIDR address: 10.0.0.0/33",
      'case.conf:4:3: error parsing websocket engine: expected "auto", "native" or "codec", got "fast"',
    ],
    ref: "exit",
    note: "the reference rejects them as unknown fields",
  },
  // ---------------------------------------------------------------- leafnodes
  {
    name: "leafnodes accept side",
    conf: L(
      "leafnodes {",
      "  listen: 0.0.0.0:7422",
      "  advertise: leaf.example.com:7422",
      "  no_advertise: true",
      "  authorization {",
      "    users: [ {user: l1, password: p1, account: A} ]",
      "    timeout: 2",
      "  }",
      "}",
      "accounts: [A]",
    ),
    expect: (o) => {
      equal(o.leafnodes.port, 7422);
      equal(o.leafnodes.advertise, "leaf.example.com:7422");
      equal(o.leafnodes.noAdvertise, true);
      equal(
        JSON.stringify(o.leafnodes.authorization),
        JSON.stringify({
          users: [{ user: "l1", password: "p1", account: "A" }],
          timeoutMs: 2000,
        }),
      );
      equal(o.leafnodes.authTimeoutMs, 2000);
    },
  },
  {
    name: "leafnodes remotes: every key",
    conf: L(
      "leafnodes {",
      "  reconnect: 3",
      "  remotes: [",
      '    { url: "nats-leaf://u:p@h:7422", account: A, hub: true, deny_imports: ["a.>"],',
      '      deny_exports: "b", no_randomize: true, credentials: "x.creds" }',
      '    { urls: ["ws://h1:1/p", "wss://h2:2"], ws_compression: true, ws_no_masking: true,',
      "      local: A, tls { insecure: true } }",
      "  ]",
      "}",
      "accounts: [A]",
    ),
    expect: (o) => {
      equal(o.leafnodes.reconnectDelayMs, 3000);
      equal(o.leafnodes.remotes.length, 2);
      const [a, b] = o.leafnodes.remotes;
      equal(JSON.stringify(a.urls), JSON.stringify(["nats-leaf://u:p@h:7422"]));
      equal(a.account, "A");
      equal(a.hub, true);
      equal(JSON.stringify(a.denyImports), JSON.stringify(["a.>"]));
      equal(JSON.stringify(a.denyExports), JSON.stringify(["b"]));
      equal(a.noRandomize, true);
      equal(a.credentials, "x.creds");
      equal(JSON.stringify(b.urls), JSON.stringify(["ws://h1:1/p", "wss://h2:2"]));
      equal(b.wsCompression, true);
      equal(b.wsNoMasking, true);
      equal(b.tls?.insecure, true);
    },
  },
  {
    name: "leafnodes remotes: wrong shapes, unknown field, bad and duplicate urls",
    conf: L(
      "leafnodes {",
      "  remotes: [",
      "    { url: 5 }",
      "    { url: nats://x:1, bogus: 1 }",
      '    "str"',
      '    { url: "nats://a b:1" }',
      '    { urls: ["nats://a:1", "nats://a:1"] }',
      "  ]",
      "}",
    ),
    errors: [
      "case.conf:3:7: Expected remote leafnode url to be an array or string, got 5",
      'case.conf:4:24: unknown field "bogus"',
      "case.conf:5:6: Expected remote leafnode entry to be a map/struct, got str",
      'case.conf:6:7: error parsing leafnode url ["nats://a b:1"]',
    ],
    warnings: [
      'case.conf:7:29: invalid use of field "nats://a:1": Duplicate leafnode entry detected',
    ],
  },
  {
    name: "leafnodes remotes: ws and non-ws urls mixed (startup)",
    conf: L(
      "listen: 127.0.0.1:-1",
      'leafnodes { remotes: [ { urls: ["nats://u:pw@a:1", "ws://b:2"] } ] }',
    ),
    validate: [
      'remote leaf node configuration cannot have a mix of websocket and non-websocket urls: ["nats://u:xxxxx@a:1" "ws://b:2"]',
    ],
    ref: "startup",
  },
  {
    name: "leafnodes remote account must exist (startup)",
    conf: L(
      "listen: 127.0.0.1:-1",
      'leafnodes { remotes: [ { url: "nats://a:1", account: NOPE } ] }',
    ),
    validate: ['cannot find local account "NOPE" specified in leafnode remote'],
    ref: "startup",
  },
  {
    name: "leafnodes remote proxy (beyond the reference)",
    conf: L(
      "leafnodes { remotes: [ { url: ws://h:1,",
      "  proxy { url: http://p:3128, username: u, password: pw, connect_timeout: 2s } } ] }",
    ),
    expect: (o) => {
      const p = o.leafnodes.remotes[0].proxy;
      equal(
        JSON.stringify(p),
        JSON.stringify({
          url: "http://p:3128",
          connectTimeoutMs: 2000,
          username: "u",
          password: "pw",
        }),
      );
    },
    ref: "extension",
  },
  {
    name: "leafnodes authorization: duplicate user, single user with users",
    conf: L(
      "leafnodes {",
      "  authorization { users: [ {user: u}, {user: u} ] }",
      "}",
      "leaf {",
      "  authorization { user: x, users: [ {user: y} ] }",
      "}",
    ),
    errors: [
      'case.conf:2:3: duplicate user "u" detected in leafnode authorization',
      "case.conf:5:3: can not have a single user/pass and a users array",
    ],
  },
  {
    name: "leafnode authorization account must exist (startup)",
    conf: L(
      "listen: 127.0.0.1:-1",
      "leafnodes {",
      "  listen: 127.0.0.1:-1",
      "  authorization { user: a, password: b, account: NOPE }",
      "}",
    ),
    validate: [
      'cannot find local account "NOPE" specified in leafnode authorization',
    ],
    ref: "startup",
  },
  // ---------------------------------------------------------------- not implemented keys
  {
    name: "security/delivery/persistence keys we do not implement are refused",
    conf: L(
      "cluster { name: c, listen: 127.0.0.1:6222 }",
      "gateway { name: g, port: 7222 }",
      "jetstream: enabled",
      "mqtt { port: 1883 }",
      "mappings { foo: bar }",
      "resolver_pinned_accounts: []",
    ),
    errors: [
      "case.conf:1:19: cluster listen: not supported yet (routes are not implemented; " +
      "to join a nats-server cluster, connect to it with leafnodes)",
      "case.conf:2:1: gateway: not supported yet",
      "case.conf:3:1: jetstream: not supported yet",
      "case.conf:4:1: mqtt: not supported yet",
      "case.conf:5:1: mappings: not supported yet",
      "case.conf:6:1: resolver_pinned_accounts: not supported yet",
    ],
    ref: "refuse",
  },
  {
    name: "configs that must start: cluster name only, server_tags, allow_non_tls, https_port",
    conf: L(
      'cluster { name: "testing" }',
      'server_tags: ["Region:EU", " x ", "x"]',
      "allow_non_tls: true",
      "https_port: 8443",
    ),
  },
  {
    name: "descriptive keys are accepted with a warning",
    conf: L(
      "connect_error_reports: 10",
      "max_traced_msg_len: 100",
      "syslog: false",
    ),
    warnings: [
      "case.conf:1:0: connect_error_reports: not supported yet, ignored",
      "case.conf:2:1: max_traced_msg_len: not supported yet, ignored",
      "case.conf:3:1: syslog: not supported yet, ignored",
    ],
    ref: "refuse",
    note: "warnings make our -t fail; the reference accepts",
  },
  {
    name: "descriptive keys are still type-checked",
    conf: L("syslog: 5"),
    errors: ["case.conf:1:0: interface conversion: interface {} is int64, not bool"],
  },
  {
    name: "tls cipher_suites Deno's TLS cannot honour are refused",
    conf: L("tls {", "  cipher_suites: [TLS_AES_128_GCM_SHA256]", "}"),
    errors: [
      "case.conf:2:3: tls cipher_suites: not supported yet (Deno's TLS always offers " +
      "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, " +
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, " +
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305 and cannot " +
      "leave out TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, " +
      "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, " +
      "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305)",
    ],
    ref: "refuse",
  },
  {
    name: "tls cipher_suites: the reference's parse error",
    conf: L("tls {", "  cipher_suites: [TLS_NOPE]", "}"),
    errors: ["case.conf:2:19: unrecognized cipher TLS_NOPE"],
  },
  {
    name: "tls curve_preferences: the reference's parse errors",
    conf: L("tls {", "  curve_preferences: []", "}"),
    errors: ["case.conf:2:3: error parsing tls config, 'curve_preferences' cannot be empty"],
  },
  {
    name: "tls curve_preferences: an unknown curve",
    conf: L("tls {", "  curve_preferences: [P256]", "}"),
    errors: ["case.conf:2:23: unrecognized curve preference P256"],
  },
  {
    name: "tls lists holding everything Deno's TLS offers are accepted",
    tls: true,
    conf: L(
      "tls {",
      "  cert_file: tls/server-cert.pem",
      "  key_file: tls/server-key.pem",
      "  cipher_suites: [",
      "    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,",
      "    TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,",
      "    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305, TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305",
      "  ]",
      "  curve_preferences: [X25519, CurveP256, CurveP384, CurveP521]",
      "}",
    ),
  },
  ...JWT_CASES,
];
