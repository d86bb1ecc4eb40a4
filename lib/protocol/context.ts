/**
 * What a client connection needs from the server around it: options, auth, accounts,
 * bookkeeping and logging. The server implements it; the protocol never imports the server.
 */
import type { PermissionChecker } from "../auth/permissions.ts";
import type { Authenticator, Permissions } from "../auth/types.ts";
import type { ServerOptions } from "../config/options.ts";
import type { Sublist } from "../routing/sublist.ts";
import type { ClientSub } from "./subscription.ts";

export type { PermissionChecker };

/** An account's subject space. */
export interface Account {
  readonly name: string;
  readonly sublist: Sublist<ClientSub>;
}

/** Log sink with the reference's levels. */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  debug(msg: string): void;
  trace(msg: string): void;
  readonly debugEnabled: boolean;
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
  /** Called once when a connection is closed. */
  removeClient(cid: number): void;
}
