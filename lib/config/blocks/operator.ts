/**
 * Operator mode (trusted operators and keys, account resolvers, the system account). Not
 * implemented yet: refused, except `no_system_account`, which is what already happens here.
 */
import { refuseKey, type TopLevelHandlers } from "./context.ts";

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"operator"> = {
  operator: refuseKey,
  resolver: refuseKey,
  resolver_tls: refuseKey,
  resolver_preload: refuseKey,
  resolver_pinned_accounts: refuseKey,
  system_account: refuseKey,
  trusted: refuseKey,
  no_system_account: (n, k, ctx) => {
    // There is no system account in this server, so `true` is what already happens.
    if (ctx.bool(n) === false) ctx.ignore(n, k);
  },
};
