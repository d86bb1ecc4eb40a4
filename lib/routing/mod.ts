/**
 * Subject routing: subject validation/matching, the subscription trie and queue member choice.
 *
 * @module
 */

export {
  isValidLiteralSubject,
  isValidQueueName,
  isValidSubject,
  subjectIsSubsetOf,
  subjectMatchesPattern,
} from "./subject.ts";
export { Sublist } from "./sublist.ts";
export type { MatchResult, SublistOptions, Subscription } from "./sublist.ts";
export { pickQueueMember } from "./queue_pick.ts";
