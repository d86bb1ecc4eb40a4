/** Monitoring: `http` / `http_port` (alias `monitor_port`), `https` / `https_port`, `http_base_path`. */
import type { TopLevelHandler, TopLevelHandlers } from "./context.ts";

/** Which monitoring port a key sets: plain HTTP or HTTPS. */
type PortField = "port" | "httpsPort";

/** `http` / `https: "host:port"`: the host (explicitly set) and the port. */
const listenKey = (field: PortField): TopLevelHandler => (n, _k, ctx) => {
  const hp = ctx.listen(n);
  if (hp) {
    ctx.o.monitor.host = hp.host;
    ctx.meta.monitorHostExplicit = hp.host !== "";
    ctx.o.monitor[field] = hp.port;
  }
};

/** `http_port` / `https_port`. */
const portKey = (field: PortField): TopLevelHandler => (n, _k, ctx) => {
  const v = ctx.num(n);
  if (v !== undefined) ctx.o.monitor[field] = v;
};

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"monitoring"> = {
  http: listenKey("port"),
  https: listenKey("httpsPort"),
  http_port: portKey("port"),
  https_port: portKey("httpsPort"),
  http_base_path: (n, _k, ctx) => {
    const s = ctx.str(n);
    if (s !== undefined) ctx.o.monitor.basePath = s;
  },
};
