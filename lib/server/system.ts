/**
 * The system account's internal services (nats-server 2.9.10 `server/events.go`,
 * `accounts.go` resolvers): server PINGs and monitoring requests answered from the same code as
 * the HTTP endpoints, account claim updates/lookups/lists/deletes for the resolvers, and
 * connect/disconnect events. Messages reach these handlers through an internal subscriber in
 * the system account's sublist; answers are published into the system account.
 *
 * @module
 */
import { decodePublicKey, PREFIX } from "../core/nkey.ts";
import type { JwtAccountStore } from "../auth/jwt/store.ts";
import type { AuthConfig } from "../auth/types.ts";
import type { ServerOptions } from "../config/options.ts";
import { decodeAccountClaims, decodeJwt } from "../auth/jwt/decode.ts";
import type { AccountResolver } from "../accounts/jwt_resolvers.ts";
import type { MonitorSource } from "../monitor/source.ts";
import { accountz, gatewayz, healthz, jsz, leafz, routez } from "../monitor/endpoints.ts";
import { connz, type ConnzOptions } from "../monitor/connz.ts";
import { subsz, type SubszOptions } from "../monitor/subsz.ts";
import { CpuSampler, varz } from "../monitor/varz.ts";
import type { Account } from "../protocol/context.ts";
import type { ClientConnection } from "../protocol/client.ts";
import { deliverInAccount } from "../routing/deliver.ts";
import { Message, type Origin } from "../routing/message.ts";
import type { ClientSub, Subscriber } from "../protocol/subscription.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const EMPTY_REPLY = new Uint8Array(0);

/** A handler of an internal subscription: subject, reply (may be ""), payload text. */
export type SysHandler = (subject: string, reply: string, payload: string) => void;

/** What the system services need from the server. */
export interface SystemHost extends MonitorSource {
  account(name: string): Account;
  readonly serverStartedMs: number;
}

/** Operator mode parts the claim services use. */
export interface SystemOperator {
  readonly store: JwtAccountStore;
  readonly resolver: AccountResolver;
  /** The operators' keys (delete requests must be signed by one). */
  readonly operatorKeys: ReadonlySet<string>;
  /** Called for each deleted account (its clients are expired). */
  onDeleted?(name: string): void;
}

/** Delivers messages on the system account's internal subscriptions to their handlers. */
class InternalSubscriber implements Subscriber {
  readonly cid = 0;
  readonly handlers = new Map<ClientSub, SysHandler>();

  deliver(sub: ClientSub, msg: Message): boolean {
    const h = this.handlers.get(sub);
    if (!h) return false;
    const body = msg.hdrLen >= 0 ? msg.payload.subarray(msg.hdrLen) : msg.payload;
    const payload = decoder.decode(body);
    const r = msg.reply ? decoder.decode(msg.reply) : "";
    const subject = msg.subject;
    // Answer after the publisher's delivery finished (never re-enter delivery).
    queueMicrotask(() => h(subject, r, payload));
    return true;
  }
}

/** The system account services of one server. */
export class SystemServices {
  private readonly internal = new InternalSubscriber();
  private seq = 0;
  private eventSeq = 0;
  private readonly cpu: CpuSampler;
  private readonly account: Account;
  private readonly origin: Origin;

  constructor(
    private readonly host: SystemHost,
    readonly accountName: string,
    private readonly operator?: SystemOperator,
  ) {
    this.account = host.account(accountName);
    this.origin = { kind: "SYSTEM", account: this.account, rttNs: 0 };
    this.cpu = new CpuSampler(host.serverStartedMs);
  }

  /** Subscribes `handler` to `subject` in the system account. */
  subscribe(subject: string, handler: SysHandler): void {
    const sid = String(this.internal.handlers.size + 1);
    const sub: ClientSub = {
      subject,
      sid,
      sidBytes: undefined,
      client: this.internal,
      max: 0,
      delivered: 0,
    };
    this.internal.handlers.set(sub, handler);
    this.account.sublist.insert(sub);
  }

  /** Publishes `body` (JSON-encoded when not a string) on `subject` in the system account. */
  publish(subject: string, body: unknown): void {
    const bytes = encoder.encode(typeof body === "string" ? body : JSON.stringify(body));
    const m = new Message(this.origin);
    m.subject = subject;
    m.subjectBytes = encoder.encode(subject);
    // The reference's internal messages carry an empty (not absent) reply: `MSG s sid  n`.
    m.reply = EMPTY_REPLY;
    m.sizeTok = encoder.encode(String(bytes.length));
    m.payload = bytes;
    deliverInAccount(this.account, m, null);
  }

  /** The `server` object of every system message. */
  serverInfo(): Record<string, unknown> {
    return {
      name: this.host.serverName,
      host: this.host.options.host,
      id: this.host.serverId,
      ver: String(this.host.baseInfo().version),
      seq: ++this.seq,
      jetstream: false,
      time: new Date().toISOString(),
    };
  }

  /** Installs every subscription. */
  start(): void {
    const id = this.host.serverId;
    const z = this.zHandlers();
    this.subscribe("$SYS.REQ.SERVER.PING", (_s, reply, body) => this.statsz(reply, body));
    for (const [name, fn] of Object.entries(z)) {
      this.subscribe(`$SYS.REQ.SERVER.PING.${name}`, fn);
      this.subscribe(`$SYS.REQ.SERVER.${id}.${name}`, fn);
    }
    for (const [name, fn] of Object.entries(this.accountZHandlers())) {
      this.subscribe(`$SYS.REQ.ACCOUNT.*.${name}`, fn);
    }
    if (this.operator) this.startClaims(this.operator);
  }

  // ---- monitoring requests ---------------------------------------------------------------------

  private respondZ(reply: string, body: string, data: () => object): void {
    if (!reply) return;
    let opts: Record<string, unknown> = {};
    if (body.trim()) {
      try {
        opts = JSON.parse(body);
      } catch (e) {
        this.publish(reply, {
          server: this.serverInfo(),
          error: { code: 400, description: (e as Error).message },
        });
        return;
      }
      if (this.filtered(opts)) return;
    }
    try {
      // ServerAPIResponse: server first (a struct); claim answers are Go maps (sorted keys).
      const value = data.call(opts);
      this.publish(reply, { server: this.serverInfo(), data: value });
    } catch (e) {
      this.publish(reply, {
        server: this.serverInfo(),
        error: { code: 500, description: (e as Error).message },
      });
    }
  }

  /** EventFilterOptions: a request for another server name/host gets no answer. */
  private filtered(o: Record<string, unknown>): boolean {
    const name = typeof o.server_name === "string" ? o.server_name : "";
    const host = typeof o.host === "string" ? o.host : "";
    if (name && !this.host.serverName.includes(name)) return true;
    if (host && !this.host.options.host.includes(host)) return true;
    if (typeof o.cluster === "string" && o.cluster) return true;
    if (Array.isArray(o.tags) && o.tags.length) return true;
    return typeof o.domain === "string" && o.domain !== "";
  }

  private statszData(): object {
    const h = this.host;
    let subs = 0;
    for (const a of h.accounts.all()) subs += a.sublist.count;
    let active = 0;
    for (const a of h.accounts.all()) {
      for (const c of h.connections()) {
        if (c.account.name === a.name) {
          active++;
          break;
        }
      }
    }
    const v = varz(h, new Map(), this.cpu, Date.now()) as Record<string, unknown>;
    return {
      start: h.startedAt.toISOString(),
      mem: v.mem,
      cores: v.cores,
      cpu: v.cpu,
      connections: h.numClients,
      total_connections: h.totalConnections,
      active_accounts: active,
      subscriptions: subs,
      sent: { msgs: h.stats.outMsgs, bytes: h.stats.outBytes },
      received: { msgs: h.stats.inMsgs, bytes: h.stats.inBytes },
      slow_consumers: h.stats.slowConsumers,
      active_servers: 1,
    };
  }

  private statsz(reply: string, body: string): void {
    if (!reply) return;
    if (body.trim()) {
      try {
        if (this.filtered(JSON.parse(body))) return;
      } catch { /* the reference ignores a bad body here */ }
    }
    this.publish(reply, { server: this.serverInfo(), statsz: this.statszData() });
  }

  private zHandlers(): Record<string, SysHandler> {
    const h = this.host;
    const now = () => Date.now();
    const on = (data: (o: Record<string, unknown>) => object): SysHandler => (_s, reply, body) =>
      this.respondZ(reply, body, function (this: Record<string, unknown>) {
        return data(this);
      });
    return {
      STATSZ: (_s, reply, body) => this.statsz(reply, body),
      VARZ: on(() => varz(h, new Map(), this.cpu, now())),
      SUBSZ: on((o) => subsz(h, subszOptions(o, ""), now())),
      CONNZ: on((o) => connz(h, connzOptions(o, ""), now())),
      ROUTEZ: on(() => routez(h, now())),
      GATEWAYZ: on(() => gatewayz(h, now())),
      LEAFZ: on(() => leafz(h, now())),
      ACCOUNTZ: on((o) => accountz(h, typeof o.account === "string" ? o.account : "", now())),
      JSZ: on(() => jsz(h, false, now())),
      HEALTHZ: on(() => healthz()),
    };
  }

  private accountZHandlers(): Record<string, SysHandler> {
    const h = this.host;
    const acc = (s: string) => s.split(".")[3];
    const on =
      (data: (o: Record<string, unknown>, a: string) => object): SysHandler =>
      (subject, reply, body) =>
        this.respondZ(reply, body, function (this: Record<string, unknown>) {
          return data(this, acc(subject));
        });
    return {
      CONNZ: on((o, a) => connz(h, connzOptions(o, a), Date.now())),
      SUBSZ: on((o, a) => subsz(h, { ...subszOptions(o, a), subs: true }, Date.now())),
      LEAFZ: on(() => leafz(h, Date.now())),
    };
  }

  // ---- account claims ----------------------------------------------------------------------------

  private respondUpdate(reply: string, acc: string, message: string, err?: string): void {
    if (!reply) return;
    const m: Record<string, unknown> = {};
    if (acc) m.account = acc;
    const out: Record<string, unknown> = {};
    if (err === undefined) {
      m.code = 200;
      m.message = message;
      out.data = m;
    } else {
      m.code = 500;
      m.description = `${message} - ${err}`;
      out.error = m;
    }
    out.server = this.serverInfo();
    this.publish(reply, out);
  }

  private startClaims(op: SystemOperator): void {
    const dir = op.resolver.kind === "full" || op.resolver.kind === "cache";
    const update = (subject: string, reply: string, body: string) => {
      const t = subject.split(".");
      const pub = t.length === 6 ? t[3] : t.length === 5 ? t[2] : "";
      if (!pub) return;
      if (dir) return this.pushUpdate(op, reply, body, pub);
      if (!body) return this.respondUpdate(reply, pub, "jwt update error", "request body is empty");
      let sub: string;
      try {
        sub = decodeAccountClaims(body).sub;
      } catch (e) {
        return this.respondUpdate(reply, pub, "jwt update resulted in error", errText(e));
      }
      if (sub !== pub) {
        return this.respondUpdate(
          reply,
          pub,
          "jwt update resulted in error",
          "subject does not match jwt content",
        );
      }
      if (!op.store.get(pub)) return this.respondUpdate(reply, pub, "jwt update skipped");
      try {
        op.store.update(body);
      } catch (e) {
        return this.respondUpdate(reply, pub, "jwt update resulted in error", errText(e));
      }
      this.respondUpdate(reply, pub, "jwt updated");
    };
    this.subscribe("$SYS.ACCOUNT.*.CLAIMS.UPDATE", update);
    this.subscribe("$SYS.REQ.ACCOUNT.*.CLAIMS.UPDATE", update);
    if (!dir) return;
    this.subscribe(
      "$SYS.REQ.CLAIMS.UPDATE",
      (_s, reply, body) => this.pushUpdate(op, reply, body, ""),
    );
    this.subscribe("$SYS.REQ.ACCOUNT.*.CLAIMS.LOOKUP", (subject, reply) => {
      const t = subject.split(".");
      if (!reply || t.length !== 6) return;
      op.resolver.fetch(t[3]).then((jwt) => {
        if (jwt) this.publish(reply, jwt);
      }, () => {});
    });
    this.subscribe("$SYS.REQ.CLAIMS.LIST", (_s, reply) => {
      if (!reply || !op.resolver.list) return;
      op.resolver.list().then((ids) =>
        this.publish(reply, { data: ids, server: this.serverInfo() })
      );
    });
    this.subscribe(
      "$SYS.REQ.CLAIMS.DELETE",
      (_s, reply, body) => this.deleteRequest(op, reply, body),
    );
  }

  /** A pushed account JWT for a directory resolver: validated, stored, applied when loaded. */
  private pushUpdate(op: SystemOperator, reply: string, body: string, pub: string): void {
    let sub: string;
    try {
      sub = decodeAccountClaims(body).sub;
    } catch (e) {
      return this.respondUpdate(reply, "n/a", "jwt update resulted in error", errText(e));
    }
    if (pub && sub !== pub) {
      return this.respondUpdate(
        reply,
        pub,
        "jwt update resulted in error",
        "subject does not match jwt content",
      );
    }
    op.resolver.store(sub, body).then(() => {
      if (op.store.get(sub)) {
        try {
          op.store.update(body);
        } catch (e) {
          this.host.log.error(`update resulted in error ${errText(e)}`);
        }
      }
      this.respondUpdate(reply, sub, "jwt updated");
    }, (e) => this.respondUpdate(reply, sub, "jwt update resulted in error", errText(e)));
  }

  private deleteRequest(op: SystemOperator, reply: string, body: string): void {
    let subj = "";
    let ids: string[] = [];
    let err: string | undefined;
    try {
      const g = decodeJwt(body) as unknown as {
        sub: string;
        iss: string;
        nats: { accounts?: unknown };
      };
      subj = g.sub;
      const list = g.nats.accounts;
      if (!op.resolver.delete) err = "delete must be enabled in server config";
      else if (g.sub !== g.iss) err = "not self signed";
      else if (!op.operatorKeys.has(g.iss)) err = "not trusted";
      else if (!Array.isArray(list)) err = "malformed request";
      else {
        for (const a of list) {
          if (typeof a !== "string" || !decodePublicKey(a, PREFIX.account)) {
            err = "malformed request";
            break;
          }
          if (a === this.accountName) {
            err = "not allowed to delete system account";
            break;
          }
        }
        ids = list as string[];
      }
    } catch (e) {
      err = errText(e);
    }
    if (err !== undefined) {
      return this.respondUpdate(reply, "", `delete accounts request by ${subj} failed`, err);
    }
    Promise.allSettled(ids.map((a) => op.resolver.delete!(a))).then((rs) => {
      const failed = rs.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      for (const a of ids) {
        op.store.remove(a);
        op.onDeleted?.(a);
      }
      const pass = rs.length - failed.length;
      if (failed.length === 0) this.respondUpdate(reply, "", `deleted ${pass} accounts`);
      else {
        this.respondUpdate(
          reply,
          "",
          `deleted ${pass} accounts, failed for ${failed.length}`,
          failed.map((f) => errText(f.reason)).join("\n"),
        );
      }
    });
  }

  // ---- events -------------------------------------------------------------------------------------

  private clientInfo(c: ClientConnection): Record<string, unknown> {
    const info: Record<string, unknown> = {
      start: c.startedAt.toISOString(),
      host: c.transport.peer.hostname,
      id: c.cid,
      acc: c.account.name,
    };
    const id = c.identity;
    if (id?.user) info.user = id.user;
    const o = c.connectOpts;
    if (o?.name) info.name = o.name;
    if (o?.lang) info.lang = o.lang;
    if (o?.version) info.ver = o.version;
    if (o?.jwt) info.jwt = o.jwt;
    if (id?.jwt) {
      if (id.jwt.issuer !== id.account) info.issuer_key = id.jwt.issuer;
      if (id.jwt.name) info.name_tag = id.jwt.name;
      if (id.jwt.tags?.length) info.tags = id.jwt.tags;
    }
    info.kind = "Client";
    info.client_type = c.transport.peer.kind === "WEBSOCKET" ? "websocket" : "nats";
    return info;
  }

  private eventId(): string {
    return `${this.host.serverId.slice(0, 8)}${(++this.eventSeq).toString(36).padStart(14, "0")}`;
  }

  /** `$SYS.ACCOUNT.<acc>.CONNECT` for a client bound to an account other than `$G`. */
  connected(c: ClientConnection): void {
    if (c.account.name === "$G") return;
    this.publish(`$SYS.ACCOUNT.${c.account.name}.CONNECT`, {
      type: "io.nats.server.advisory.v1.client_connect",
      id: this.eventId(),
      timestamp: new Date().toISOString(),
      server: this.serverInfo(),
      client: this.clientInfo(c),
    });
  }

  /** `$SYS.ACCOUNT.<acc>.DISCONNECT` with the close reason and counters. */
  disconnected(c: ClientConnection): void {
    if (c.account.name === "$G" || !c.identity) return;
    this.publish(`$SYS.ACCOUNT.${c.account.name}.DISCONNECT`, {
      type: "io.nats.server.advisory.v1.client_disconnect",
      id: this.eventId(),
      timestamp: new Date().toISOString(),
      server: this.serverInfo(),
      client: { ...this.clientInfo(c), stop: new Date().toISOString() },
      sent: { msgs: c.stats.outMsgs, bytes: c.stats.outBytes },
      received: { msgs: c.stats.inMsgs, bytes: c.stats.inBytes },
      reason: c.closeReason ?? "",
    });
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function connzOptions(o: Record<string, unknown>, acc: string): ConnzOptions {
  const str = (k: string) => (typeof o[k] === "string" ? o[k] as string : "");
  const num = (k: string) => (typeof o[k] === "number" ? o[k] as number : 0);
  const st = str("state").toLowerCase();
  const state = st === "closed" ? "closed" : st === "all" || st === "any" ? "all" : "open";
  return {
    sort: str("sort"),
    auth: o.auth === true,
    subs: { subs: o.subscriptions === true, detail: o.subscriptions_detail === true },
    offset: num("offset"),
    limit: num("limit"),
    cid: num("cid"),
    state,
    user: str("user"),
    acc: acc || str("acc"),
  };
}

function subszOptions(o: Record<string, unknown>, acc: string): SubszOptions {
  return {
    subs: o.subscriptions === true,
    offset: typeof o.offset === "number" ? o.offset : 0,
    limit: typeof o.limit === "number" ? o.limit : 0,
    test: typeof o.test === "string" ? o.test : "",
    acc: acc || (typeof o.account === "string" ? o.account : ""),
  };
}

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/**
 * The reference's configureAccounts rule: when the config's only account is the system account
 * (and there is no operator and no `no_auth_user`), a user `nats-<random>` in `$G` becomes the
 * `no_auth_user`, so clients without credentials still land in the global account.
 */
export function systemOnlyAuth(o: ServerOptions): AuthConfig {
  const sys = o.operator.systemAccount;
  const a = o.auth;
  const only = a.accounts.length === 1 && a.accounts[0].name === sys;
  if (!sys || !only || a.trustedKeys?.length || a.noAuthUser) return a;
  const rnd = crypto.getRandomValues(new Uint8Array(8));
  const name = `nats-${[...rnd].map((b) => BASE62[b % 62]).join("")}`;
  return {
    ...a,
    users: [...a.users, { user: name, password: name.slice(6), account: "$G" }],
    noAuthUser: name,
    implicitNoAuthUser: true,
  };
}

/** Startup error of a config `system_account` that names no configured account. */
export function systemAccountError(o: ServerOptions): string | undefined {
  const sys = o.operator.systemAccount;
  if (!sys || o.auth.trustedKeys?.length) return undefined;
  if (o.auth.accounts.some((a) => a.name === sys)) return undefined;
  return "error resolving system account: account missing";
}
