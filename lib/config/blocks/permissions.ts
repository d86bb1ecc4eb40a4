/** `permissions { ... }` of a user or account (parseUserPermissions and what it calls). */
import type { Permissions, ResponsePermission, SubjectPermission } from "../../auth/types.ts";
import { goQuote, parseGoDuration } from "../../core/gofmt.ts";
import { ALLOW_RESPONSES, PERMISSIONS, SUBJECT_PERMISSION } from "../keys.ts";
import type { ConfigNode } from "../parser.ts";
import { isValidSubject } from "../../core/subject.ts";
import { type BuildContext, nsToMs } from "./context.ts";
import { goType, goValue } from "./go_values.ts";

const unknownPermission = (key: string) => `Unknown field ${goQuote(key)} parsing permissions`;
const unknownAllowDeny = (key: string) =>
  `Unknown field name ${
    goQuote(key)
  } parsing subject permissions, only 'allow' or 'deny' are permitted`;

/** A permissions map, or undefined (error reported) when it is not one. */
export function parsePermissions(ctx: BuildContext, n: ConfigNode): Permissions | undefined {
  if (n.kind !== "map") {
    ctx.err(n, `Expected permissions to be a map/struct, got ${goValue(n)}`);
    return undefined;
  }
  const p: Permissions = {};
  for (const [k, v] of n.value) {
    const key = ctx.keyOf(PERMISSIONS, k, v, unknownPermission);
    if (key === undefined) continue;
    switch (key) {
      case "pub": {
        const sp = subjectPermission(ctx, v);
        if (sp !== null) p.publish = sp;
        break;
      }
      case "sub": {
        const sp = subjectPermission(ctx, v);
        if (sp !== null) p.subscribe = sp;
        break;
      }
      case "publish_allow_responses": {
        if (v.kind === "bool") {
          if (v.value) p.response = { max: 1, expiresMs: 120_000 };
        } else {
          const rp = allowResponses(ctx, v);
          if (rp) p.response = rp;
        }
        break;
      }
      default:
        key satisfies never;
    }
  }
  // allow_responses turns the blanket publish allow off (only replies may be published).
  if (p.response && !p.publish?.allow) p.publish = { ...p.publish, allow: [] };
  return p;
}

/** Returns null on error, undefined for an empty `{}`. */
function subjectPermission(
  ctx: BuildContext,
  n: ConfigNode,
): SubjectPermission | undefined | null {
  if (n.kind !== "map") {
    // Old style (a subject or a list = allow). The reference reports these errors without
    // a position.
    const allow = permSubjects(ctx, n, false);
    return allow ? { allow } : null;
  }
  if (n.value.size === 0) return undefined;
  const sp: SubjectPermission = {};
  let failed = false;
  for (const [k, v] of n.value) {
    const key = ctx.keyOf(SUBJECT_PERMISSION, k, v, unknownAllowDeny);
    if (key === undefined) continue;
    const s = permSubjects(ctx, v);
    if (s) sp[key] = s;
    else failed = true;
  }
  return failed ? null : sp;
}

/** A subject or array of subjects of a permission (parsePermSubjects). */
export function permSubjects(
  ctx: BuildContext,
  n: ConfigNode,
  showPosition = true,
): string[] | undefined {
  let subjects: string[];
  if (n.kind === "string") subjects = [n.value];
  else if (n.kind === "array") {
    subjects = [];
    for (const e of n.value) {
      if (e.kind !== "string") {
        ctx.err(e, "Subject in permissions array cannot be cast to string");
        return undefined;
      }
      subjects.push(e.value);
    }
  } else {
    ctx.err(
      n,
      `Expected subject permissions to be a subject, or array of subjects, got ${goType(n)}`,
      showPosition,
    );
    return undefined;
  }
  for (const s of subjects) {
    if (isValidSubject(s)) continue;
    const fields = s.split(/[\t\n\v\f\r \u0085\u00a0]+/).filter((x) => x !== "");
    if (fields.length !== 2) {
      ctx.err(n, `subject ${goQuote(s)} is not a valid subject`, showPosition);
      return undefined;
    }
    if (!isValidSubject(fields[0])) {
      ctx.err(n, `subject ${goQuote(fields[0])} is not a valid subject`, showPosition);
      return undefined;
    }
  }
  return subjects;
}

function allowResponses(ctx: BuildContext, n: ConfigNode): ResponsePermission | undefined {
  if (n.kind !== "map") {
    ctx.err(n, "error parsing response permissions, expected a boolean or a map");
    return undefined;
  }
  const rp: ResponsePermission = { max: 1, expiresMs: 120_000 };
  for (const [k, v] of n.value) {
    const key = ctx.keyOf(ALLOW_RESPONSES, k, v, unknownPermission);
    if (key === undefined) continue;
    if (key === "max") {
      const m = ctx.num(v);
      if (m !== undefined && m !== 0) rp.max = m;
      continue;
    }
    key satisfies "expires";
    // The reference returns at the first bad `expires`, leaving later keys unread.
    if (v.kind !== "string") {
      ctx.err(v, "error parsing expires, not a duration string");
      return undefined;
    }
    try {
      const ns = parseGoDuration(v.value);
      if (ns !== 0n) rp.expiresMs = nsToMs(ns);
    } catch (e) {
      ctx.err(v, `error parsing expires: ${(e as Error).message}`);
      return undefined;
    }
  }
  return rp;
}
