/** The public API of lib/config/mod.ts. */
import { deepEqual, equal, notEqual, ok, throws } from "node:assert/strict";
import {
  applyFlags,
  checkConfigFile,
  ConfigError,
  defaultOptions,
  formatConfigError,
  formatLoadProblems,
  loadConfigFile,
  optionsFromText,
  validateOptions,
} from "../../lib/config/mod.ts";

function withDir(fn: (dir: string) => void): void {
  const dir = Deno.makeTempDirSync({ prefix: "natsconf-api-" });
  try {
    fn(dir);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

Deno.test("api: a missing file gives the reference's read error", () => {
  const r = loadConfigFile("/nonexistent.conf", { env: {} });
  equal(r.errors.length, 1);
  equal(r.errors[0].message, "open /nonexistent.conf: no such file or directory");
  equal(formatConfigError(r.errors[0]), "open /nonexistent.conf: no such file or directory");
  deepEqual(r.options, { ...defaultOptions(), configFile: "/nonexistent.conf" });
});

Deno.test("api: ConfigError carries file/line/col/message and prints file:line:col: message", () => {
  const r = optionsFromText("port: 1\n  bogus: 2\n", { file: "x.conf" });
  const e = r.errors[0];
  ok(e instanceof ConfigError && e instanceof Error);
  deepEqual([e.file, e.line, e.col, e.message], ["x.conf", 2, 3, 'unknown field "bogus"']);
  equal(e.toString(), 'x.conf:2:3: unknown field "bogus"');
  equal(String(e), 'x.conf:2:3: unknown field "bogus"');
  // Parse errors keep a position but print bare, like the reference.
  const p = optionsFromText("a {", { file: "y.conf" }).errors[0];
  equal(p.toString(), "y.conf:1:3: Parse error on line 1: 'Unexpected EOF processing map.'");
  equal(formatConfigError(p), "Parse error on line 1: 'Unexpected EOF processing map.'");
});

Deno.test("api: options are deep-frozen", () => {
  const r = optionsFromText(
    "authorization { users: [{user: a, permissions: {publish: ['x']}}] }\nwebsocket { port: 1, no_tls: true }",
    { file: "f.conf" },
  );
  equal(r.errors.length, 0);
  const o = r.options;
  ok(Object.isFrozen(o));
  ok(Object.isFrozen(o.auth.users));
  ok(Object.isFrozen(o.auth.users[0].permissions!.publish!.allow));
  ok(Object.isFrozen(o.websocket.allowedOrigins));
  throws(() => {
    (o as { port: number }).port = 1;
  }, TypeError);
  throws(() => (o.auth.users as unknown[]).push({}), TypeError);
  equal(o.configFile, "f.conf");
});

Deno.test("api: warnings and errors are reported together, warnings first", () => {
  const r = optionsFromText("ping_interval: 5\nbogus: 1\n", { file: "w.conf" });
  deepEqual(formatLoadProblems(r), [
    'w.conf:1:0: invalid use of field "ping_interval": ping_interval should be converted to a duration',
    'w.conf:2:1: unknown field "bogus"',
  ]);
});

Deno.test("api: checkConfigFile behaves like nats-server -t (fails on warnings)", () => {
  withDir((dir) => {
    Deno.writeTextFileSync(`${dir}/ok.conf`, "port: 4222\n");
    Deno.writeTextFileSync(`${dir}/warn.conf`, "write_deadline: 3\n");
    Deno.writeTextFileSync(`${dir}/bad.conf`, "a: 1\nb: 2\n");
    // -t does not run the startup checks.
    Deno.writeTextFileSync(`${dir}/startup.conf`, "websocket { port: 8080 }\n");
    const good = checkConfigFile(`${dir}/ok.conf`);
    deepEqual([good.ok, good.exitCode, good.lines], [
      true,
      0,
      [`nats-server: configuration file ${dir}/ok.conf is valid`],
    ]);
    const warn = checkConfigFile(`${dir}/warn.conf`);
    deepEqual([warn.ok, warn.exitCode, warn.errors.length, warn.warnings.length], [false, 1, 0, 1]);
    ok(warn.lines[0].startsWith(`nats-server: ${dir}/warn.conf:1:0: invalid use of field`));
    const bad = checkConfigFile(`${dir}/bad.conf`);
    deepEqual(bad.lines, [
      `nats-server: ${dir}/bad.conf:1:0: unknown field "a"`,
      `${dir}/bad.conf:2:1: unknown field "b"`,
    ]);
    const st = checkConfigFile(`${dir}/startup.conf`);
    equal(st.ok, true);
    const loaded = loadConfigFile(`${dir}/startup.conf`);
    deepEqual(validateOptions(loaded.options), ["websocket requires TLS configuration"]);
  });
});

Deno.test("api: validateOptions checks port ranges and returns every problem", () => {
  deepEqual(validateOptions(defaultOptions()), []);
  const r = optionsFromText(
    "port: 70000\nhttp_port: -5\nwebsocket { port: 99999, no_tls: true }\nmax_payload: 2MB\nmax_pending: 1MB\n",
    { file: "v.conf" },
  );
  deepEqual(validateOptions(r.options), [
    'Error listening on port: 0.0.0.0:70000, "listen tcp: address 70000: invalid port"',
    "Can't start monitoring: can't listen to the monitor port: listen tcp: address -5: invalid port",
    "Unable to listen for websocket connections: listen tcp: address 99999: invalid port",
    "max_payload (2097152) cannot be higher than max_pending (1048576)",
  ]);
  // Random ports (-1) are fine.
  const ok1 = optionsFromText("port: -1\nhttp_port: -1\nleafnodes { port: -1 }\n");
  deepEqual(validateOptions(ok1.options), []);
});

Deno.test("api: applyFlags overrides the file, returns new frozen options", () => {
  const r = optionsFromText(
    "port: 4333\nhost: 10.0.0.1\ndebug: true\nauthorization { user: a, password: b }\n",
    { file: "f.conf" },
  );
  const o = applyFlags(r.options, {
    port: "5222",
    name: "n1",
    pid: "/tmp/p",
    log: "/tmp/l",
    debug: false,
    trace: true,
    user: "u",
    pass: "p",
    ports_file_dir: "/tmp",
    http_port: 8222,
    logtime: false,
    client_advertise: "adv:1",
    somethingElse: 1,
  });
  notEqual(o, r.options);
  ok(Object.isFrozen(o) && Object.isFrozen(o.auth));
  deepEqual(
    [o.port, o.host, o.serverName, o.pidFile, o.logFile, o.debug, o.trace, o.portsFileDir],
    [5222, "10.0.0.1", "n1", "/tmp/p", "/tmp/l", false, true, "/tmp"],
  );
  deepEqual([o.auth.user, o.auth.password, o.monitor.port, o.monitor.host], [
    "u",
    "p",
    8222,
    "10.0.0.1",
  ]);
  equal(r.options.port, 4333);
  // The monitoring host follows -a unless the file set it explicitly.
  equal(applyFlags(r.options, { host: "127.0.0.1" }).monitor.host, "127.0.0.1");
  const explicit = optionsFromText('http: "0.0.0.0:8222"\n').options;
  equal(applyFlags(explicit, { host: "127.0.0.1" }).monitor.host, "0.0.0.0");
  // -p 0 means the default port, like the reference; a token flag.
  equal(applyFlags(r.options, { port: 0 }).port, 4222);
  equal(applyFlags(defaultOptions(), { auth: "s3cr3t" }).auth.token, "s3cr3t");
  throws(() => applyFlags(r.options, { port: "abc" }), {
    message: 'invalid value "abc" for flag -port: parse error',
  });
});

Deno.test("api: defaultOptions are the reference defaults and validate", () => {
  const d = defaultOptions();
  deepEqual(
    [d.host, d.port, d.maxPayload, d.maxPending, d.maxControlLine, d.pingIntervalMs, d.pingMax],
    ["0.0.0.0", 4222, 1048576, 67108864, 4096, 120000, 2],
  );
  // Loading an empty config gives the same values (plus the file name).
  const e = optionsFromText("", { file: "e.conf" }).options;
  deepEqual(e, { ...d, configFile: "e.conf" });
});
