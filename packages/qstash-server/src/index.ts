export { startQStashServer, type RunningQStashServer } from "./server.ts";
export { QStashServerError, type QStashServerErrorCode } from "./errors.ts";
export {
  allTenants,
  parseQStashServerOptions,
  qstashServerOptionsSchema,
  type QStashServerOptions,
  type ResolvedQStashServerOptions,
} from "./options.ts";
export { DEV_CREDENTIALS, DEV_TEST_USERS, type TenantCredentials } from "./dev-credentials.ts";
export { defaultRetryDelayMs, compileRetryDelay, type RetryDelayExpression } from "./backoff.ts";
export { bodyHash, signDelivery, SIGNATURE_TTL_SECONDS } from "./signing.ts";
export { parseCliArgs, CLI_USAGE, type CliCommand } from "./cli-options.ts";
export { isLoopbackHost } from "./destination.ts";
