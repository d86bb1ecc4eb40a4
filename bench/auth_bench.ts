/**
 * Auth benchmarks: bcrypt cost-11 verification in the Worker pool vs event-loop
 * responsiveness, plus the cheap paths (cache hit, NKEY signature, permission checks).
 *
 *   deno run -A bench/auth_bench.ts [--quick]
 *
 * Prints a table and, with --json, one JSON object.
 *
 * @module
 */
import { bcryptHash, bcryptVerifySync } from "../lib/auth/bcrypt.ts";
import { BcryptPool } from "../lib/auth/bcrypt_pool.ts";
import { blowfishInit } from "../lib/auth/blowfish_table.ts";
import { computeBlowfishInit } from "../lib/auth/blowfish_pi.ts";
import { createKeyPair, createNonce, verifyNonceSignature } from "../lib/auth/nkeys.ts";
import { decodeSeed, PREFIX } from "../lib/core/nkey.ts";
import { createPermissionChecker } from "../lib/auth/permissions.ts";
import { sign } from "node:crypto";

export interface LagResult {
  /** Wall time for all verifications (ms). */
  totalMs: number;
  /** Per-verification latency from submit to result (ms). */
  meanLatencyMs: number;
  maxLatencyMs: number;
  /** Largest observed delay of a 5 ms timer beyond its due time (ms). */
  maxTimerLagMs: number;
  /** Timer callbacks that ran during the run. */
  ticks: number;
  allOk: boolean;
}

function timeIt(fn: () => void, iterations: number): number {
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) fn();
  return ((performance.now() - t0) * 1000) / iterations; // µs
}

export async function runAuthBench(quick = false) {
  const out: Record<string, unknown> = {};
  const cost = 11;
  const verifies = quick ? 6 : 20;

  // Blowfish initial state: shipped table vs computing π.
  out.blowfishTableParseMs = timeIt(() => blowfishInit(), 20) / 1000;
  out.blowfishFromPiMs = timeIt(() => computeBlowfishInit(), quick ? 1 : 3) / 1000;

  // bcrypt on the calling thread.
  const hash = bcryptHash("correct horse battery staple", cost);
  const inlineRuns: number[] = [];
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const t0 = performance.now();
    if (!bcryptVerifySync(hash, "correct horse battery staple")) throw new Error("verify");
    inlineRuns.push(performance.now() - t0);
  }
  out.bcryptCost11InlineMs = { min: Math.min(...inlineRuns), max: Math.max(...inlineRuns) };
  const h10 = bcryptHash("x", 10);
  const t10 = performance.now();
  bcryptVerifySync(h10, "x");
  out.bcryptCost10InlineMs = performance.now() - t10;

  // Inline pool: everything on the event loop (the problem the workers solve).
  {
    const pool = new BcryptPool({ inline: true, cacheSize: 0 });
    let i = 0;
    out.inline = await measureLagDistinct(pool, hash, quick ? 3 : 5, () => `inline${i++}`);
  }

  // Worker pools.
  for (const size of [1, 2, 4]) {
    const pool = new BcryptPool({ size, cacheSize: 0, idleMs: 0 });
    try {
      // Start-up: first verification including worker spawn and module load.
      const t0 = performance.now();
      await pool.verifyAsync(hash, "correct horse battery staple");
      const firstMs = performance.now() - t0;
      // distinct passwords so nothing is coalesced: all wrong but one costs the same
      let i = 0;
      const lag = await measureLagDistinct(pool, hash, verifies, () => `pw${i++}`);
      out[`workers${size}`] = { firstVerifyWithStartupMs: firstMs, ...lag };
    } finally {
      pool.close();
    }
  }

  // Cache hit.
  {
    const pool = new BcryptPool({ size: 1, idleMs: 0 });
    try {
      await pool.verifyAsync(hash, "correct horse battery staple");
      out.cacheHitUs = timeIt(() => pool.verify(hash, "correct horse battery staple"), 20000);
    } finally {
      pool.close();
    }
  }

  // NKEY nonce signature verification.
  {
    const kp = createKeyPair(PREFIX.user);
    const nonce = createNonce();
    // sign with node:crypto using the seed of our own key pair
    const { privateKeyFromSeed } = await import("../lib/auth/nkeys.ts");
    const priv = privateKeyFromSeed(decodeSeed(kp.seed)!.key);
    const sig = sign(null, new TextEncoder().encode(nonce), priv).toString("base64url");
    if (!verifyNonceSignature(kp.publicKey, nonce, sig)) throw new Error("nkey");
    out.nkeyVerifyUs = timeIt(() => verifyNonceSignature(kp.publicKey, nonce, sig), 5000);
    out.createNonceUs = timeIt(() => createNonce(), 20000);
  }

  // Permission checks.
  {
    const chk = createPermissionChecker({
      publish: { allow: ["orders.*", "events.>", "_INBOX.>"], deny: ["events.secret.>"] },
      subscribe: { allow: ["orders.>", "_INBOX.>"], deny: ["orders.internal"] },
    });
    let k = 0;
    out.canPublishCachedUs = timeIt(() => chk.canPublish("orders.new"), 200000);
    out.canPublishUncachedUs = timeIt(() => chk.canPublish(`events.x.${k++}`), 50000);
    out.canSubscribeUs = timeIt(() => chk.canSubscribe("orders.*"), 100000);
  }
  return out;
}

/** Like measureLag, but each verification uses a fresh (wrong) password: no coalescing. */
async function measureLagDistinct(
  pool: BcryptPool,
  hash: string,
  n: number,
  nextPassword: () => string,
): Promise<LagResult> {
  let maxLag = 0;
  let ticks = 0;
  let due = performance.now() + 5;
  let running = true;
  const tick = () => {
    const now = performance.now();
    maxLag = Math.max(maxLag, now - due);
    ticks++;
    if (running) {
      due = now + 5;
      setTimeout(tick, 5);
    }
  };
  setTimeout(tick, 5);
  const t0 = performance.now();
  const latencies: number[] = [];
  const results = await Promise.all(
    Array.from({ length: n }, () => {
      const s = performance.now();
      return pool.verifyAsync(hash, nextPassword()).then((ok) => {
        latencies.push(performance.now() - s);
        return ok;
      });
    }),
  );
  const totalMs = performance.now() - t0;
  running = false;
  await new Promise((r) => setTimeout(r, 10));
  return {
    totalMs,
    meanLatencyMs: latencies.reduce((a, b) => a + b, 0) / latencies.length,
    maxLatencyMs: Math.max(...latencies),
    maxTimerLagMs: maxLag,
    ticks,
    allOk: results.every((r) => r === false), // all wrong passwords → all false
  };
}

function fmt(v: unknown): string {
  if (typeof v === "number") return v < 10 ? v.toFixed(3) : v.toFixed(1);
  if (v && typeof v === "object") {
    return Object.entries(v).map(([k, x]) => `${k}=${fmt(x)}`).join(" ");
  }
  return String(v);
}

if (import.meta.main) {
  const quick = Deno.args.includes("--quick");
  const res = await runAuthBench(quick);
  if (Deno.args.includes("--json")) console.log(JSON.stringify(res));
  else for (const [k, v] of Object.entries(res)) console.log(`${k.padEnd(24)} ${fmt(v)}`);
}
