/**
 * Per-connection publish/subscribe permission checks with the semantics of nats-server 2.9.10
 * (`server/client.go`: setPermissions, canSubscribe, queueMatches, pubAllowedFullCheck,
 * checkDenySub, deliverMsg's reply tracking, pruneReplyPerms; `server/auth.go`:
 * validateResponsePermissions).
 *
 * Summary of the rules:
 * - Publish: no allow list = everything allowed (an *empty* allow list allows nothing); deny
 *   wins. With `allow_responses`, a missing publish allow list becomes empty, and a subject
 *   that is otherwise denied may be published if it is the reply subject of a message this
 *   client received (at most `max` times, within `expiresMs` of the last delivery of it; a
 *   non-positive value means unlimited).
 * - Subscribe: an empty or missing allow list = everything allowed; entries may be
 *   queue-qualified (`"subject queue"`, queue may contain wildcards). A subscription subject is
 *   matched against the patterns as a literal, so `foo.*` is allowed by `foo.*` or `foo.>` but
 *   not by `foo.bar`. A wildcard subscription that merely overlaps a deny entry is allowed, and
 *   messages on denied subjects are then dropped at delivery (`deliverAllowed`).
 * - Queue group `_sys_` is reserved: never allowed for clients (processSub).
 *
 * @module
 */
import { subjectHasWildcard, subjectIsSubsetOf, subjectMatchesPattern } from "../core/subject.ts";
import type { Permissions, ResponsePermission } from "./types.ts";

/** `allow_responses` defaults (`DEFAULT_ALLOW_RESPONSE_MAX_MSGS`, `..._EXPIRATION`). */
export const DEFAULT_RESPONSE_MAX = 1;
export const DEFAULT_RESPONSE_EXPIRES_MS = 2 * 60 * 1000;

/** The reserved queue group name that clients may not use. */
export const SYS_QUEUE_GROUP = "_sys_";

const MAX_PUB_CACHE = 128;
const MAX_DENY_CACHE = 256;
const PRUNE_SIZE = 32;
const REPLY_PERM_LIMIT = 4096;

/** Whether the reference's Sublist would accept `s` (no empty token, `>` only last). */
function insertable(s: string): boolean {
  if (s.length === 0) return false;
  const toks = s.split(".");
  for (let i = 0; i < toks.length; i++) {
    if (toks[i].length === 0) return false;
    if (toks[i] === ">" && i !== toks.length - 1) return false;
  }
  return true;
}

/**
 * Reply subjects reserved for the server (`_R_.`, `$JS.ACK.`, `_GR_.` prefixes): a client PUB
 * with such a reply gets `Permissions Violation for Publish with Reply of "<reply>"`.
 */
export function isReservedReply(reply: string): boolean {
  return (reply.length > 3 && reply.startsWith("_R_.")) ||
    (reply.length > 8 && reply.startsWith("$JS.ACK.")) ||
    (reply.length > 5 && reply.startsWith("_GR_."));
}

/** A client PUB to a `_GR_.` subject is always a publish violation. */
export function hasGatewayReplyPrefix(subject: string): boolean {
  return subject.length > 5 && subject.startsWith("_GR_.");
}

interface SubEntry {
  subject: string;
  queue?: string;
}

/** Immutable, shareable compiled form of a `Permissions` (one per user). */
export interface CompiledPermissions {
  readonly source: Permissions;
  /** null = no allow list (all allowed); [] = nothing allowed. */
  readonly pubAllow: readonly string[] | null;
  readonly pubDeny: readonly string[] | null;
  readonly subAllow: readonly SubEntry[] | null;
  readonly subDeny: readonly SubEntry[] | null;
  /** The raw subscribe deny strings (used to build the delivery filter). */
  readonly denyRaw: readonly string[];
  readonly response: ResponsePermission | null;
}

function parseSubEntries(list: string[] | undefined): SubEntry[] | null {
  if (!list || list.length === 0) return null;
  const out: SubEntry[] = [];
  for (const raw of list) {
    const fields = raw.trim().split(/\s+/).filter((f) => f.length > 0);
    if (fields.length === 0 || fields.length > 2) continue; // "invalid subject-queue" → skipped
    if (!insertable(fields[0])) continue;
    out.push(
      fields.length === 2 ? { subject: fields[0], queue: fields[1] } : { subject: fields[0] },
    );
  }
  return out;
}

/** Apply validateResponsePermissions: defaults for max/expires. */
function normalizeResponse(r: ResponsePermission | undefined): ResponsePermission | null {
  if (!r) return null;
  return {
    max: r.max === 0 ? DEFAULT_RESPONSE_MAX : r.max,
    expiresMs: r.expiresMs === 0 ? DEFAULT_RESPONSE_EXPIRES_MS : r.expiresMs,
  };
}

const compiledCache = new WeakMap<Permissions, CompiledPermissions>();

/** Compile (and memoize per object) a `Permissions`. */
export function compilePermissions(p: Permissions): CompiledPermissions {
  const hit = compiledCache.get(p);
  if (hit) return hit;
  const response = normalizeResponse(p.response);
  let pubAllow: string[] | null = p.publish?.allow ? p.publish.allow.filter(insertable) : null;
  if (response && pubAllow === null) pubAllow = []; // turn off the blanket allow
  const pubDenyList = p.publish?.deny?.filter(insertable) ?? [];
  const denyRaw = p.subscribe?.deny && p.subscribe.deny.length > 0
    ? p.subscribe.deny.filter(insertable)
    : [];
  const compiled: CompiledPermissions = {
    source: p,
    pubAllow,
    pubDeny: p.publish?.deny && p.publish.deny.length > 0 ? pubDenyList : null,
    subAllow: parseSubEntries(p.subscribe?.allow),
    subDeny: parseSubEntries(p.subscribe?.deny),
    denyRaw,
    response,
  };
  compiledCache.set(p, compiled);
  return compiled;
}

function anyMatch(patterns: readonly string[], subject: string): boolean {
  for (let i = 0; i < patterns.length; i++) {
    if (subjectMatchesPattern(patterns[i], subject)) return true;
  }
  return false;
}

/** Match a subject against queue-aware entries: plain hit, and the queue names that hit. */
function matchEntries(
  entries: readonly SubEntry[],
  subject: string,
): { plain: boolean; queues: string[] } {
  let plain = false;
  const queues: string[] = [];
  for (const e of entries) {
    if (!subjectMatchesPattern(e.subject, subject)) continue;
    if (e.queue === undefined) plain = true;
    else queues.push(e.queue);
  }
  return { plain, queues };
}

/** Go's queueMatches over the matching queue-qualified entries (non-empty list). */
function queueMatches(queue: string, qnames: readonly string[]): boolean {
  for (const q of qnames) {
    if (queue === q || (subjectHasWildcard(q) && subjectIsSubsetOf(queue, q))) return true;
  }
  return false;
}

/** The per-connection checker the protocol consults. */
export interface PermissionChecker {
  /** The permissions this checker enforces (undefined = none). */
  readonly permissions: Permissions | undefined;
  /** Whether the protocol must call {@link noteReplySubject} on delivery (allow_responses). */
  readonly tracksReplies: boolean;
  /**
   * PUB/HPUB check. May consume one use of a tracked reply subject, so call it exactly once
   * per published message. false → `Permissions Violation for Publish to "<subject>"`.
   */
  canPublish(subject: string): boolean;
  /**
   * SUB check (includes the reserved `_sys_` queue). false →
   * `Permissions Violation for Subscription to "<subject>"[ using queue "<queue>"]`.
   */
  canSubscribe(subject: string, queue?: string): boolean;
  /**
   * Delivery filter: false when a message on `subject` must not be delivered to this client
   * because it matches a subscribe deny entry (only possible for wildcard subscriptions).
   */
  deliverAllowed(subject: string): boolean;
  /** Record the reply subject of a message delivered to this client (allow_responses). */
  noteReplySubject(reply: string): void;
}

interface ReplyState {
  t: number;
  n: number;
}

class Checker implements PermissionChecker {
  readonly permissions: Permissions | undefined;
  readonly tracksReplies: boolean;
  readonly #c: CompiledPermissions | null;
  readonly #now: () => number;
  readonly #pubCache = new Map<string, boolean>();
  readonly #replies: Map<string, ReplyState> | null;
  #denyCache: Map<string, boolean> | null = null; // non-null once the delivery filter is on

  constructor(p: Permissions | undefined, now: () => number) {
    this.permissions = p;
    this.#c = p ? compilePermissions(p) : null;
    this.#now = now;
    this.#replies = this.#c?.response ? new Map() : null;
    this.tracksReplies = this.#replies !== null;
  }

  canPublish(subject: string): boolean {
    const c = this.#c;
    if (c === null || (c.pubAllow === null && c.pubDeny === null)) return true;
    const cached = this.#pubCache.get(subject);
    if (cached !== undefined) return cached;
    let allowed = true;
    if (c.pubAllow !== null) allowed = anyMatch(c.pubAllow, subject);
    if (allowed && c.pubDeny !== null) allowed = !anyMatch(c.pubDeny, subject);
    if (!allowed && c.response !== null) {
      // Dynamic reply permission: never cached.
      const r = this.#replies!.get(subject);
      if (r) {
        r.n++;
        if (c.response.max > 0 && r.n > c.response.max) {
          this.#replies!.delete(subject);
        } else if (c.response.expiresMs > 0 && this.#now() - r.t > c.response.expiresMs) {
          this.#replies!.delete(subject);
        } else {
          allowed = true;
        }
      }
      return allowed;
    }
    this.#pubCache.set(subject, allowed);
    if (this.#pubCache.size > MAX_PUB_CACHE) prune(this.#pubCache, PRUNE_SIZE);
    return allowed;
  }

  canSubscribe(subject: string, queue?: string): boolean {
    if (queue === SYS_QUEUE_GROUP) return false;
    const c = this.#c;
    if (c === null) return true;
    let allowed = true;
    if (c.subAllow !== null) {
      const r = matchEntries(c.subAllow, subject);
      allowed = r.plain;
      if (queue && r.queues.length > 0) allowed = queueMatches(queue, r.queues);
    }
    if (allowed && c.subDeny !== null) {
      const r = matchEntries(c.subDeny, subject);
      allowed = !r.plain;
      if (queue && r.queues.length > 0) allowed = !queueMatches(queue, r.queues);
      // A wildcard subscription overlapping a deny entry: filter at delivery from now on.
      if (allowed && this.#denyCache === null && subjectHasWildcard(subject)) {
        for (const d of c.denyRaw) {
          if (subjectIsSubsetOf(d, subject)) {
            this.#denyCache = new Map();
            break;
          }
        }
      }
    }
    return allowed;
  }

  deliverAllowed(subject: string): boolean {
    const cache = this.#denyCache;
    if (cache === null) return true;
    const hit = cache.get(subject);
    if (hit !== undefined) return !hit;
    const denied = anyMatch(this.#c!.denyRaw, subject);
    cache.set(subject, denied);
    if (cache.size > MAX_DENY_CACHE) prune(cache, PRUNE_SIZE);
    return !denied;
  }

  noteReplySubject(reply: string): void {
    const replies = this.#replies;
    if (replies === null || reply.length === 0) return;
    replies.set(reply, { t: this.#now(), n: 0 });
    if (replies.size > REPLY_PERM_LIMIT) {
      const { max, expiresMs } = this.#c!.response!;
      const now = this.#now();
      for (const [k, r] of replies) {
        if (max > 0 && r.n >= max) replies.delete(k);
        else if (expiresMs > 0 && now - r.t > expiresMs) replies.delete(k);
      }
    }
  }

  /** Number of tracked reply subjects (tests). */
  get trackedReplies(): number {
    return this.#replies?.size ?? 0;
  }

  /** Whether the delivery deny filter is active (tests). */
  get deliveryFilterActive(): boolean {
    return this.#denyCache !== null;
  }
}

function prune(m: Map<string, unknown>, n: number): void {
  let i = 0;
  for (const k of m.keys()) {
    m.delete(k);
    if (++i >= n) break;
  }
}

/**
 * A fresh per-connection checker. `permissions` undefined means no restrictions (only the
 * `_sys_` queue rule applies). `now` is injectable for tests (default `performance.now`).
 */
export function createPermissionChecker(
  permissions?: Permissions,
  now: () => number = () => performance.now(),
): PermissionChecker & { readonly trackedReplies: number; readonly deliveryFilterActive: boolean } {
  return new Checker(permissions, now);
}
