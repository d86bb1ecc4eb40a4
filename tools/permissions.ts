/**
 * The Deno permissions and runtime flags the server runs with, in one place: the `start`,
 * `deploy` and `compile` tasks, the bundle's shebang, the Dockerfile's ENTRYPOINT and the bench's
 * `ours` targets must all use exactly these (tests/packaging/permissions_test.ts,
 * dockerfile_test.ts and bundle_test.ts check that they do).
 *
 * - `--allow-net`: the listeners;
 * - `--allow-read`: the config file, its includes and certificates (anywhere the user mounts them);
 * - `--allow-env`: `$VARIABLES` in the config, and `PORT` in deploy mode;
 * - `--no-prompt`: a missing permission is an error naming the flag, never an interactive prompt.
 *
 * Not granted: write (only `-l`, `-P`, `--ports_file_dir` need it), run, sys, ffi.
 *
 * @module
 */
export const RUN_PERMISSIONS: readonly string[] = [
  "--allow-net",
  "--allow-read",
  "--allow-env",
  "--no-prompt",
];

/**
 * V8 flags the server is started with. V8 sizes its heap when the process starts; these cannot be
 * set later through `node:v8` (measured: no effect).
 *
 * - `--max-semi-space-size=4`: a young generation of at most 2 × 4 MB. By default V8 grows it to
 *   2 × 16+ MB under allocation bursts (a burst of SUBs, connections churning) and keeps it, which
 *   is most of the RSS above the live heap: 100k subscriptions 0.90 → 0.70 KiB/sub, the 60 s soak's
 *   end RSS about 125 → 80 MiB, with the same GC time under pub/sub load (bench/README.md
 *   "Where the memory goes").
 */
export const RUN_V8_FLAGS: readonly string[] = ["--v8-flags=--max-semi-space-size=4"];

/** Everything between `deno run` and the script: {@link RUN_PERMISSIONS} + {@link RUN_V8_FLAGS}. */
export const RUN_FLAGS: readonly string[] = [...RUN_PERMISSIONS, ...RUN_V8_FLAGS];
