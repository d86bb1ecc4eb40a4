/**
 * The smaller endpoints: `/healthz`, `/accountz`, and the shapes a single server without
 * clustering, gateways, leafnodes or JetStream answers on `/routez`, `/gatewayz`, `/leafz` and
 * `/jsz` (nats-server 2.9.10 with those subsystems off).
 *
 * @module
 */
import { BadRequest, rfc3339, rttString } from "./gofmt.ts";
import type { MonitorSource } from "./source.ts";
import { sublistStats } from "./subsz.ts";

/** `/healthz`: always ok once serving (no JetStream to check). */
export function healthz(): object {
  return { status: "ok" };
}

/** `/accountz` (list) or `/accountz?acc=NAME` (detail; 400 when it does not exist). */
export function accountz(src: MonitorSource, acc: string, now: number): object {
  const head = { server_id: src.serverId, now: rfc3339(now) };
  if (acc === "") {
    const names = [...src.accounts.all()].map((a) => a.name).sort();
    return { ...head, accounts: names };
  }
  const a = src.accounts.find(acc);
  if (!a) throw new BadRequest(`Account ${acc} does not exist`);
  let clients = 0;
  for (const c of src.connections()) if (c.account.name === acc) clients++;
  return {
    ...head,
    account_detail: {
      account_name: a.name,
      update_time: rfc3339(a.createdAt),
      expired: false,
      complete: true,
      jetstream_enabled: false,
      leafnode_connections:
        [...src.leafConnections()].filter((l) => l.isBound && l.account.name === acc).length,
      client_connections: clients,
      subscriptions: a.sublist.count,
      sublist_stats: sublistStats([a.sublist]),
    },
  };
}

/** `/routez`: no cluster. */
export function routez(src: MonitorSource, now: number): object {
  return { server_id: src.serverId, now: rfc3339(now), num_routes: 0, routes: [] };
}

/** `/gatewayz`: gateways disabled. */
export function gatewayz(src: MonitorSource, now: number): object {
  return {
    server_id: src.serverId,
    now: rfc3339(now),
    outbound_gateways: {},
    inbound_gateways: {},
  };
}

/**
 * `/leafz`: the bound leafnode connections (`leafs` is null without any, as the reference's nil
 * slice); `subs` lists each one's remote interest, `acc` filters by account.
 */
export function leafz(src: MonitorSource, now: number, subs = false, acc = ""): object {
  const leafs = [];
  for (const l of src.leafConnections()) {
    if (!l.isBound || (acc !== "" && l.account.name !== acc)) continue;
    const keys = l.subscriptionKeys();
    leafs.push({
      account: l.account.name,
      ip: l.transport.peer.hostname,
      port: l.transport.peer.port,
      rtt: rttString(l.rttNs),
      in_msgs: l.stats.inMsgs,
      out_msgs: l.stats.outMsgs,
      in_bytes: l.stats.inBytes,
      out_bytes: l.stats.outBytes,
      subscriptions: keys.length,
      ...(subs ? { subscriptions_list: keys.map((k) => k.split(" ")[0]) } : {}),
    });
  }
  return {
    server_id: src.serverId,
    now: rfc3339(now),
    leafnodes: leafs.length,
    leafs: leafs.length ? leafs : null,
  };
}

/** `/jsz`: JetStream disabled; `leader-only` is refused as by a server that is not leader. */
export function jsz(src: MonitorSource, leaderOnly: boolean, now: number): object {
  if (leaderOnly) throw new BadRequest("filtered response: not leader");
  return {
    server_id: src.serverId,
    now: rfc3339(now),
    disabled: true,
    config: { max_memory: 0, max_storage: 0 },
    memory: 0,
    storage: 0,
    reserved_memory: 0,
    reserved_storage: 0,
    accounts: 0,
    ha_assets: 0,
    api: { total: 0, errors: 0 },
    streams: 0,
    consumers: 0,
    messages: 0,
    bytes: 0,
  };
}
