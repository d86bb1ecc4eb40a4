/**
 * The last N closed client connections (the reference's `closedRingBuffer`, N = 10000), for
 * `/connz?state=closed|all`. Each entry is captured when the connection closes, so it holds no
 * reference to the connection and its buffers.
 *
 * @module
 */
import type { ClientConnection } from "../protocol/client.ts";
import { type ConnRecord, connRecord } from "./conn_info.ts";
import { nowMs } from "./gofmt.ts";

/** The reference's `DEFAULT_MAX_CLOSED_CLIENTS`. */
export const DEFAULT_MAX_CLOSED = 10_000;

/** A bounded ring of closed connections, oldest first. */
export class ClosedConnections {
  readonly capacity: number;
  private readonly ring: ConnRecord[] = [];
  private next = 0;

  constructor(capacity = DEFAULT_MAX_CLOSED) {
    this.capacity = Math.max(1, capacity);
  }

  /** Captures a connection that is closing (its reason set, its subscriptions still there). */
  add(c: ClientConnection): void {
    this.push(connRecord(c, nowMs(), true));
  }

  /** Adds a captured record, dropping the oldest when full. */
  push(r: ConnRecord): void {
    if (this.ring.length < this.capacity) this.ring.push(r);
    else this.ring[this.next] = r;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Number of entries held. */
  get size(): number {
    return this.ring.length;
  }

  /** The entries, oldest first. */
  list(): ConnRecord[] {
    if (this.ring.length < this.capacity) return this.ring.slice();
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}
