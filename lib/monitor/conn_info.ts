/**
 * One connection as `/connz` reports it (the reference's `ConnInfo`), taken from an open
 * `ClientConnection` at request time or captured when it closes.
 *
 * `ip` is the socket peer, except for a WebSocket client whose `X-Forwarded-For` came from a
 * `trusted_proxies` peer: that one shows the forwarded address (nats-server never trusts the
 * header and always shows the socket peer).
 *
 * @module
 */
import type { ClientConnection } from "../protocol/client.ts";
import type { ClientSub } from "../protocol/subscription.ts";
import { perfToEpochMs, rfc3339, rttString, uptime } from "./gofmt.ts";

const GLOBAL_ACCOUNT = "$G";

/** `SubDetail`: one subscription in `subscriptions_list_detail` and `/subsz?subs=1`. */
export interface SubDetail {
  account?: string;
  subject: string;
  qgroup?: string;
  sid: string;
  msgs: number;
  max?: number;
  cid: number;
}

/** A connection's facts, in the reference's ConnInfo order, plus what filters and sorts use. */
export interface ConnRecord {
  cid: number;
  type: "nats" | "websocket";
  ip: string;
  port: number;
  /** Epoch ms. */
  start: number;
  last: number;
  stop?: number;
  reason?: string;
  rtt: string;
  uptime: string;
  idle: string;
  pending: number;
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  numSubs: number;
  name: string;
  lang: string;
  version: string;
  tlsVersion?: string;
  tlsCipher?: string;
  /** `authorized_user` (with `auth=true`). */
  authUser: string;
  /** The CONNECT user name (the `user=` filter). */
  user: string;
  /** Account shown with `auth=true` and matched by `acc=`; "" for the global account. */
  account: string;
  /** The open connection (subscriptions are read at request time). */
  client?: ClientConnection;
  /** Subscriptions captured at close, with their account. */
  closedSubs?: SubDetail[];
}

/** `newClientSubDetail` (with `account` for `/subsz` and closed connections). */
export function subDetail(sub: ClientSub, cid: number, account?: string): SubDetail {
  return {
    account,
    subject: sub.subject,
    qgroup: sub.queue || undefined,
    sid: sub.sid,
    msgs: sub.delivered,
    max: sub.max > 0 ? sub.max : undefined,
    cid,
  };
}

/** Go's `tlsVersion`: "1.2", "1.3", ... */
function tlsVersion(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = /^TLSv(\d(?:\.\d)?)$/.exec(v);
  if (!m) return v;
  return m[1].includes(".") ? m[1] : `${m[1]}.0`;
}

/** `getRawAuthUser`: nkey, user name, then token, from CONNECT (or the mapped user). */
function authUser(c: ClientConnection): string {
  const o = c.connectOpts;
  return o?.nkey || o?.user || c.identity?.user || o?.auth_token || "";
}

/** The ConnInfo of a connection at `now` (epoch ms); closing connections add stop and reason. */
export function connRecord(c: ClientConnection, now: number, closing = false): ConnRecord {
  const peer = c.transport.peer;
  const start = perfToEpochMs(c.acceptedTime);
  const last = perfToEpochMs(c.lastActivityTime);
  const o = c.connectOpts;
  // c.opts.Username: sent in CONNECT, or set by no_auth_user / a certificate-mapped user.
  const user = o?.user || (o?.nkey ? "" : c.identity?.user) || "";
  const account = c.account.name === GLOBAL_ACCOUNT ? "" : c.account.name;
  const r: ConnRecord = {
    cid: c.cid,
    type: peer.kind === "WEBSOCKET" ? "websocket" : "nats",
    ip: peer.port !== 0 ? (peer.ws?.forwardedFor ?? peer.hostname) : "",
    port: peer.port,
    start,
    last,
    rtt: rttString(c.rttNs),
    uptime: uptime(now - start),
    idle: uptime(now - last),
    pending: c.pendingBytes,
    inMsgs: c.stats.inMsgs,
    outMsgs: c.stats.outMsgs,
    inBytes: c.stats.inBytes,
    outBytes: c.stats.outBytes,
    numSubs: c.subscriptionCount,
    name: o?.name ?? "",
    lang: o?.lang ?? "",
    version: o?.version ?? "",
    tlsVersion: tlsVersion(peer.tls?.version),
    tlsCipher: peer.tls?.cipher || undefined,
    authUser: authUser(c),
    user,
    account,
  };
  if (!closing) {
    r.client = c;
    return r;
  }
  // saveClosedClient: stop time and reason; subscriptions with their account; the user name
  // (not the nkey or token) is what a closed connection reports as authorized_user.
  r.stop = now;
  r.reason = c.closeReason ?? "";
  r.closedSubs = [...c.subscriptions()].map((s) => subDetail(s, c.cid, c.account.name));
  r.authUser = user;
  return r;
}

/** How `/connz` asked for subscriptions. */
export interface SubsOption {
  subs: boolean;
  detail: boolean;
}

/** The JSON object of one connection, fields in the reference's order (undefined = omitted). */
export function renderConn(r: ConnRecord, auth: boolean, subs: SubsOption): object {
  let list: string[] | undefined;
  let detail: SubDetail[] | undefined;
  if (r.numSubs > 0 && (subs.subs || subs.detail)) {
    const all = r.closedSubs ??
      [...r.client!.subscriptions()].map((s) => subDetail(s, r.cid));
    if (all.length > 0) {
      if (subs.detail) detail = all;
      else list = all.map((s) => s.subject);
    }
  }
  return {
    cid: r.cid,
    kind: "Client",
    type: r.type,
    ip: r.ip,
    port: r.port,
    start: rfc3339(r.start),
    last_activity: rfc3339(r.last),
    stop: r.stop !== undefined ? rfc3339(r.stop) : undefined,
    reason: r.reason || undefined,
    rtt: r.rtt,
    uptime: r.uptime,
    idle: r.idle,
    pending_bytes: r.pending,
    in_msgs: r.inMsgs,
    out_msgs: r.outMsgs,
    in_bytes: r.inBytes,
    out_bytes: r.outBytes,
    subscriptions: r.numSubs,
    name: r.name || undefined,
    lang: r.lang || undefined,
    version: r.version || undefined,
    tls_version: r.tlsVersion,
    tls_cipher_suite: r.tlsCipher,
    authorized_user: auth && r.authUser ? r.authUser : undefined,
    account: auth && r.account ? r.account : undefined,
    subscriptions_list: list,
    subscriptions_list_detail: detail,
  };
}
