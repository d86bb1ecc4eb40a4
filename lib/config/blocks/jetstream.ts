/** JetStream (`jetstream`, `store_dir`, `default_js_domain`). Not implemented: refused. */
import { refuseKey, type TopLevelHandlers } from "./context.ts";

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"jetstream"> = {
  store_dir: refuseKey,
  jetstream: refuseKey,
  default_js_domain: refuseKey,
};
