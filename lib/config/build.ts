/**
 * The option layer: a parsed config tree → `ServerOptions`, with the keys, aliases, types,
 * defaults and parse-time checks of nats-server 2.9.10 `server/opts.go`.
 *
 * Each top-level key is looked up in the key table (`keys.ts`) and handed to the block module
 * the table names (`blocks/*.ts`); `finish` then applies setBaselineOptions' defaults.
 * A new block is one module exporting its `topLevelHandlers` plus its rows in the table.
 *
 * Differences by design (see the report in tests/config/README.md):
 * - keys are processed in file order (the reference iterates a Go map, i.e. randomly);
 * - a wrong type does not abort the rest of its block: every error is collected;
 * - keys of the reference that this server does not implement are refused (`<key>: not supported
 *   yet`) when they affect security, delivery or persistence, or accepted with a warning when
 *   they are purely descriptive;
 * - unknown keys get a ` (did you mean "…"?)` hint.
 */
import type { ConfigError } from "./errors.ts";
import type { OptionsMeta } from "./freeze.ts";
import { resolveKey, TOP_LEVEL, type TopLevelKey } from "./keys.ts";
import type { ServerOptions } from "./options.ts";
import type { ConfigMap } from "./parser.ts";
import * as accounts from "./blocks/accounts.ts";
import * as authorization from "./blocks/authorization.ts";
import * as cluster from "./blocks/cluster.ts";
import { BuildContext, type TopLevelHandler } from "./blocks/context.ts";
import * as gateway from "./blocks/gateway.ts";
import * as jetstream from "./blocks/jetstream.ts";
import * as leafnodes from "./blocks/leafnodes.ts";
import * as monitoring from "./blocks/monitoring.ts";
import * as mqtt from "./blocks/mqtt.ts";
import * as operator from "./blocks/operator.ts";
import * as tls from "./blocks/tls.ts";
import * as top from "./blocks/top.ts";
import * as websocket from "./blocks/websocket.ts";

/** Options built from a tree, with every problem found. */
export interface BuildResult {
  options: ServerOptions;
  errors: ConfigError[];
  warnings: ConfigError[];
  meta: OptionsMeta;
}

/** Every top-level key's handler; the type makes a key missing from any module not compile. */
export const TOP_LEVEL_HANDLERS: { readonly [K in TopLevelKey]: TopLevelHandler } = {
  ...top.topLevelHandlers,
  ...authorization.topLevelHandlers,
  ...accounts.topLevelHandlers,
  ...tls.topLevelHandlers,
  ...websocket.topLevelHandlers,
  ...leafnodes.topLevelHandlers,
  ...monitoring.topLevelHandlers,
  ...operator.topLevelHandlers,
  ...cluster.topLevelHandlers,
  ...gateway.topLevelHandlers,
  ...jetstream.topLevelHandlers,
  ...mqtt.topLevelHandlers,
};

/** setBaselineOptions: the reference's defaults for values left at zero. */
function finish(ctx: BuildContext, configFile: string | undefined): void {
  const o = ctx.o;
  if (configFile !== undefined) o.configFile = configFile;
  top.finishTopLevel(ctx);
  authorization.finishAuthorization(ctx);
  if (!ctx.meta.monitorHostExplicit) o.monitor.host = o.host;
  if (o.websocket.host === "") o.websocket.host = "0.0.0.0";
  leafnodes.finishLeafnodes(ctx);
  authorization.tidyAuthorization(ctx);
}

/** Turns a parsed tree into options (not frozen, not validated). */
export function buildOptions(tree: ConfigMap, configFile?: string): BuildResult {
  const ctx = new BuildContext();
  for (const [k, n] of tree) {
    const key = resolveKey(TOP_LEVEL, k) as TopLevelKey | undefined;
    if (key === undefined) ctx.unknown(n, k, TOP_LEVEL.candidates);
    else TOP_LEVEL_HANDLERS[key](n, k, ctx);
  }
  finish(ctx, configFile);
  return { options: ctx.o, errors: ctx.errors, warnings: ctx.warnings, meta: ctx.meta };
}
