/** A connection's subscription as stored in an account's sublist (defined by routing). */
export type { ClientSub, Subscriber } from "../routing/subscription.ts";
