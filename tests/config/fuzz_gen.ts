/**
 * Random config text generators shared by the fuzz test and the differential check against
 * the real nats-server. Deterministic for a given seed.
 */

/** mulberry32 */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly r: () => number) {}
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
}

const KEYS = [
  "port",
  "host",
  "listen",
  "server_name",
  "debug",
  "trace",
  "max_payload",
  "max_pending",
  "ping_interval",
  "write_deadline",
  "authorization",
  "accounts",
  "tls",
  "websocket",
  "leafnodes",
  "http",
  "foo",
  "bar",
  "a",
  "b_c",
  "include",
  "Include",
  "k1",
  "x.y",
  "$v",
  "users",
  "user",
  "password",
  "permissions",
  "publish",
];
const WORDS = ["abc", "foo.bar", "127.0.0.1:4222", "nats://u:p@h:1", "true", "no", "-", "a b"];
const SPECIALS = [
  "{",
  "}",
  "[",
  "]",
  "(",
  ")",
  ":",
  "=",
  ",",
  ";",
  "#",
  "//",
  '"',
  "'",
  "\\",
  "$",
  "\n",
  "\r",
  "\t",
  " ",
  ".",
  "-",
  "0",
  "9",
  "k",
  "MB",
  "e",
  "\u00e9",
  "\u0663",
  "\u00a0",
  "\0",
  "\\x4",
  "\\xzz",
  "include ",
  "2016-05-04T18:53:41Z",
];

/** A (mostly) well-formed config built from the grammar, with random choices. */
export function genConfig(g: Gen, depth = 0): string {
  const n = 1 + g.int(depth === 0 ? 6 : 3);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) lines.push(genEntry(g, depth));
  const sep = g.pick(["\n", "\n", "\n", ";", ", ", "\n\n", "\r\n"]);
  let body = lines.join(sep);
  if (depth === 0 && g.chance(0.1)) body = "{\n" + body + "\n}";
  return body;
}

function genKey(g: Gen): string {
  const k = g.pick(KEYS);
  switch (g.int(8)) {
    case 0:
      return `"${k}"`;
    case 1:
      return `'${k}'`;
    case 2:
      return k.toUpperCase();
    default:
      return k;
  }
}

function genEntry(g: Gen, depth: number): string {
  const ind = "  ".repeat(depth) + (g.chance(0.2) ? " " : "");
  if (g.chance(0.08)) return ind + g.pick(["# comment", "// comment", "#", ""]);
  const key = genKey(g);
  const v = genValue(g, depth);
  if (v.startsWith("{") && g.chance(0.5)) return `${ind}${key} ${v}`;
  const sep = g.pick([": ", " = ", " ", ":", "=", " : "]);
  const tail = g.chance(0.1) ? g.pick([" # c", " // c", ";", ","]) : "";
  return `${ind}${key}${sep}${v}${tail}`;
}

export function genValue(g: Gen, depth: number): string {
  const k = g.int(depth > 2 ? 12 : 16);
  switch (k) {
    case 0:
      return String(g.int(100000) - (g.chance(0.2) ? 50000 : 0));
    case 1:
      return String(g.int(100)) +
        g.pick(["k", "K", "kb", "KiB", "m", "MB", "g", "Gi", "t", "p", "e", "eb", "kbb", "x"]);
    case 2:
      return `${g.int(100)}.${g.int(100)}`;
    case 3:
      return `"${g.pick(WORDS)}${g.pick(["", "\\t", "\\n", '\\"', "\\\\", "\\x41", "\\q"])}"`;
    case 4:
      return `'${g.pick(WORDS)}'`;
    case 5:
      return g.pick(WORDS);
    case 6:
      return g.pick(["true", "false", "yes", "no", "on", "off", "TRUE", "On"]);
    case 7:
      return g.pick(["$a", "$foo", "$port", "$HOME_X", "$2a$11$abc", "$"]);
    case 8:
      return g.pick(["2016-05-04T18:53:41Z", "2016-13-04T18:53:41Z", "2016-05-04"]);
    case 9:
      return g.pick(['"2s"', '"1m30s"', "2s", '"500ms"', '"x"', "10"]);
    case 10:
      return `(\n${g.pick(WORDS)}\n)`;
    case 11:
      return g.pick(["-1", "-5k", "0", "99999999999999999999", ".5", "1.2.3.4"]);
    case 12:
    case 13: {
      const n = g.int(4);
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(genValue(g, depth + 1));
      const sep = g.pick([", ", ",\n", "\n", " , "]);
      return `[${g.pick(["", " ", "\n"])}${items.join(sep)}${g.pick(["", " ", "\n"])}]`;
    }
    default:
      return `{\n${genConfig(g, depth + 1)}\n${"  ".repeat(depth)}}`;
  }
}

/** Random edits of a text: deletes, inserts of special tokens, duplications, swaps. */
export function mutate(g: Gen, text: string): string {
  let s = text;
  const edits = 1 + g.int(4);
  for (let e = 0; e < edits; e++) {
    const i = g.int(s.length + 1);
    switch (g.int(5)) {
      case 0:
        s = s.slice(0, i) + s.slice(i + 1 + g.int(4));
        break;
      case 1:
      case 2:
        s = s.slice(0, i) + g.pick(SPECIALS) + s.slice(i);
        break;
      case 3: {
        const j = g.int(s.length + 1);
        const [a, b] = i < j ? [i, j] : [j, i];
        s = s.slice(0, b) + s.slice(a, b) + s.slice(b);
        break;
      }
      default: {
        const j = g.int(s.length + 1);
        if (i < s.length && j < s.length) {
          const arr = [...s];
          [arr[i], arr[j]] = [arr[j], arr[i]];
          s = arr.join("");
        }
      }
    }
  }
  return s;
}

/** Fully random text over the config alphabet. */
export function randomText(g: Gen): string {
  const n = g.int(80);
  let s = "";
  for (let i = 0; i < n; i++) {
    s += g.chance(0.6) ? g.pick(SPECIALS) : String.fromCharCode(32 + g.int(95));
  }
  return s;
}

const VALUES = [
  "1",
  "-1",
  "0",
  "4222",
  "1.5",
  "true",
  "false",
  '"s"',
  "abc",
  "'a.b'",
  '"foo..bar"',
  '"2s"',
  "[]",
  "[a, b]",
  "[1 ]",
  '["STANDARD", "websocket"]',
  '["bogus"]',
  "{}",
  "{a: 1}",
  '"127.0.0.1:4222"',
  '"h:x"',
  '"x"',
  "UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4",
  "AD4KMBMWXWT62YYYUPNQCO5ZAPNEITRLF2ACDO2L5TK4AJ42TA4HDRQN",
  '"$G"',
  "2016-05-04T18:53:41Z",
];

const BLOCKS: Record<string, string[]> = {
  top: [
    "port",
    "host",
    "listen",
    "server_name",
    "debug",
    "trace",
    "logtime",
    "max_payload",
    "max_pending",
    "max_control_line",
    "max_connections",
    "max_subs",
    "ping_interval",
    "ping_max",
    "write_deadline",
    "no_auth_user",
    "http",
    "http_port",
    "http_base_path",
    "lame_duck_duration",
    "lame_duck_grace_period",
    "no_header_support",
    "client_advertise",
    "pid_file",
    "ports_file_dir",
    "trace_verbose",
    "accounts",
    "authorization",
    "websocket",
    "leafnodes",
    "tls",
    "unknwn",
  ],
  authorization: ["user", "password", "token", "timeout", "users", "default_permissions", "bogus"],
  user: ["user", "password", "nkey", "permissions", "allowed_connection_types", "bogus"],
  permissions: ["publish", "subscribe", "allow_responses", "bogus"],
  subject: ["allow", "deny", "bogus"],
  responses: ["max", "expires", "bogus"],
  websocket: [
    "listen",
    "port",
    "host",
    "advertise",
    "no_tls",
    "same_origin",
    "allowed_origins",
    "handshake_timeout",
    "compression",
    "authorization",
    "jwt_cookie",
    "no_auth_user",
    "bogus",
  ],
  simpleauth: ["user", "password", "token", "timeout", "users"],
  leafnodes: ["listen", "port", "host", "advertise", "no_advertise", "authorization", "bogus"],
  leafauth: ["user", "password", "timeout", "account", "users", "bogus"],
  tls: ["verify", "verify_and_map", "timeout", "insecure", "pinned_certs", "bogus"],
  account: ["users", "nkey", "exports", "imports", "default_permissions", "bogus"],
  export: ["stream", "service", "accounts", "response_type", "bogus"],
  import: ["stream", "service", "prefix", "to", "bogus"],
  importsrc: ["account", "subject", "bogus"],
};

/** A config made of the option blocks with random (often wrong) values. */
export function genOptions(g: Gen, block = "top", depth = 0): string {
  const keys = BLOCKS[block];
  const n = 1 + g.int(block === "top" ? 4 : 3);
  const out: string[] = [];
  const ind = "  ".repeat(depth + (block === "top" ? 0 : 1));
  for (let i = 0; i < n; i++) {
    const k = g.pick(keys);
    out.push(`${ind}${k}: ${optValue(g, block, k, depth)}`);
  }
  return out.join("\n");
}

function sub(g: Gen, block: string, depth: number): string {
  return `{\n${genOptions(g, block, depth + 1)}\n${"  ".repeat(depth + 1)}}`;
}

function optValue(g: Gen, block: string, k: string, depth: number): string {
  if (depth < 4 && g.chance(0.75)) {
    const nested: Record<string, string> = {
      "top/authorization": "authorization",
      "top/websocket": "websocket",
      "top/leafnodes": "leafnodes",
      "top/tls": "tls",
      "authorization/default_permissions": "permissions",
      "user/permissions": "permissions",
      "permissions/publish": "subject",
      "permissions/subscribe": "subject",
      "permissions/allow_responses": "responses",
      "websocket/authorization": "simpleauth",
      "leafnodes/authorization": "leafauth",
      "import/stream": "importsrc",
      "import/service": "importsrc",
    };
    const b = nested[`${block}/${k}`];
    if (b) return sub(g, b, depth);
    if (k === "users" && block !== "simpleauth") {
      const items: string[] = [];
      for (let i = g.int(3); i >= 0; i--) {
        items.push(sub(g, block === "leafauth" ? "leafauth" : "user", depth));
      }
      return `[\n${items.join("\n")}\n]`;
    }
    if (block === "top" && k === "accounts") {
      if (g.chance(0.3)) return "[A, B]";
      return `{\n  A: ${sub(g, "account", depth + 1)}\n  B: ${sub(g, "account", depth + 1)}\n}`;
    }
    if (block === "account" && (k === "exports" || k === "imports")) {
      const items: string[] = [];
      for (let i = g.int(3); i >= 0; i--) {
        items.push(sub(g, k === "exports" ? "export" : "import", depth));
      }
      return `[\n${items.join("\n")}\n]`;
    }
  }
  return g.pick(VALUES);
}
