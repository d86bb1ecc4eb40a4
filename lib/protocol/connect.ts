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

/** Parses CONNECT JSON; throws on invalid JSON or a wrongly typed field. */
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
  for (const [key, value] of Object.entries(raw)) {
    if (value === null) continue;
    const k = key.toLowerCase();
    if ((BOOLS as readonly string[]).includes(k)) {
      if (typeof value !== "boolean") throw new TypeError(`${k} must be a boolean`);
      o[k] = value;
    } else if ((STRINGS as readonly string[]).includes(k)) {
      if (typeof value !== "string") throw new TypeError(`${k} must be a string`);
      o[k] = value;
    } else if (k === "protocol") {
      if (typeof value !== "number" || !Number.isInteger(value)) {
        throw new TypeError("protocol must be an integer");
      }
      o[k] = value;
    }
  }
  return opts;
}
