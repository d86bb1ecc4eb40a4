/**
 * What a connection needs from the server around it: options, auth, accounts,
 * bookkeeping and logging. The server implements it; the protocol never imports the server.
 */
import type { PermissionChecker } from "../auth/permissions.ts";
import type { Authenticator, Identity, Permissions } from "../auth/types.ts";
import type { ServerOptions } from "../config/options.ts";
import type { Account } from "../accounts/account.ts";

export type { Account, PermissionChecker };

/** A connection as the server's post-authentication checks see it. */
export interface AuthenticatedClient {
  readonly cid: number;
  readonly identity?: Identity;
  readonly account: Account;
  readonly isClosed: boolean;
  sendErr(text: string): void;
  close(reason: string, flush?: boolean): void;
  /** Applies subscription and payload limits (-1 = none). */
  applyLimits(maxSubs: number, maxPayload: number): void;
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

/**
 * The server as seen from a connection. Connections read `options` at use, so a reload that
 * swaps the options object is seen by every connection.
 */
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
  /**
   * Called after a connection was bound to its identity (account limits, JWT expiry and
   * revocation tracking live in the server). The connection may be closed by it.
   */
  clientAuthenticated?(client: AuthenticatedClient): void;
}
