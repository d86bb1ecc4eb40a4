/** INFO encoding with the reference's field order and `omitempty` rules. */

/** Fields of INFO in Go struct order. */
const ORDER = [
  "server_id",
  "server_name",
  "version",
  "proto",
  "git_commit",
  "go",
  "host",
  "port",
  "headers",
  "auth_required",
  "tls_required",
  "tls_verify",
  "tls_available",
  "max_payload",
  "jetstream",
  "ip",
  "client_id",
  "client_ip",
  "nonce",
  "cluster",
  "cluster_dynamic",
  "domain",
  "connect_urls",
  "ws_connect_urls",
  "ldm",
  "import",
  "export",
  "lnoc",
  "info_on_connect",
  "connect_info",
  "leafnode_urls",
  "remote_account",
] as const;

/** Fields always present even when false/zero/empty. */
const ALWAYS = new Set([
  "server_id",
  "server_name",
  "version",
  "proto",
  "go",
  "host",
  "port",
  "headers",
  "max_payload",
]);

/** Builds `INFO {json} \r\n` (note the space before CRLF, as the reference). */
export function infoLine(fields: Record<string, unknown>): string {
  const ordered: Record<string, unknown> = {};
  for (const k of ORDER) {
    const v = fields[k];
    if (
      !ALWAYS.has(k) && (v === undefined || v === false || v === "" || v === 0 ||
        (Array.isArray(v) && v.length === 0))
    ) continue;
    if (v !== undefined) ordered[k] = v;
  }
  return `INFO ${JSON.stringify(ordered)} \r\n`;
}
