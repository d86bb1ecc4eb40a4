/**
 * The Deno permissions the server runs with, in one place: the `start` and `compile` tasks, the
 * bundle's shebang and the Dockerfile's ENTRYPOINT must all use exactly these
 * (tests/packaging/permissions_test.ts checks that they do).
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
