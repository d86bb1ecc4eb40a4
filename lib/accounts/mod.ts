/**
 * Accounts: subject spaces with interest events, the links between them (stream and service
 * imports, service responses), and the registry that holds them, fed by sources.
 *
 * @module
 */
export { Account } from "./account.ts";
export type { Interest, InterestChange, InterestListener } from "./account.ts";
export { CLIENT_INFO_HDR, clientInfoJson } from "./client_info.ts";
export { getHeader, setHeader } from "./headers.ts";
export { existingLinks, Links, type ResponseType } from "./links.ts";
export {
  AccountRegistry,
  type AccountRegistryOptions,
  DEFAULT_RESPONSE_THRESHOLD_MS,
} from "./registry.ts";
export { type AccountDefinition, type AccountSource, ConfigAccountSource } from "./source.ts";
export { subjectsCollide, Transform } from "./transform.ts";
