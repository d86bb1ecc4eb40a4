/**
 * GenTLSConfig's file checks (tls.LoadX509KeyPair and the CA pool), with the reference's
 * messages, so a `tls` block naming unusable files fails at load time like nats-server. The
 * reading and checking is the one TLS-material loader (`lib/config/tls_material.ts`) that the
 * listeners use too.
 */
import type { TlsOptions } from "../options.ts";
import { readFile } from "../parser.ts";
import { loadTlsMaterial } from "../tls_material.ts";

/** Returns the reference's error text, or undefined when the files are usable. */
export function checkTlsFiles(t: TlsOptions): string | undefined {
  const r = loadTlsMaterial(t, readFile);
  return r.ok ? undefined : r.error;
}
