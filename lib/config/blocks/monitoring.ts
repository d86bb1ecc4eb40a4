/** Monitoring: `http` / `http_port` (alias `monitor_port`), `http_base_path`; https refused. */
import { refuseKey, type TopLevelHandlers } from "./context.ts";

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"monitoring"> = {
  http: (n, _k, ctx) => {
    const hp = ctx.listen(n);
    if (hp) {
      ctx.o.monitor.host = hp.host;
      ctx.meta.monitorHostExplicit = hp.host !== "";
      ctx.o.monitor.port = hp.port;
    }
  },
  https: refuseKey,
  http_port: (n, _k, ctx) => {
    const v = ctx.num(n);
    if (v !== undefined) ctx.o.monitor.port = v;
  },
  https_port: refuseKey,
  http_base_path: (n, _k, ctx) => {
    const s = ctx.str(n);
    if (s !== undefined) ctx.o.monitor.basePath = s;
  },
};
