/**
 * Engine-independent WebSocket pieces shared by the native (`Deno.upgradeWebSocket`) and the
 * own-codec engines: handshake rules, origin rules, trusted-proxy CIDRs and RFC 6455 framing.
 *
 * @module
 */

export * from "./handshake.ts";
export * from "./origin.ts";
export * from "./cidr.ts";
export * from "./frames.ts";
export { goQuoteByteString, goUrlParse, goUrlParseRequestURI } from "../../core/gourl.ts";
export type { GoUrl, GoUrlResult } from "../../core/gourl.ts";
