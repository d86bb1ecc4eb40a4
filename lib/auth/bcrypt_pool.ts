/**
 * bcrypt verification off the event loop: a lazily started pool of module Workers running
 * `bcrypt_worker.ts`, a bounded cache of successful verifications, and coalescing of identical
 * in-flight requests.
 *
 * The cache is keyed by the stored hash and a SHA-256 digest of the password, so it never holds
 * a plaintext password, and a hit proves the same password was verified before. Only successes
 * are cached (a wrong password always pays the full cost, like the reference). The reference has
 * no such cache; it changes timing, not outcomes.
 *
 * @module
 */
import { nodeBuiltin } from "../core/node_builtin.ts";
import { bcryptVerifySync, parseBcrypt } from "./bcrypt.ts";

/** Options of a {@link BcryptPool}. */
export interface BcryptPoolOptions {
  /** Number of workers (default: hardwareConcurrency, at least 1, at most 4). */
  size?: number;
  /** Max cached successful verifications (default 1024; 0 disables the cache). */
  cacheSize?: number;
  /** Terminate idle workers after this many ms (default 10000; 0 = never). */
  idleMs?: number;
  /** Run verifications on the calling thread instead of Workers (tests, tools). */
  inline?: boolean;
}

interface Job {
  id: number;
  hash: string;
  password: string;
  resolve: (ok: boolean) => void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

function digest(hash: string, password: string): string {
  return hash + "\0" +
    nodeBuiltin("node:crypto").createHash("sha256").update(password, "utf8").digest("base64");
}

/** Pool statistics (for tests and the benchmark). */
export interface BcryptPoolStats {
  workers: number;
  queued: number;
  cacheEntries: number;
  cacheHits: number;
  computed: number;
}

/** A pool of bcrypt workers with a success cache. */
export class BcryptPool {
  readonly size: number;
  readonly #cacheSize: number;
  readonly #idleMs: number;
  readonly #inline: boolean;
  readonly #cache = new Map<string, true>();
  readonly #inflight = new Map<string, Promise<boolean>>();
  #slots: Slot[] = [];
  #queue: Job[] = [];
  #nextId = 1;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;
  #broken = false;
  #closed = false;
  #hits = 0;
  #computed = 0;

  constructor(options: BcryptPoolOptions = {}) {
    const hc = typeof navigator !== "undefined" ? navigator.hardwareConcurrency ?? 1 : 1;
    // One worker per core (max 4): a burst of cost-11 logins must finish inside the 2 s auth
    // timeout as it would with the reference's goroutines; one worker on 2 cores halves the
    // throughput for a few ms less worst-case timer lag (bench/auth_bench.ts).
    this.size = Math.max(1, options.size ?? Math.min(4, Math.max(1, hc)));
    this.#cacheSize = options.cacheSize ?? 1024;
    this.#idleMs = options.idleMs ?? 10_000;
    this.#inline = options.inline ?? false;
  }

  /**
   * Verify `password` against the bcrypt hash `hash`. Returns a boolean synchronously on a cache
   * hit or a malformed hash, else a Promise that settles when a worker is done. Never rejects.
   */
  verify(hash: string, password: string): boolean | Promise<boolean> {
    if (parseBcrypt(hash) === null) return false;
    const key = digest(hash, password);
    if (this.#cache.has(key)) {
      // Refresh LRU position.
      this.#cache.delete(key);
      this.#cache.set(key, true);
      this.#hits++;
      return true;
    }
    const pending = this.#inflight.get(key);
    if (pending) return pending;
    const p = this.#compute(hash, password).then((ok) => {
      this.#inflight.delete(key);
      if (ok) this.#remember(key);
      return ok;
    });
    this.#inflight.set(key, p);
    return p;
  }

  /** Verify and always return a Promise. */
  verifyAsync(hash: string, password: string): Promise<boolean> {
    return Promise.resolve(this.verify(hash, password));
  }

  /** Current statistics. */
  stats(): BcryptPoolStats {
    return {
      workers: this.#slots.length,
      queued: this.#queue.length,
      cacheEntries: this.#cache.size,
      cacheHits: this.#hits,
      computed: this.#computed,
    };
  }

  /** Forget all cached verifications. */
  clearCache(): void {
    this.#cache.clear();
  }

  /**
   * Terminate the workers. Queued and running verifications resolve to false. The pool can be
   * used again afterwards (workers restart lazily) unless `final` is true.
   */
  close(final = false): void {
    this.#closed = final;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    for (const slot of this.#slots) {
      slot.worker.terminate();
      slot.job?.resolve(false);
    }
    this.#slots = [];
    for (const job of this.#queue) job.resolve(false);
    this.#queue = [];
  }

  #remember(key: string): void {
    if (this.#cacheSize <= 0) return;
    this.#cache.set(key, true);
    while (this.#cache.size > this.#cacheSize) {
      this.#cache.delete(this.#cache.keys().next().value!);
    }
  }

  #compute(hash: string, password: string): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    this.#computed++;
    if (this.#inline || this.#broken) {
      return Promise.resolve().then(() => bcryptVerifySync(hash, password));
    }
    return new Promise<boolean>((resolve) => {
      this.#queue.push({ id: this.#nextId++, hash, password, resolve });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#idleTimer !== undefined) {
      clearTimeout(this.#idleTimer);
      this.#idleTimer = undefined;
    }
    while (this.#queue.length > 0) {
      let slot = this.#slots.find((s) => s.job === null);
      if (!slot) {
        if (this.#slots.length >= this.size) break;
        const started = this.#start();
        if (!started) {
          // Workers unavailable: fall back to the calling thread for everything queued.
          this.#broken = true;
          const jobs = this.#queue;
          this.#queue = [];
          for (const j of jobs) {
            queueMicrotask(() => j.resolve(bcryptVerifySync(j.hash, j.password)));
          }
          return;
        }
        slot = started;
      }
      const job = this.#queue.shift()!;
      slot.job = job;
      slot.worker.postMessage({ id: job.id, hash: job.hash, password: job.password });
    }
    this.#armIdle();
  }

  #armIdle(): void {
    if (this.#idleMs <= 0 || this.#slots.length === 0) return;
    if (this.#queue.length > 0 || this.#slots.some((s) => s.job !== null)) return;
    const timer = setTimeout(() => {
      this.#idleTimer = undefined;
      if (this.#queue.length === 0 && this.#slots.every((s) => s.job === null)) this.close();
    }, this.#idleMs);
    Deno.unrefTimer(timer);
    this.#idleTimer = timer;
  }

  #start(): Slot | null {
    let worker: Worker;
    try {
      worker = new Worker(new URL("./bcrypt_worker.ts", import.meta.url).href, {
        type: "module",
      });
    } catch {
      return null;
    }
    const slot: Slot = { worker, job: null };
    worker.onmessage = (e: MessageEvent<{ id: number; ok?: boolean; error?: string }>) => {
      const job = slot.job;
      if (!job || job.id !== e.data.id) return;
      slot.job = null;
      job.resolve(e.data.ok === true);
      this.#pump();
    };
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      // A crashed worker: finish its job on this thread and replace it lazily.
      worker.terminate();
      this.#slots = this.#slots.filter((s) => s !== slot);
      const job = slot.job;
      slot.job = null;
      if (job) job.resolve(bcryptVerifySync(job.hash, job.password));
      this.#pump();
    };
    this.#slots.push(slot);
    return slot;
  }
}

let shared: BcryptPool | undefined;

/** The process-wide pool used by authenticators unless one is injected. */
export function sharedBcryptPool(): BcryptPool {
  shared ??= new BcryptPool();
  return shared;
}

/** Terminate the shared pool's workers (e.g. at server shutdown or the end of a test). */
export function closeSharedBcryptPool(): void {
  shared?.close();
}
