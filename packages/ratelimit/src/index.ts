export {
  RateLimitError,
  RateLimitExceededError,
  RateLimitTimeoutError,
  RateLimitUnavailableError,
  type RateLimitErrorCode,
} from "./errors.ts";
export type {
  PolicyOutcome,
  RateLimitEvent,
  RateLimitLogger,
  RateLimitReason,
  RateLimitResult,
  ResolvedPolicy,
  WaitUntil,
} from "./types.ts";
export {
  createPolicyRegistry,
  resolvePolicy,
  type PolicyInput,
  type PolicyRegistry,
  type PolicyRegistryOptions,
  type PolicySelector,
} from "./policies.ts";
export {
  createRateLimiter,
  type CreateRateLimiterOptions,
  type FailureOptions,
  type LimitOptions,
  type RateLimiter,
  type RateLimiterStats,
  type RemainingQuota,
} from "./limiter.ts";
export {
  getRateLimitIdentifier,
  clientIpFrom,
  hashIdentifier,
  type HeaderSource,
  type IdentifierInput,
  type RateLimitIdentity,
} from "./identifiers.ts";
export { parseClientAddress, type ClientAddress } from "./ip.ts";
export {
  getRateLimitHeaders,
  rateLimitExceededBody,
  rateLimitProblem,
  PROBLEM_TYPES,
  type HeaderOptions,
  type RateLimitExceededBody,
  type RateLimitProblem,
} from "./headers.ts";
export {
  enforceRateLimit,
  isRateLimitError,
  rateLimitResponse,
  rateLimitUnavailableResponse,
  withRateLimit,
  type EnforceInput,
  type ResponseOptions,
  type WithRateLimitOptions,
} from "./adapters.ts";
export type { DenyListEntry, RateLimitOverride } from "./controls.ts";
export {
  RATE_LIMIT_COUNTERS,
  getUsage,
  getUsageOverTime,
  topIdentifiers,
  RATE_LIMIT_METRICS_GROUP,
  type MetricsOptions,
  type PolicyUsage,
  type RateLimitCounter,
  type UsageQuery,
} from "./metrics.ts";
export { MemoryLimiter } from "./memory-limiter.ts";
export { policyKeys, policyPrefix, keyIdentifier, denyListKey, overridesKey } from "./keys.ts";
