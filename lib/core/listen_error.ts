/**
 * Go's `net.Listen` wording for a failed bind, which the reference puts in its fatal lines:
 * `listen tcp 127.0.0.1:4222: bind: address already in use`.
 *
 * @module
 */
import { joinHostPort } from "./gofmt.ts";

/** The text of a listen failure on `host:port`; other errors keep their own message. */
export function goListenError(err: unknown, host: string, port: number): string {
  const op = `listen tcp ${joinHostPort(host, port)}: bind: `;
  // Deno.listen throws Deno.errors; node:net (the TLS client port) sets a libuv code.
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Deno.errors.AddrInUse || code === "EADDRINUSE") {
    return op + "address already in use";
  }
  if (err instanceof Deno.errors.AddrNotAvailable || code === "EADDRNOTAVAIL") {
    return op + "cannot assign requested address";
  }
  if (err instanceof Deno.errors.PermissionDenied || code === "EACCES") {
    return op + "permission denied";
  }
  return err instanceof Error ? err.message : String(err);
}
