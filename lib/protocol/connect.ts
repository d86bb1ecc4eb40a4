/**
 * CONNECT options, decoded the way Go's encoding/json fills the reference's ClientOpts:
 * defaults `{verbose, pedantic, echo}` true, case-insensitive keys, unknown keys ignored,
 * a wrongly typed known key is an error.
 */

/** The CONNECT fields the server honours. */
export interface ConnectOptions {
  verbose: boolean;
  pedantic: boolean;
  echo: boolean;
  tls_required: boolean;
  headers: boolean;
  no_responders: boolean;
  protocol: number;
  name: string;
  lang: string;
  version: string;
  user?: string;
  pass?: string;
  auth_token?: string;
  nkey?: string;
  sig?: string;
  jwt?: string;
  account?: string;
  new_account: boolean;
}

const BOOLS = [
  "verbose",
  "pedantic",
  "echo",
  "tls_required",
  "headers",
  "no_responders",
  "new_account",
] as const;
const STRINGS = [
  "name",
  "lang",
  "version",
  "user",
  "pass",
  "auth_token",
  "nkey",
  "sig",
  "jwt",
  "account",
] as const;

/** `import`/`export` (leafnode and route permissions; only their shape is checked here). */
const PERMISSIONS = ["import", "export"] as const;

/**
 * Parses CONNECT JSON as Go's `encoding/json` fills the reference's `ClientOpts`: members in
 * order (a later one wins), keys matched exactly or else case-insensitively with Unicode simple
 * folding (`"uſer"` is `user`, a Kelvin sign is `k`), `null` leaves a field alone, unknown keys
 * are ignored. Throws on invalid JSON, a non-object, or a value of the wrong type (`"protocol":
 * 1.0` is not an int).
 */
export function parseConnect(text: string): ConnectOptions {
  const raw = JSON.parse(text);
  const opts: ConnectOptions = {
    verbose: true,
    pedantic: true,
    echo: true,
    tls_required: false,
    headers: false,
    no_responders: false,
    protocol: 0,
    name: "",
    lang: "",
    version: "",
    new_account: false,
  };
  if (raw === null) return opts;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new TypeError("CONNECT is not an object");
  }
  const o = opts as unknown as Record<string, unknown>;
  for (const [key, value] of objectMembers(text)) {
    const k = fieldFor(key, FIELDS);
    if (k === undefined || value === "null") continue;
    if ((BOOLS as readonly string[]).includes(k)) {
      if (value !== "true" && value !== "false") throw new TypeError(`${k} must be a boolean`);
      o[k] = value === "true";
    } else if ((STRINGS as readonly string[]).includes(k)) {
      if (value[0] !== '"') throw new TypeError(`${k} must be a string`);
      o[k] = JSON.parse(value);
    } else if (k === "protocol") {
      o[k] = goInt(value);
    } else checkPermissions(JSON.parse(value));
  }
  return opts;
}

const FIELDS: readonly string[] = [...BOOLS, ...STRINGS, "protocol", ...PERMISSIONS];

/** `SubjectPermission`: an object whose `allow`/`deny` are null or arrays of strings. */
function checkPermissions(v: unknown): void {
  if (typeof v !== "object" || Array.isArray(v)) throw new TypeError("permissions");
  if (v === null) return;
  for (const [key, list] of Object.entries(v)) {
    if (fieldFor(key, ["allow", "deny"]) === undefined || list === null) continue;
    if (!Array.isArray(list) || list.some((s) => s !== null && typeof s !== "string")) {
      throw new TypeError(`${key} must be a list of strings`);
    }
  }
}

/** A JSON number as Go's `strconv.ParseInt` takes it (no fraction, no exponent, int64). */
function goInt(lexeme: string): number {
  if (!/^-?(0|[1-9][0-9]*)$/.test(lexeme)) throw new TypeError("not an int");
  const n = BigInt(lexeme);
  if (n > 0x7fffffffffffffffn || n < -0x8000000000000000n) throw new TypeError("int overflow");
  return Number(n);
}

/**
 * The field `key` names: an exact match, else the first that folds equal (Go's `foldFunc`:
 * ASCII letters case-insensitively, `ſ` as `s`, the Kelvin sign as `k`, other bytes exactly).
 */
function fieldFor(key: string, fields: readonly string[]): string | undefined {
  if (fields.includes(key)) return key;
  return fields.find((f) => foldEqual(f, key));
}

function foldEqual(field: string, key: string): boolean {
  let i = 0;
  for (const ch of key) {
    if (i >= field.length) return false;
    const f = field[i++];
    if (ch === f) continue;
    // Field names are lowercase ASCII; only their letters fold.
    if (f < "a" || f > "z") return false;
    if (ch === "\u017f") {
      if (f !== "s") return false;
    } else if (ch === "\u212a") {
      if (f !== "k") return false;
    } else if (ch.length !== 1 || ch.charCodeAt(0) > 127 || ch.toLowerCase() !== f) return false;
  }
  return i === field.length;
}

/**
 * The members of the top-level JSON object in `text` (already known valid): each key unescaped
 * and its value's source text, in order.
 */
function objectMembers(text: string): [string, string][] {
  const out: [string, string][] = [];
  let i = skipWs(text, text.indexOf("{") + 1);
  while (text[i] !== "}") {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    const start = skipWs(text, skipWs(text, keyEnd) + 1);
    const end = valueEnd(text, start);
    out.push([key, text.slice(start, end)]);
    i = skipWs(text, end);
    if (text[i] === ",") i = skipWs(text, i + 1);
  }
  return out;
}

function skipWs(t: string, i: number): number {
  while (t[i] === " " || t[i] === "\t" || t[i] === "\n" || t[i] === "\r") i++;
  return i;
}

/** Index after the string literal starting at `i`. */
function stringEnd(t: string, i: number): number {
  for (let j = i + 1;; j++) {
    if (t[j] === "\\") j++;
    else if (t[j] === '"') return j + 1;
  }
}

/** Index after the JSON value starting at `i`. */
function valueEnd(t: string, i: number): number {
  const c = t[i];
  if (c === '"') return stringEnd(t, i);
  if (c === "{" || c === "[") {
    let depth = 0;
    for (let j = i;; j++) {
      const d = t[j];
      if (d === '"') j = stringEnd(t, j) - 1;
      else if (d === "{" || d === "[") depth++;
      else if ((d === "}" || d === "]") && --depth === 0) return j + 1;
    }
  }
  let j = i;
  while (j < t.length && !",}] \t\n\r".includes(t[j])) j++;
  return j;
}
