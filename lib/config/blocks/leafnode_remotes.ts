/**
 * `leafnodes { remotes: [ ... ] }`: the soliciting side of leafnodes, with the keys, aliases and
 * parse-time errors of nats-server 2.9.10 (`parseRemoteLeafNodes`), plus the `proxy { ... }`
 * block (beyond the reference: an HTTP CONNECT tunnel for ws/wss remotes), and the startup
 * checks of `validateLeafNode` on them.
 *
 * @module
 */
import { goQuote, parseGoDuration } from "../../core/gofmt.ts";
import { LEAFNODE_PROXY, LEAFNODE_REMOTE } from "../keys.ts";
import type { LeafProxyOptions, RemoteLeafOptions } from "../options.ts";
import type { ConfigNode } from "../parser.ts";
import { goUrlParse, utf8ByteString } from "../../core/gourl.ts";
import type { BuildContext } from "./context.ts";
import { goType, goValue } from "./go_values.ts";
import { permSubjects } from "./permissions.ts";
import { parseTls } from "./tls.ts";

/** Default `proxy { connect_timeout }` (the later reference's 5s). */
const PROXY_TIMEOUT_MS = 5000;

/** Parses the `remotes` array. */
export function parseRemotes(r: BuildContext, n: ConfigNode): RemoteLeafOptions[] {
  if (n.kind !== "array") {
    r.err(n, `Expected remotes field to be an array, got ${goType(n)}`);
    return [];
  }
  const out: RemoteLeafOptions[] = [];
  for (const e of n.value) {
    if (e.kind !== "map") {
      r.err(e, `Expected remote leafnode entry to be a map/struct, got ${goValue(e)}`);
      continue;
    }
    out.push(parseRemote(r, e.value));
  }
  return out;
}

function parseRemote(r: BuildContext, m: Map<string, ConfigNode>): RemoteLeafOptions {
  const remote: RemoteLeafOptions = {
    urls: [],
    hub: false,
    denyImports: [],
    denyExports: [],
    wsCompression: false,
    wsNoMasking: false,
    noRandomize: false,
  };
  for (const [k, v] of m) {
    const key = r.keyOf(LEAFNODE_REMOTE, k, v);
    if (key === undefined) continue;
    switch (key) {
      case "no_randomize":
        remote.noRandomize = r.bool(v) ?? false;
        break;
      case "url":
        remote.urls.push(...urls(r, v));
        break;
      case "account": {
        const s = r.str(v);
        if (s !== undefined) remote.account = s;
        break;
      }
      case "creds": {
        const s = r.str(v);
        if (s !== undefined) remote.credentials = expandHome(s);
        break;
      }
      case "tls": {
        const t = parseTls(r, v, "leafnodes remotes tls");
        if (t) remote.tls = t.tls;
        break;
      }
      case "hub":
        remote.hub = r.bool(v) ?? false;
        break;
      case "deny_imports":
        remote.denyImports = permSubjects(r, v) ?? [];
        break;
      case "deny_exports":
        remote.denyExports = permSubjects(r, v) ?? [];
        break;
      case "ws_compress":
        remote.wsCompression = r.bool(v) ?? false;
        break;
      case "ws_no_masking":
        remote.wsNoMasking = r.bool(v) ?? false;
        break;
      case "jetstream_cluster_migrate":
        r.ignore(v, `leafnodes remotes ${k}`);
        break;
      case "proxy":
        remote.proxy = proxy(r, v);
        break;
      default:
        key satisfies never;
    }
  }
  return remote;
}

function urls(r: BuildContext, v: ConfigNode): string[] {
  if (v.kind === "string") {
    const u = v.value.trim();
    if (!goUrlParse(utf8ByteString(u)).ok) {
      r.err(v, `error parsing leafnode url [${goQuote(u)}]`);
      return [];
    }
    return [u];
  }
  if (v.kind !== "array") {
    r.err(v, `Expected remote leafnode url to be an array or string, got ${goValue(v)}`);
    return [];
  }
  const out: string[] = [];
  const seen = new Set<string>();
  for (const e of v.value) {
    const s = r.str(e);
    if (s === undefined) continue;
    if (seen.has(s)) {
      r.warn(e, `invalid use of field ${goQuote(s)}: Duplicate leafnode entry detected`);
      continue;
    }
    seen.add(s);
    const u = s.trim();
    if (!goUrlParse(utf8ByteString(u)).ok) r.err(e, `error parsing leafnode url [${goQuote(u)}]`);
    else out.push(u);
  }
  return out;
}

function proxy(r: BuildContext, v: ConfigNode): LeafProxyOptions | undefined {
  if (v.kind !== "map") {
    r.err(v, `Expected proxy to be a map, got ${goType(v)}`);
    return undefined;
  }
  const p: LeafProxyOptions = { url: "", connectTimeoutMs: PROXY_TIMEOUT_MS };
  for (const [k, e] of v.value) {
    const key = r.keyOf(LEAFNODE_PROXY, k, e);
    if (key === undefined) continue;
    switch (key) {
      case "url": {
        const s = r.str(e);
        if (s === undefined) break;
        if (!/^https?:\/\/[^/]+/i.test(s) || !goUrlParse(utf8ByteString(s)).ok) {
          r.err(e, `proxy url ${goQuote(s)} must be http://host:port or https://host:port`);
        } else p.url = s;
        break;
      }
      case "username":
        p.username = r.str(e);
        break;
      case "password":
        p.password = r.str(e);
        break;
      case "connect_timeout": {
        if (e.kind === "int") p.connectTimeoutMs = Number(e.value) * 1000;
        else if (e.kind === "float") p.connectTimeoutMs = e.value * 1000;
        else if (e.kind === "string") {
          try {
            p.connectTimeoutMs = Number(parseGoDuration(e.value)) / 1e6;
          } catch (err) {
            r.err(e, `proxy connect_timeout: ${(err as Error).message}`);
          }
        } else r.err(e, "proxy connect_timeout: expected a duration");
        break;
      }
      default:
        key satisfies never;
    }
  }
  if (p.url === "") {
    r.err(v, "proxy requires a url");
    return undefined;
  }
  return p;
}

/** The reference's expandPath: a leading `~` is the home directory. */
function expandHome(p: string): string {
  if (!p.startsWith("~")) return p;
  let home = "";
  try {
    home = Deno.env.get("HOME") ?? "";
  } catch {
    // no --allow-env: leave the path as written
    return p;
  }
  return home + p.slice(1);
}

/** Whether a remote URL is a WebSocket one (`ws://` or `wss://`). */
export function isWsUrl(u: string): boolean {
  return /^wss?:\/\//i.test(u);
}

/** The reference's validateLeafNode checks on remotes (startup errors). */
export function validateRemotes(
  remotes: readonly RemoteLeafOptions[],
  accounts: ReadonlySet<string>,
): string[] {
  const out: string[] = [];
  for (const r of remotes) {
    if (!accounts.has(r.account ?? "")) {
      out.push(`cannot find local account "${r.account}" specified in leafnode remote`);
      return out;
    }
  }
  for (const r of remotes) {
    if (r.urls.length < 2) continue;
    const first = isWsUrl(r.urls[0]);
    if (r.urls.some((u) => isWsUrl(u) !== first)) {
      const list = r.urls.map((u) => goQuote(redactUrl(u))).join(" ");
      out.push(
        `remote leaf node configuration cannot have a mix of websocket and non-websocket urls: [${list}]`,
      );
      return out;
    }
  }
  return out;
}

/** Go's url.Redacted: the password of the userinfo becomes `xxxxx`. */
export function redactUrl(u: string): string {
  return u.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/@:]*):[^/@]*@/i, "$1:xxxxx@");
}
