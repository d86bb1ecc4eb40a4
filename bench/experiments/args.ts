/**
 * The experiments' one command-line reader: `--name value` pairs.
 * @module
 */

/** The value after `flag` (e.g. `"--n"`) in `args`, or undefined when the flag is absent. */
export function flagValue(flag: string, args: readonly string[] = Deno.args): string | undefined {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
}
