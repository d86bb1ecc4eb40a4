/** The stall arithmetic and duration text of flow control, against the reference's values. */
import { assertEquals } from "../helpers/assert.ts";
import {
  goDurationMs,
  STALL_MAX_MS,
  STALL_MIN_MS,
  stallDurationMs,
} from "../../lib/protocol/flow.ts";

Deno.test("stallDurationMs: 100 ms up to half of max_pending, +100 ms per tenth of the half, 1 s at the limit", () => {
  const mp = 64 * 1024 * 1024;
  const half = mp / 2;
  const step = Math.floor(half / 10);
  const cases: [number, number][] = [
    [0, STALL_MIN_MS],
    [half, STALL_MIN_MS],
    [half + 1, STALL_MIN_MS],
    [half + step, 200],
    [half + 5 * step + 1, 600],
    // Integer steps as in Go: just under the limit is 10 steps, 1.1 s.
    [mp - 1, 1100],
    [mp, STALL_MAX_MS],
    [mp * 2, STALL_MAX_MS],
  ];
  for (const [pending, want] of cases) {
    assertEquals(stallDurationMs(pending, mp), want, `${pending}`);
  }
});

Deno.test("goDurationMs prints as Go's time.Duration", () => {
  const cases: [number, string][] = [
    [100, "100ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [10_000, "10s"],
    [90_000, "1m30s"],
    [3_600_000, "1h0m0s"],
  ];
  for (const [ms, want] of cases) assertEquals(goDurationMs(ms), want);
});
