/**
 * What a client connection needs from the server around it: options, auth, accounts,
 * bookkeeping and logging. The server implements it; the protocol never imports the server.
 */
import type { PermissionChecker } from "../auth/permissions.ts";
import type { Authenticator, Permissions } from "../auth/types.ts";
import type { ServerOptions } from "../config/options.ts";
import type { Sublist } from "../routing/sublist.ts";
import type { ClientSub, Subscriber } from "./subscription.ts";

export type { PermissionChecker };

/** An account's subject space. */
export interface Account {
  readonly name: string;
  readonly sublist: Sublist<ClientSub>;
  /**
   * Cross-account routes out of this account (stream exports, service imports, service
   * responses); null when the account has none, which is all the hot path looks at.
   */
  readonly links: AccountLinks | null;
}

/** The connection a message was first published by, as cross-account delivery sees it. */
export interface Origin {
  /** The publisher's account (`acc` of the `Nats-Request-Info` header). */
  readonly account: Account;
  /** Round-trip time estimate in nanoseconds (`rtt` of that header); 0 when unknown. */
  readonly rttNs: number;
}

/**
 * Opaque to the protocol: the server's record of the service imports a message already went
 * through (cycle detection, `svc` of the request header). null for a plain publish.
 */
export interface ImportTrail {
  readonly fromService: boolean;
}

/**
 * The cross-account side of delivery, implemented by the server (`lib/server/accounts.ts`).
 * Message arguments mirror the parser's PUB/HPUB output: `msg` holds the headers (first
 * `hdrLen` bytes, -1 = none) and the payload without the trailing CRLF; `sizeTok` is the size
 * token as sent (reused in MSG lines when there are no headers).
 */
export interface AccountLinks {
  /**
   * Delivers a message published (or imported) into `account` across account boundaries, after
   * its local subscribers got it. `skip` is the publisher when it asked for no echo.
   * Returns the number of deliveries, counting a matched service import as one (the
   * reference's internal subscription), which suppresses the no-responders status.
   */
  forward(
    account: Account,
    skip: Subscriber | null,
    subject: string,
    subjectB: Uint8Array,
    reply: Uint8Array | null,
    hdrLen: number,
    sizeTok: Uint8Array,
    msg: Uint8Array,
    origin: Origin,
    trail: ImportTrail | null,
  ): number;
  /** A subscription on `subject` left `account`: drop response routes nobody waits for. */
  interestLost(account: Account, subject: string): void;
}

/** Log sink with the reference's levels. */
export interface Logger {
  /** `[INF]` line. */
  info(msg: string): void;
  /** `[WRN]` line. */
  warn(msg: string): void;
  /** `[ERR]` line. */
  error(msg: string): void;
  /** `[DBG]` line (dropped unless debug is on). */
  debug(msg: string): void;
  /** `[TRC]` line (dropped unless trace is on). */
  trace(msg: string): void;
  /** Whether debug lines are written (check before building costly messages). */
  readonly debugEnabled: boolean;
  /** Whether trace lines are written (check before building costly messages). */
  readonly traceEnabled: boolean;
}

/** Server-wide counters. */
export interface ServerStats {
  inMsgs: number;
  outMsgs: number;
  inBytes: number;
  outBytes: number;
  slowConsumers: number;
}

/** The server as seen from a client connection. */
export interface ServerContext {
  readonly options: ServerOptions;
  readonly authenticator: Authenticator;
  readonly log: Logger;
  readonly stats: ServerStats;
  /** The INFO JSON object for a connection (without client-specific fields). */
  baseInfo(): Record<string, unknown>;
  /** Looks up (or creates) an account by name. */
  account(name: string): Account;
  /** Compiles permissions into a checker. */
  permissionChecker(perms: Permissions): PermissionChecker;
  /** Called once when a connection is closed (its reason set, its subscriptions still held). */
  removeClient(cid: number): void;
}
