/**
 * Subject routing: the subscription trie and queue member choice.
 *
 * @module
 */

export { Sublist } from "./sublist.ts";
export type { MatchResult, SublistOptions, Subscription } from "./sublist.ts";
export { pickQueueMember } from "./queue_pick.ts";
