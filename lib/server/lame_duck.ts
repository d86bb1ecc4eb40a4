/**
 * Lame-duck mode as nats-server 2.9.10 runs it: stop accepting on every listener, tell the
 * clients that take async INFO (`"ldm": true`), wait `lame_duck_grace_period`, then close the
 * clients one by one spread over what is left of `lame_duck_duration` (at most 1s apart, at
 * least half the interval, batched when there are more clients than milliseconds), then shut
 * down. With no clients it shuts down at once.
 *
 * @module
 */
import type { Logger } from "../protocol/context.ts";

/** A connection lame-duck mode notifies and closes. */
export interface LameDuckClient {
  readonly takesAsyncInfo: boolean;
  sendAsyncInfo(extra: Record<string, unknown>): void;
  /** Closes with reason "Server Shutdown". */
  closeForShutdown(): void;
}

/** What lame-duck mode drives. */
export interface LameDuckTarget {
  readonly log: Logger;
  stopAccepting(): void;
  /** The clients open now. */
  clients(): LameDuckClient[];
  shutdown(): Promise<void>;
  /** Resolves when the server shuts down by other means (stops the schedule). */
  readonly finished: Promise<void>;
}

/** Durations in ms. */
export interface LameDuckTiming {
  durationMs: number;
  gracePeriodMs: number;
}

/** The pause between two closes, and how many clients go per pause (the reference's rule). */
export function closeSchedule(
  timing: LameDuckTiming,
  clients: number,
): { intervalMs: number; batch: number } {
  let dur = timing.durationMs - Math.abs(timing.gracePeriodMs);
  if (dur <= 0) dur = 1000;
  let intervalMs = dur / clients;
  let batch = 1;
  if (intervalMs < 1) {
    intervalMs = 1;
    batch = Math.floor(clients / dur);
  } else if (intervalMs > 1000) intervalMs = 1000;
  return { intervalMs, batch };
}

/** Runs lame-duck mode to the end (the server has shut down when it resolves). */
export async function runLameDuck(target: LameDuckTarget, timing: LameDuckTiming): Promise<void> {
  target.log.info("Entering lame duck mode, stop accepting new clients");
  target.stopAccepting();
  const clients = target.clients();
  if (clients.length === 0) return target.shutdown();
  const { intervalMs, batch } = closeSchedule(timing, clients.length);
  for (const c of clients) if (c.takesAsyncInfo) c.sendAsyncInfo({ ldm: true });
  let stopped = false;
  target.finished.then(() => stopped = true);
  // A sleep that ends early (timer cleared) when the server shuts down meanwhile.
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      target.finished.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  await wait(Math.abs(timing.gracePeriodMs));
  if (stopped) return;
  target.log.info("Closing existing clients");
  for (let i = 0; i < clients.length; i++) {
    clients[i].closeForShutdown();
    if (i === clients.length - 1) break;
    if (batch === 1 || i % batch === 0) {
      const pause = Math.max(intervalMs / 2, Math.random() * intervalMs);
      await wait(pause);
      if (stopped) return;
    }
  }
  await target.shutdown();
}
