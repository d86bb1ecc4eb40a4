/**
 * `/subsz` (alias `/subscriptionsz`): sublist statistics summed over the accounts
 * (`SublistStats.add`) and, with `subs=1`, the subscriptions themselves, optionally only those
 * a publish on `test` would reach. As in the reference, an answer without subscriptions to list
 * is the bare statistics object, and `total` is the number listed on this page.
 *
 * @module
 */
import { isValidLiteralSubject, subjectMatchesPattern } from "../core/subject.ts";
import type { Sublist } from "../routing/sublist.ts";
import type { ClientSub } from "../protocol/subscription.ts";
import { type SubDetail, subDetail } from "./conn_info.ts";
import { BadRequest, rfc3339 } from "./gofmt.ts";
import type { MonitorSource } from "./source.ts";

/** `DefaultSubListSize`. */
export const DEFAULT_SUB_LIST_SIZE = 1024;

/** A `/subsz` request, decoded. */
export interface SubszOptions {
  subs: boolean;
  offset: number;
  limit: number;
  test: string;
  acc: string;
}

/** `SublistStats` as JSON. */
export interface SublistStatsJson {
  num_subscriptions: number;
  num_cache: number;
  num_inserts: number;
  num_removes: number;
  num_matches: number;
  cache_hit_rate: number;
  max_fanout: number;
  avg_fanout: number;
}

/** Sums sublist counters the way the reference's `SublistStats.add` does. */
export function sublistStats(lists: Iterable<Sublist<ClientSub>>): SublistStatsJson {
  let subs = 0, cache = 0, inserts = 0, removes = 0, matches = 0, hits = 0;
  let maxFanout = 0, totFanout = 0, cacheCnt = 0;
  for (const sl of lists) {
    const c = sl.counters();
    subs += c.count;
    cache += c.cacheSize;
    inserts += c.inserts;
    removes += c.removes;
    matches += c.matches;
    hits += c.cacheHits;
    if (c.maxFanout > maxFanout) maxFanout = c.maxFanout;
    totFanout += c.totalFanout;
    cacheCnt += c.cacheSize;
  }
  return {
    num_subscriptions: subs,
    num_cache: cache,
    num_inserts: inserts,
    num_removes: removes,
    num_matches: matches,
    cache_hit_rate: matches > 0 ? hits / matches : 0,
    max_fanout: maxFanout,
    avg_fanout: totFanout > 0 ? totFanout / cacheCnt : 0,
  };
}

/** Builds the `/subsz` answer; throws {@link BadRequest} for a non-literal `test` subject. */
export function subsz(src: MonitorSource, opts: SubszOptions, now: number): object {
  const offset = Math.max(0, opts.offset);
  const limit = opts.limit <= 0 ? DEFAULT_SUB_LIST_SIZE : opts.limit;
  const test = opts.test;
  if (test !== "" && !isValidLiteralSubject(test)) {
    throw new BadRequest(`invalid test subject, must be valid publish subject: ${test}`);
  }
  const accounts = [...src.accounts.all()].filter((a) => opts.acc === "" || a.name === opts.acc);
  const stats = sublistStats(accounts.map((a) => a.sublist));
  if (!opts.subs) return stats;
  const details: SubDetail[] = [];
  for (const c of src.connections()) {
    const account = c.account.name;
    if (opts.acc !== "" && account !== opts.acc) continue;
    for (const sub of c.subscriptions()) {
      if (test !== "" && !subjectMatchesPattern(sub.subject, test)) continue;
      details.push(subDetail(sub, c.cid, account));
    }
  }
  const page = details.slice(Math.min(offset, details.length), offset + limit);
  if (page.length === 0) return stats;
  return {
    server_id: src.serverId,
    now: rfc3339(now),
    ...stats,
    total: page.length,
    offset,
    limit,
    subscriptions_list: page,
  };
}
