/**
 * `accounts { ... }` (or a list of names): each account's nkey, users, default permissions,
 * stream/service exports and imports, then the cross-account checks the reference runs once
 * every account is known. Also the top-level `mappings` (refused).
 */
import type { AccountConfig, ExportConfig, ImportConfig, UserConfig } from "../../auth/types.ts";
import { importAuthorized } from "../../core/import_auth.ts";
import { goQuote } from "../../core/gofmt.ts";
import { ACCOUNT, EXPORT, IMPORT, IMPORT_SOURCE } from "../keys.ts";
import type { ConfigNode } from "../parser.ts";
import { isValidSubject, subjectHasWildcard, subjectIsSubsetOf } from "../../core/subject.ts";
import { isValidPublicKey, PREFIX } from "../../core/nkey.ts";
import { addUsers, applyDefaultPermissions, parseUsers, userNames } from "./authorization.ts";
import { type BuildContext, GLOBAL_ACCOUNT, refuseKey, type TopLevelHandlers } from "./context.ts";
import { goPercentQ, goType, goValue } from "./go_values.ts";
import { parsePermissions } from "./permissions.ts";

interface ExportDef {
  acc: string;
  subject: string;
  accounts?: string[];
  stream: boolean;
}
interface ImportDef {
  acc: string;
  from: string; // remote subject
  account: string; // remote account
  prefix?: string;
  to?: string;
  stream: boolean;
}

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"accounts"> = {
  accounts: (n, _k, ctx) => accounts(ctx, n),
  mappings: refuseKey,
};

function accounts(ctx: BuildContext, n: ConfigNode): void {
  const o = ctx.o;
  const before = ctx.errors.length;
  if (n.kind === "array") {
    const seen = new Set<string>();
    for (const e of n.value) {
      const name = ctx.str(e);
      if (name === undefined) continue;
      if (name === GLOBAL_ACCOUNT) {
        ctx.err(e, `${goQuote(name)} is a Reserved Account`);
        continue;
      }
      if (seen.has(name)) {
        ctx.err(e, `Duplicate Account Entry: ${name}`);
        continue;
      }
      seen.add(name);
      o.auth.accounts.push({ name, exports: [], imports: [] });
    }
    return;
  }
  if (n.kind !== "map") {
    // The reference silently ignores any other type.
    ctx.warn(
      n,
      `accounts: expected a map or an array of account names, got ${goType(n)}; ignored`,
    );
    return;
  }
  const names = userNames(ctx);
  const exports: ExportDef[] = [];
  const imports: ImportDef[] = [];
  for (const [aname, an] of n.value) {
    if (an.usedVariable) continue;
    if (an.kind !== "map") {
      ctx.err(an, "Expected map entries for accounts");
      continue;
    }
    if (aname === GLOBAL_ACCOUNT) {
      ctx.err(an, `${goQuote(aname)} is a Reserved Account`);
      continue;
    }
    const acc: AccountConfig = { name: aname, exports: [], imports: [] };
    o.auth.accounts.push(acc);
    let users: UserConfig[] = [];
    let usersTk: ConfigNode | undefined;
    for (const [k, v] of an.value) {
      const key = ctx.keyOf(ACCOUNT, k, v);
      if (key === undefined) continue;
      switch (key) {
        case "nkey":
          if (v.kind !== "string" || !isValidPublicKey(v.value, PREFIX.account)) {
            ctx.err(v, `Not a valid public nkey for an account: ${goPercentQ(v)}`);
          } else acc.nkey = v.value;
          break;
        case "imports":
          accountImports(ctx, v, acc, imports, `accounts ${aname} ${k}`);
          break;
        case "exports":
          accountExports(ctx, v, acc, exports, `accounts ${aname} ${k}`);
          break;
        case "users":
          usersTk = v;
          users = parseUsers(ctx, v, aname) ?? [];
          break;
        case "default_permissions": {
          const p = parsePermissions(ctx, v);
          if (p) acc.defaultPermissions = p;
          break;
        }
        case "jetstream":
        case "mappings":
        case "limits":
          ctx.refuse(v, `accounts ${aname} ${k}`);
          break;
        default:
          key satisfies never;
      }
    }
    if (users.length > 0 && usersTk) {
      if (o.auth.user) {
        ctx.err(usersTk, "Can not have a single user/pass and accounts");
        continue;
      }
      if (o.auth.token) {
        ctx.err(usersTk, "Can not have a token and accounts");
        continue;
      }
    }
    if (acc.defaultPermissions) applyDefaultPermissions(users, acc.defaultPermissions);
    if (usersTk) addUsers(ctx, usersTk, names, users);
  }
  if (ctx.errors.length > before) return;
  checkExportsImports(ctx, n, exports, imports);
}

const RESPONSE_TYPES: Record<string, ExportConfig["responseType"]> = {
  single: "singleton",
  singleton: "singleton",
  stream: "stream",
  chunk: "chunked",
  chunked: "chunked",
};

function accountExports(
  ctx: BuildContext,
  n: ConfigNode,
  acc: AccountConfig,
  out: ExportDef[],
  path: string,
): void {
  if (n.kind !== "array") {
    ctx.err(n, `Exports should be an array, got ${goType(n)}`);
    return;
  }
  for (const e of n.value) {
    if (e.kind !== "map") {
      ctx.err(e, `Export Items should be a map with type entry, got ${goType(e)}`);
      continue;
    }
    let stream: string | undefined;
    let service: string | undefined;
    let accounts: string[] | undefined;
    let rt: ExportConfig["responseType"];
    let rtTk: ConfigNode | undefined;
    let failed = false;
    for (const [k, v] of e.value) {
      const key = ctx.keyOf(EXPORT, k, v);
      if (key === undefined) continue;
      switch (key) {
        case "stream":
          if (service !== undefined) {
            ctx.err(v, `Detected stream ${goQuote(goValue(v))} but already saw a service`);
            failed = true;
          } else if (rtTk) {
            ctx.err(rtTk, "Detected response directive on non-service");
            failed = true;
          } else if (v.kind !== "string") {
            ctx.err(v, `Expected stream name to be string, got ${goType(v)}`);
            failed = true;
          } else stream = v.value;
          break;
        case "service":
          if (stream !== undefined) {
            ctx.err(v, `Detected service ${goQuote(goValue(v))} but already saw a stream`);
            failed = true;
          } else if (v.kind !== "string") {
            ctx.err(v, `Expected service name to be string, got ${goType(v)}`);
            failed = true;
          } else service = v.value;
          break;
        case "response": {
          if (rtTk) {
            ctx.err(v, "Duplicate response type definition");
            failed = true;
            break;
          }
          rtTk = v;
          if (v.kind !== "string") {
            ctx.err(v, `Expected response type to be string, got ${goType(v)}`);
            failed = true;
            break;
          }
          const t = Object.hasOwn(RESPONSE_TYPES, v.value.toLowerCase())
            ? RESPONSE_TYPES[v.value.toLowerCase()]
            : undefined;
          if (t) rt = t;
          else {
            ctx.err(v, `Unknown response type: ${goQuote(v.value)}`);
            failed = true;
          }
          if (stream !== undefined) {
            ctx.err(v, "Detected response directive on non-service");
            failed = true;
          }
          break;
        }
        case "accounts":
          if (v.kind !== "array") {
            ctx.conv(v, "[]interface {}");
            failed = true;
            break;
          }
          accounts = [];
          for (const a of v.value) {
            const s = ctx.str(a);
            if (s === undefined) failed = true;
            else accounts.push(s);
          }
          // An empty list means public, like the reference.
          if (accounts.length === 0) accounts = undefined;
          break;
        case "threshold":
        case "response_max_time":
        case "latency":
        case "account_token_position":
          ctx.refuse(v, `${path} ${k}`);
          failed = true;
          break;
        default:
          key satisfies never;
      }
    }
    if (failed) continue;
    if (stream !== undefined) {
      const x: ExportConfig = { stream };
      if (accounts) x.accounts = accounts;
      acc.exports.push(x);
      out.push({ acc: acc.name, subject: stream, accounts, stream: true });
    } else if (service !== undefined) {
      const x: ExportConfig = { service };
      if (accounts) x.accounts = accounts;
      if (rt) x.responseType = rt;
      acc.exports.push(x);
      out.push({ acc: acc.name, subject: service, accounts, stream: false });
    }
  }
}

/** The `{account, subject}` of an import's stream or service, or undefined (error reported). */
function importSource(
  ctx: BuildContext,
  v: ConfigNode,
  isStream: boolean,
): { account: string; subject: string } | undefined {
  if (v.kind !== "map") {
    ctx.err(
      v,
      `${isStream ? "Stream" : "Service"} entry should be an account map, got ${goType(v)}`,
    );
    return undefined;
  }
  const src = { account: "", subject: "" };
  for (const [k, av] of v.value) {
    const key = ctx.keyOf(IMPORT_SOURCE, k, av);
    if (key === undefined) continue;
    src[key] = ctx.str(av) ?? src[key];
  }
  if (src.account === "" || src.subject === "") {
    ctx.err(v, "Expect an account name and a subject");
    return undefined;
  }
  return src;
}

function accountImports(
  ctx: BuildContext,
  n: ConfigNode,
  acc: AccountConfig,
  out: ImportDef[],
  path: string,
): void {
  if (n.kind !== "array") {
    ctx.err(n, `Imports should be an array, got ${goType(n)}`);
    return;
  }
  const svcTo = new Map<string, ImportDef>();
  for (const e of n.value) {
    if (e.kind !== "map") {
      ctx.err(e, `Import Items should be a map with type entry, got ${goType(e)}`);
      continue;
    }
    let stream: { account: string; subject: string } | undefined;
    let service: { account: string; subject: string } | undefined;
    let prefix: string | undefined;
    let to: string | undefined;
    let failed = false;
    for (const [k, v] of e.value) {
      const key = ctx.keyOf(IMPORT, k, v);
      if (key === undefined) continue;
      switch (key) {
        case "stream":
        case "service": {
          const isStream = key === "stream";
          if (isStream ? service : stream) {
            ctx.err(
              v,
              isStream
                ? "Detected stream but already saw a service"
                : "Detected service but already saw a stream",
            );
            failed = true;
            break;
          }
          const src = importSource(ctx, v, isStream);
          if (!src) failed = true;
          else if (isStream) stream = src;
          else service = src;
          break;
        }
        case "prefix":
          prefix = ctx.str(v) ?? prefix;
          break;
        case "to":
          to = ctx.str(v) ?? to;
          if (stream && prefix) {
            ctx.err(v, "Stream import can not have a 'prefix' and a 'to' property");
            failed = true;
          }
          break;
        case "share":
          ctx.refuse(v, `${path} ${k}`);
          failed = true;
          break;
        default:
          key satisfies never;
      }
    }
    if (failed) continue;
    if (stream) {
      const x: ImportConfig = { stream };
      if (prefix) x.prefix = prefix;
      else if (to) x.to = to;
      acc.imports.push(x);
      out.push({
        acc: acc.name,
        account: stream.account,
        from: stream.subject,
        prefix: prefix || undefined,
        to: prefix ? undefined : to || undefined,
        stream: true,
      });
    } else if (service) {
      const local = to || service.subject;
      const dup = svcTo.get(local);
      if (dup) {
        ctx.err(
          e,
          `Duplicate service import subject ${
            goQuote(local)
          }, previously used in import for account ${goQuote(dup.account)}, subject ${
            goQuote(dup.from)
          }`,
        );
        continue;
      }
      const x: ImportConfig = { service, to: local };
      acc.imports.push(x);
      const def: ImportDef = {
        acc: acc.name,
        account: service.account,
        from: service.subject,
        to: local,
        stream: false,
      };
      svcTo.set(local, def);
      out.push(def);
    }
  }
}

/** One approved export of an account: its subject and who may import it (undefined = public). */
export interface ApprovedExport {
  stream: boolean;
  subject: string;
  accounts?: string[];
}

/**
 * The import/export authorisation check of the config side: may `importer` import `subject`
 * (a stream or a service) from `exporter`, given each account's approved exports? An exact
 * subject match wins over a wildcard export that contains it (the one check in
 * `lib/core/import_auth.ts`, also used by the account registry).
 */
export function isImportAuthorized(
  approved: ReadonlyMap<string, readonly ApprovedExport[]>,
  exporter: string,
  importer: string,
  subject: string,
  stream: boolean,
): boolean {
  const exports = new Map<string, string[] | undefined>();
  for (const e of approved.get(exporter) ?? []) {
    if (e.stream === stream) exports.set(e.subject, e.accounts);
  }
  return importAuthorized(exports, importer, subject, SUBJECT_RULES);
}

/** The config side's subject functions, as the shared authorisation check applies them. */
const SUBJECT_RULES = { isValidSubject, subjectIsSubsetOf };

/** The cross-account checks the reference runs once every account is known. */
function checkExportsImports(
  ctx: BuildContext,
  tk: ConfigNode,
  exports: ExportDef[],
  imports: ImportDef[],
): void {
  const known = new Set(ctx.o.auth.accounts.map((a) => a.name));
  const approved = new Map<string, ApprovedExport[]>();
  for (const x of exports) {
    let accounts: string[] | undefined;
    for (const an of x.accounts ?? []) {
      if (!known.has(an)) {
        ctx.err(
          tk,
          `${goQuote(an)} account not defined for ${x.stream ? "stream" : "service"} export`,
        );
        continue;
      }
      (accounts ??= []).push(an);
    }
    const list = approved.get(x.acc) ?? [];
    const same = list.findIndex((e) => e.stream === x.stream && e.subject === x.subject);
    const entry = { stream: x.stream, subject: x.subject, accounts };
    if (same >= 0) list[same] = entry;
    else list.push(entry);
    approved.set(x.acc, list);
  }
  const streamSeen = new Set<string>();
  for (const im of imports) {
    const kind = im.stream ? "stream" : "service";
    if (!known.has(im.account)) {
      ctx.err(tk, `${goQuote(im.account)} account not defined for ${kind} import`);
      continue;
    }
    let why: string | undefined;
    if (im.stream) {
      if (!isImportAuthorized(approved, im.account, im.acc, im.from, true)) {
        why = "stream import not authorized";
      } else if (im.prefix !== undefined && subjectHasWildcard(im.prefix)) {
        why = "stream import prefix can not contain wildcard tokens";
      } else {
        const key = `${im.acc}\u0000${im.account}\u0000${im.from}`;
        if (streamSeen.has(key)) why = "stream import already exists";
        streamSeen.add(key);
      }
    } else {
      const local = im.to ?? im.from;
      if (!isValidSubject(local) || !isValidSubject(im.from)) why = "sublist: invalid subject";
      else if (!isImportAuthorized(approved, im.account, im.acc, im.from, false)) {
        why = "service import not authorized";
      }
    }
    if (why) ctx.err(tk, `Error adding ${kind} import ${goQuote(im.from)}: ${why}`);
  }
}
