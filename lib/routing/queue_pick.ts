/**
 * Choosing the one queue-group member that receives a message
 * (reference: `processMsgResults` in nats-server `server/client.go`).
 *
 * @module
 */

/**
 * Picks one member of a queue group: starts at a random index (as the reference does) and walks
 * forward, wrapping around, returning the first member for which `skip` is not true (e.g. the
 * publisher's own subscription when it connected with `echo: false`, or a member that could not
 * take the message). Returns undefined when the group is empty or every member is skipped.
 *
 * @param members one queue group (an inner array of `MatchResult.queues`)
 * @param random source of numbers in [0, 1) (default `Math.random`); called once, and only
 *   when the group has more than one member
 * @param skip optional predicate; true means "try the next member"
 */
export function pickQueueMember<S>(
  members: readonly S[],
  random: () => number = Math.random,
  skip?: (member: S) => boolean,
): S | undefined {
  const n = members.length;
  if (n === 0) return undefined;
  let start = 0;
  if (n > 1) {
    start = Math.floor(random() * n);
    // Guard against a random source outside [0, 1) (or NaN).
    if (!(start >= 0 && start < n)) start = 0;
  }
  if (skip === undefined) return members[start];
  for (let k = 0, i = start; k < n; k++) {
    const m = members[i];
    if (!skip(m)) return m;
    if (++i === n) i = 0;
  }
  return undefined;
}
