/**
 * `cluster { ... }`: only `name` is served (INFO `cluster`, /varz `cluster.name`), which is what
 * the official clients' test setups write. Routes are not implemented: every other key is
 * refused with a hint to join a nats-server cluster through a leafnode connection instead.
 */
import { CLUSTER } from "../keys.ts";
import type { TopLevelHandlers } from "./context.ts";

/** What a refused cluster key says to do instead. */
export const CLUSTER_HINT =
  "routes are not implemented; to join a nats-server cluster, connect to it with leafnodes";

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"cluster"> = {
  cluster: (n, _k, ctx) => {
    const m = ctx.map(n);
    if (!m) return;
    for (const [k, v] of m) {
      const key = ctx.keyOf(CLUSTER, k, v);
      if (key === undefined) continue;
      if (key === "name") {
        const s = ctx.str(v);
        if (s !== undefined) ctx.o.clusterName = s;
      } else ctx.refuse(v, `cluster ${k}`, CLUSTER_HINT);
    }
  },
};
