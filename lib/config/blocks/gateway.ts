/** `gateway { ... }` (superclusters). Not implemented: refused as a whole. */
import { refuseKey, type TopLevelHandlers } from "./context.ts";

/** The top-level keys of this module. */
export const topLevelHandlers: TopLevelHandlers<"gateway"> = { gateway: refuseKey };
