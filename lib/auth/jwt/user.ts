/**
 * User JWT rules of nats-server 2.9.10 (`auth.go`, `jwt.go`): the claim validation
 * (`UserClaims.Validate`), connection types, source CIDRs, connect times, permission templates
 * of scoped signing keys and the mapping of claims to the server's permissions.
 *
 * @module
 */
import { isConnectionKind } from "../../core/kinds.ts";
import { decodePublicKey, PREFIX } from "../../core/nkey.ts";
import { isValidSubject } from "../../core/subject.ts";
import type { ConnectionKind } from "../../core/kinds.ts";
import type { Permissions, SubjectPermission } from "../types.ts";
import {
  type AccountClaims,
  type JwtPermission,
  NO_LIMIT,
  type UserClaims,
  type UserPermissionLimits,
} from "./claims.ts";
import { timeCheck } from "./decode.ts";

/** The src CIDR list (v2 list or the older comma-separated string). */
export function srcList(l: UserPermissionLimits): string[] {
  const s = l.src;
  if (!s) return [];
  const list = typeof s === "string" ? s.split(",") : s;
  return list.map((x) => x.trim()).filter((x) => x !== "");
}

/** Parses an IPv4/IPv6 address into bytes (IPv4 as 4 bytes); null when invalid. */
function parseIp(text: string): Uint8Array | null {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? new Uint8Array(b) : null;
  }
  if (!text.includes(":")) return null;
  const m4 = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let head = text;
  let tail: Uint8Array | null = null;
  if (m4) {
    tail = parseIp(m4[2]);
    if (!tail) return null;
    head = m4[1] + "0:0";
  }
  const parts = head.split("::");
  if (parts.length > 2) return null;
  const left = parts[0] ? parts[0].split(":") : [];
  const right = parts.length === 2 && parts[1] ? parts[1].split(":") : [];
  const fill = 8 - left.length - right.length;
  if (parts.length === 1 ? fill !== 0 : fill < 1) return null;
  const groups = [...left, ...Array(parts.length === 2 ? fill : 0).fill("0"), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(groups[i])) return null;
    const v = parseInt(groups[i], 16);
    out[2 * i] = v >> 8;
    out[2 * i + 1] = v & 255;
  }
  if (tail) out.set(tail, 12);
  return out;
}

function toV6(ip: Uint8Array): Uint8Array {
  if (ip.length === 16) return ip;
  const out = new Uint8Array(16);
  out[10] = 0xff;
  out[11] = 0xff;
  out.set(ip, 12);
  return out;
}

/** A parsed CIDR, or null (Go's net.ParseCIDR rules, roughly). */
export function parseCidr(cidr: string): { ip: Uint8Array; bits: number } | null {
  const slash = cidr.indexOf("/");
  if (slash < 0) return null;
  const ip = parseIp(cidr.slice(0, slash));
  const bitsText = cidr.slice(slash + 1);
  if (!ip || !/^\d+$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > ip.length * 8) return null;
  return { ip: toV6(ip), bits: ip.length === 4 ? bits + 96 : bits };
}

function cidrContains(c: { ip: Uint8Array; bits: number }, ip: Uint8Array): boolean {
  const v6 = toV6(ip);
  for (let i = 0; i < 16; i++) {
    const n = Math.max(0, Math.min(8, c.bits - i * 8));
    const mask = n === 0 ? 0 : (0xff << (8 - n)) & 0xff;
    if ((v6[i] & mask) !== (c.ip[i] & mask)) return false;
  }
  return true;
}

/** validateSrc: no list allows all; otherwise the host must be inside one CIDR. */
export function srcAllowed(l: UserPermissionLimits, host: string): boolean {
  const list = srcList(l);
  if (list.length === 0) return true;
  const ip = parseIp(host);
  if (!ip) return false;
  for (const c of list) {
    const p = parseCidr(c);
    if (!p) return false;
    if (cidrContains(p, ip)) return true;
  }
  return false;
}

const TIME_RE = /^(\d{2}):(\d{2}):(\d{2})$/;

function secondsOfDay(t: string): number | null {
  const m = TIME_RE.exec(t);
  if (!m) return null;
  const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (h > 23 || mi > 59 || s > 59) return null;
  return h * 3600 + mi * 60 + s;
}

/** Seconds since local midnight in `timeZone` (the server's zone when undefined). */
function localSecondsOfDay(now: Date, timeZone: string | undefined): number {
  if (!timeZone) return now.getHours() * 3600 + now.getMinutes() * 60 + now.getSeconds();
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone,
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(now);
  const get = (t: string) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return get("hour") * 3600 + get("minute") * 60 + get("second");
}

/**
 * validateTimes: whether now is inside one of the `times` windows (a window whose start is
 * after its end runs into the next day), and for how long (ms) it stays allowed; 0 = no limit.
 */
export function timesAllowed(
  l: UserPermissionLimits,
  now = new Date(),
): { allowed: boolean; validForMs: number } {
  const times = l.times ?? [];
  if (times.length === 0) return { allowed: true, validForMs: 0 };
  let cur: number;
  try {
    cur = localSecondsOfDay(now, l.times_location || undefined);
  } catch {
    return { allowed: false, validForMs: 0 };
  }
  for (const r of times) {
    const start = secondsOfDay(r.start ?? "");
    const end = secondsOfDay(r.end ?? "");
    if (start === null || end === null) return { allowed: false, validForMs: 0 };
    const endAbs = start > end ? end + 86400 : end;
    if (start < cur && endAbs > cur) return { allowed: true, validForMs: (endAbs - cur) * 1000 };
  }
  return { allowed: false, validForMs: 0 };
}

/** The blocking errors of `UserClaims.Validate` (time checks included), or []. */
export function validateUserClaims(uc: UserClaims): string[] {
  const out: string[] = [];
  const t = timeCheck(uc);
  if (t) out.push(t);
  for (const c of srcList(uc.nats)) {
    if (!parseCidr(c)) out.push(`invalid cidr "${c}" in user src limits`);
  }
  for (const r of uc.nats.times ?? []) {
    if (!r.start) out.push("time ranges start must contain a start");
    else if (secondsOfDay(r.start) === null) {
      out.push(`start in time range is invalid "${r.start}"`);
    }
    if (!r.end) out.push("time ranges end must contain an end");
    else if (secondsOfDay(r.end) === null) out.push(`end in time range is invalid "${r.end}"`);
  }
  if (uc.nats.times_location) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: uc.nats.times_location });
    } catch {
      out.push(
        `could not parse iana time zone by name: unknown time zone ${uc.nats.times_location}`,
      );
    }
  }
  const ia = uc.nats.issuer_account;
  if (ia && !decodePublicKey(ia, PREFIX.account)) {
    out.push("account_id is not an account public key");
  }
  return out;
}

/**
 * convertAllowedConnectionTypes + connectionTypeAllowed: unknown types are dropped; a list
 * with only unknown types allows nothing; an empty list allows all.
 */
export function connectionTypeAllowed(types: string[] | undefined, kind: ConnectionKind): boolean {
  if (!types || types.length === 0) return true;
  const known = types.map((t) => t.toUpperCase()).filter(isConnectionKind);
  if (known.length === 0) return false;
  return known.includes(kind);
}

/** Whether a user claim has no permissions or limits (what a scoped signer requires). */
export function hasEmptyPermissions(u: UserPermissionLimits): boolean {
  const empty = (p?: JwtPermission) => !p || ((p.allow ?? []).length + (p.deny ?? []).length === 0);
  const noLimit = (v?: number) => v === undefined || v === NO_LIMIT;
  return empty(u.pub) && empty(u.sub) && !u.resp && noLimit(u.subs) && noLimit(u.data) &&
    noLimit(u.payload) && srcList(u).length === 0 && (u.times ?? []).length === 0 &&
    !u.times_location && !u.bearer_token && (u.allowed_connection_types ?? []).length === 0;
}

function cartesian(lists: string[][]): string[][] {
  return lists.reduce<string[][]>(
    (acc, l) => acc.flatMap((prefix) => l.map((v) => [...prefix, v])),
    [[]],
  );
}

/**
 * processUserPermissionsTemplate: `{{name()}}`, `{{subject()}}`, `{{account-name()}}`,
 * `{{account-subject()}}`, `{{tag(x)}}`, `{{account-tag(x)}}` in the scope's pub/sub lists.
 * Allow lists drop subjects that come out invalid (deny lists fail); an allow list emptied by
 * that becomes `deny >`. Throws "generated invalid subject".
 */
export function applyTemplate(
  template: UserPermissionLimits,
  uc: UserClaims,
  acc: AccountClaims,
): UserPermissionLimits {
  const expand = (list: string[] | undefined, failOnBad: boolean): string[] | undefined => {
    if (!list) return list;
    const out: string[] = [];
    for (const subj of list) {
      if (!subj.includes("{{")) {
        out.push(subj);
        continue;
      }
      const tagValues: string[][] = [];
      const tokens = subj.split(".").map((tok) => {
        const m = /^\{\{(.*)\}\}$/.exec(tok.trim());
        if (!m) return tok;
        const op = m[1].trim().toLowerCase();
        if (op === "name()") return uc.name ?? "";
        if (op === "subject()") return uc.sub;
        if (op === "account-name()") return acc.name ?? "";
        if (op === "account-subject()") return uc.nats.issuer_account ?? "";
        const tm = /^(account-)?tag\((.*)\)$/.exec(op);
        if (tm) {
          const tags = tm[1] ? acc.nats.tags ?? [] : uc.nats.tags ?? [];
          const prefix = `${tm[2].toLowerCase()}:`;
          const values = tags.filter((t) => t.startsWith(prefix)).map((t) =>
            t.slice(prefix.length)
          );
          if (values.length) tagValues.push(values);
          return "\u0000";
        }
        return " ";
      });
      const combos = tagValues.length ? cartesian(tagValues) : [[]];
      for (const combo of combos) {
        let i = 0;
        const s = tokens.map((t) => (t === "\u0000" ? combo[i++] ?? "" : t)).join(".");
        if (isValidSubject(s)) out.push(s);
        else if (failOnBad) throw new Error("generated invalid subject");
      }
    }
    return out;
  };
  const pub = { allow: expand(template.pub?.allow, false), deny: expand(template.pub?.deny, true) };
  const sub = { allow: expand(template.sub?.allow, false), deny: expand(template.sub?.deny, true) };
  if ((template.sub?.allow ?? []).length > 0 && sub.allow!.length === 0) {
    sub.deny = [...(sub.deny ?? []), ">"];
  }
  if ((template.pub?.allow ?? []).length > 0 && pub.allow!.length === 0) {
    pub.deny = [...(pub.deny ?? []), ">"];
  }
  return { ...template, pub, sub };
}

function subjectPermission(p: JwtPermission | undefined): SubjectPermission | undefined {
  const allow = p?.allow ?? [];
  const deny = p?.deny ?? [];
  if (allow.length === 0 && deny.length === 0) return undefined;
  const out: SubjectPermission = {};
  if (allow.length) out.allow = [...allow];
  if (deny.length) out.deny = [...deny];
  return out;
}

/** buildPermissionsFromJwt: the server's permissions for JWT pub/sub/resp, or undefined. */
export function permissionsFromJwt(
  p: { pub?: JwtPermission; sub?: JwtPermission; resp?: { max?: number; ttl?: number } },
): Permissions | undefined {
  const publish = subjectPermission(p.pub);
  const subscribe = subjectPermission(p.sub);
  if (!publish && !subscribe && !p.resp) return undefined;
  const out: Permissions = {};
  if (publish) out.publish = publish;
  if (subscribe) out.subscribe = subscribe;
  if (p.resp) {
    out.response = {
      max: p.resp.max || 1,
      expiresMs: p.resp.ttl ? p.resp.ttl / 1e6 : 2 * 60 * 1000,
    };
  }
  return out;
}
