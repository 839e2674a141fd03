import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";

/** Stable codes of {@link ApiError}. */
export type ApiErrorCode =
  | "NOT_FOUND"
  | "STREAM_NOT_LIVE"
  | "INVALID_CREDENTIALS"
  | "FORBIDDEN"
  | "UNAUTHORIZED"
  | "SESSIONS_UNAVAILABLE"
  | "CONFLICT";

const API_CODE_TO_TRPC: Record<ApiErrorCode, TRPC_ERROR_CODE_KEY> = {
  NOT_FOUND: "NOT_FOUND",
  STREAM_NOT_LIVE: "PRECONDITION_FAILED",
  INVALID_CREDENTIALS: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  UNAUTHORIZED: "UNAUTHORIZED",
  SESSIONS_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  CONFLICT: "CONFLICT",
};

/** The one error class of the API's own domain logic (package errors keep their classes). */
export class ApiError extends Error {
  override name = "ApiError";
  /** Stable machine-readable code. */
  readonly code: ApiErrorCode;
  /** Seconds after which a retry may succeed, when one applies. */
  readonly retryAfter: number | undefined;

  constructor(
    code: ApiErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfter?: number },
  ) {
    super(message, { cause: options?.cause });
    this.code = code;
    this.retryAfter = options?.retryAfter;
  }
}

/** Rate-limit details carried to the client in `error.data`. */
export interface RateLimitErrorData {
  retryAfter: number;
  limit: number;
  remaining: number;
  reset: number;
  policy: string;
}

interface CodedError {
  name: string;
  code: string;
  message: string;
  status?: unknown;
  retryAfter?: unknown;
}

function isCoded(error: unknown): error is CodedError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "string";
}

const STATUS_TO_TRPC: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: "BAD_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  412: "PRECONDITION_FAILED",
  422: "UNPROCESSABLE_CONTENT",
  429: "TOO_MANY_REQUESTS",
  503: "SERVICE_UNAVAILABLE",
};

/**
 * The one map from errors to tRPC codes (and so HTTP statuses):
 * - ApiError: by its code (NOT_FOUND 404, STREAM_NOT_LIVE 412, INVALID_CREDENTIALS 401…);
 * - @hotpath/ratelimit: RATELIMIT_EXCEEDED 429, RATELIMIT_UNAVAILABLE 503, invalid input 400;
 * - @hotpath/cache: by the HTTP status the error carries (idempotency 400/409/422/503), Redis
 *   and lock failures 503;
 * - @hotpath/redis: REDIS_UNAVAILABLE / REDIS_TIMEOUT 503;
 * - @hotpath/config: 500; anything else: 500 with the message hidden in production.
 * Returns undefined for errors it does not know (they stay INTERNAL_SERVER_ERROR).
 */
export function mapErrorCode(error: unknown): TRPC_ERROR_CODE_KEY | undefined {
  if (error instanceof TRPCError) return error.code;
  if (error instanceof ApiError) return API_CODE_TO_TRPC[error.code];
  if (!isCoded(error)) return undefined;
  if (error.code === "RATELIMIT_EXCEEDED") return "TOO_MANY_REQUESTS";
  if (error.code === "RATELIMIT_UNAVAILABLE") return "SERVICE_UNAVAILABLE";
  if (error.code === "RATELIMIT_INVALID_INPUT") return "BAD_REQUEST";
  if (typeof error.status === "number" && STATUS_TO_TRPC[error.status])
    return STATUS_TO_TRPC[error.status];
  if (
    /^(CACHE_REDIS_|LOCK_|REDIS_UNAVAILABLE|REDIS_TIMEOUT|IDEMPOTENCY_UNAVAILABLE)/.test(error.code)
  ) {
    return "SERVICE_UNAVAILABLE";
  }
  if (error.code.startsWith("IDEMPOTENCY_KEY")) return "BAD_REQUEST";
  return undefined;
}

/** Seconds to put in `Retry-After` for an error, when it says. */
export function retryAfterOf(error: unknown): number | undefined {
  const value = error instanceof Error ? (error as { retryAfter?: unknown }).retryAfter : undefined;
  return typeof value === "number" && Number.isFinite(value) && value >= 0
    ? Math.max(1, Math.ceil(value))
    : undefined;
}

/** Rate-limit numbers of an error (RateLimitExceededError), when it has them. */
export function rateLimitDataOf(error: unknown): RateLimitErrorData | undefined {
  if (!isCoded(error) || error.code !== "RATELIMIT_EXCEEDED") return undefined;
  const e = error as unknown as Partial<RateLimitErrorData>;
  if (
    typeof e.retryAfter !== "number" ||
    typeof e.limit !== "number" ||
    typeof e.remaining !== "number"
  )
    return undefined;
  return {
    retryAfter: e.retryAfter,
    limit: e.limit,
    remaining: e.remaining,
    reset: typeof e.reset === "number" ? e.reset : 0,
    policy: typeof e.policy === "string" ? e.policy : "",
  };
}

/**
 * Converts anything thrown in a procedure into a TRPCError with the mapped code; the original
 * stays the `cause` (so the formatter can read retryAfter / limit / remaining).
 */
export function toTRPCError(error: unknown): TRPCError {
  const root =
    error instanceof TRPCError && error.code === "INTERNAL_SERVER_ERROR" && error.cause
      ? error.cause
      : error;
  if (root instanceof TRPCError) return root;
  const code = mapErrorCode(root);
  if (!code) {
    return error instanceof TRPCError
      ? error
      : new TRPCError({
          code: "INTERNAL_SERVER_ERROR",
          message: "Internal server error",
          cause: root,
        });
  }
  const message = root instanceof Error ? root.message : String(root);
  return new TRPCError({ code, message, cause: root });
}
