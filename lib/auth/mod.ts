/**
 * The auth module: authenticator, permissions, NKEYs and bcrypt.
 *
 * @module
 */
export * from "./types.ts";
export {
  type AuthenticatorOptions,
  comparePasswords,
  constantTimeEqual,
  createAuthenticator,
  DEFAULT_AUTH_TIMEOUT_MS,
  GLOBAL_ACCOUNT,
  type NatsAuthenticator,
  PLAINTEXT_PASSWORD_WARNING,
  warnings,
} from "./authenticator.ts";
export {
  type CompiledPermissions,
  compilePermissions,
  createPermissionChecker,
  DEFAULT_RESPONSE_EXPIRES_MS,
  DEFAULT_RESPONSE_MAX,
  hasGatewayReplyPrefix,
  isReservedReply,
  type PermissionChecker,
  SYS_QUEUE_GROUP,
} from "./permissions.ts";
export {
  AUTHENTICATION_TIMEOUT,
  AUTHORIZATION_VIOLATION,
  publishViolation,
  replyViolation,
  subscribeViolation,
} from "./errors.ts";
export {
  createKeyPair,
  createNonce,
  createServerId,
  type NkeyPair,
  NONCE_LEN,
  verifyNonceSignature,
} from "./nkeys.ts";
export { bcryptHash, bcryptVerifySync, isBcrypt } from "./bcrypt.ts";
export {
  BcryptPool,
  type BcryptPoolOptions,
  closeSharedBcryptPool,
  sharedBcryptPool,
} from "./bcrypt_pool.ts";
