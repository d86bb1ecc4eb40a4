/**
 * `/connz`: open and recently closed client connections with the reference's filters, sorting
 * and paging (`Server.Connz` of nats-server 2.9.10), quirks included:
 * - `total` counts the connections before the `user` filter;
 * - `cid` with `state=all` only looks among the closed connections;
 * - an unknown `acc` answers an empty result with an empty `server_id` and `connections: null`;
 * - `acc=$G` matches no closed connection (closed ones record the global account as "");
 * - `sort=idle` orders by last activity minus start (not by idle time).
 *
 * @module
 */
import type { ClientConnection } from "../protocol/client.ts";
import { type ConnRecord, connRecord, renderConn, type SubsOption } from "./conn_info.ts";
import { BadRequest, type ConnState, rfc3339 } from "./gofmt.ts";
import type { MonitorSource } from "./source.ts";

/** `DefaultConnListSize`. */
export const DEFAULT_CONN_LIST_SIZE = 1024;

/** Sort options (`SortOpt`); only cid/start and reason/uptime sort ascending. */
export const SORT_OPTIONS = [
  "cid",
  "start",
  "subs",
  "pending",
  "msgs_to",
  "msgs_from",
  "bytes_to",
  "bytes_from",
  "last",
  "idle",
  "uptime",
  "stop",
  "reason",
] as const;

/** A `/connz` request, decoded. */
export interface ConnzOptions {
  sort: string;
  auth: boolean;
  subs: SubsOption;
  offset: number;
  limit: number;
  cid: number;
  state: ConnState;
  user: string;
  acc: string;
}

type Cmp = (a: ConnRecord, b: ConnRecord) => number;
const desc = (f: (r: ConnRecord) => number): Cmp => (a, b) => f(b) - f(a);

function comparator(sort: string, now: number): Cmp | null {
  switch (sort) {
    case "cid":
    case "start":
      return (a, b) => a.cid - b.cid;
    case "subs":
      return desc((r) => r.numSubs);
    case "pending":
      return desc((r) => r.pending);
    case "msgs_to":
      return desc((r) => r.outMsgs);
    case "msgs_from":
      return desc((r) => r.inMsgs);
    case "bytes_to":
      return desc((r) => r.outBytes);
    case "bytes_from":
      return desc((r) => r.inBytes);
    case "last":
      return desc((r) => r.last);
    case "idle":
      return desc((r) => r.last - r.start);
    case "uptime":
      return (a, b) => ((a.stop ?? now) - a.start) - ((b.stop ?? now) - b.start);
    case "stop":
      return desc((r) => r.stop ?? 0);
    case "reason":
      return (a, b) => ((a.reason ?? "") < (b.reason ?? "") ? -1 : a.reason === b.reason ? 0 : 1);
  }
  return null;
}

/** Builds the `/connz` answer; throws {@link BadRequest} for the reference's option errors. */
export function connz(src: MonitorSource, opts: ConnzOptions, now: number): object {
  const sort = opts.sort || "cid";
  const cmp = comparator(sort, now);
  if (cmp === null) throw new BadRequest(`invalid sorting option: ${sort}`);
  const offset = Math.max(0, opts.offset);
  let limit = opts.limit <= 0 ? DEFAULT_CONN_LIST_SIZE : opts.limit;
  const { state, acc, user, cid } = opts;
  if (sort === "stop" && state !== "closed") {
    throw new BadRequest("sort by stop only valid on closed connections");
  }
  if (sort === "reason" && state !== "closed") {
    throw new BadRequest("sort by reason only valid on closed connections");
  }
  if (cid > 0) limit = 1;

  const head = (id: string, numConns: number, total: number, conns: object[] | null) => ({
    server_id: id,
    now: rfc3339(now),
    num_connections: numConns,
    total,
    offset,
    limit,
    connections: conns,
  });

  let clist: ClientConnection[];
  if (acc !== "") {
    if (src.accounts.find(acc) === undefined) return head("", 0, 0, null);
    clist = [...src.connections()].filter((c) => c.account.name === acc);
  } else {
    clist = [...src.connections()];
  }
  const wantOpen = state === "open" || state === "all";
  const wantClosed = state === "closed" || state === "all";
  let closed: ConnRecord[] = wantClosed ? (src.closedConnections?.list() ?? []) : [];
  let total = (wantOpen ? clist.length : 0) + closed.length;
  if (acc !== "" && closed.length > 0) {
    const kept = closed.filter((r) => r.account === acc);
    total -= closed.length - kept.length;
    closed = kept;
  }

  let open: ClientConnection[] = [];
  if (cid > 0) {
    if (wantClosed) {
      const found = closed.find((r) => r.cid === cid);
      closed = found ? [found] : [];
    } else {
      const c = src.connection(cid);
      if (c) open = [c];
    }
  } else if (wantOpen) {
    open = clist.filter((c) =>
      (acc === "" || c.account.name === acc) &&
      (user === "" || (c.connectOpts?.user || c.identity?.user || "") === user)
    );
  }
  if (open.length === 0 && closed.length === 0) return head(src.serverId, 0, total, []);

  const records: ConnRecord[] = open.map((c) => connRecord(c, now));
  for (const r of closed) {
    if (acc !== "" && r.account !== acc) continue;
    if (user !== "" && r.user !== user) continue;
    records.push(r);
  }
  records.sort(cmp);
  const end = Math.min(offset + limit, records.length);
  const page = records.slice(Math.min(offset, records.length), end);
  const conns = page.map((r) => renderConn(r, opts.auth, opts.subs));
  return head(src.serverId, conns.length, total, conns);
}
