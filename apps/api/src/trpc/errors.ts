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
  | "CONFLICT"
  | "QSTASH_NOT_CONFIGURED"
  | "QSTASH_UNAVAILABLE"
  | "AUDIT_UNAVAILABLE";

const API_CODE_TO_TRPC: Record<ApiErrorCode, TRPC_ERROR_CODE_KEY> = {
  NOT_FOUND: "NOT_FOUND",
  STREAM_NOT_LIVE: "PRECONDITION_FAILED",
  INVALID_CREDENTIALS: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  UNAUTHORIZED: "UNAUTHORIZED",
  SESSIONS_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  CONFLICT: "CONFLICT",
  QSTASH_NOT_CONFIGURED: "PRECONDITION_FAILED",
  QSTASH_UNAVAILABLE: "SERVICE_UNAVAILABLE",
  AUDIT_UNAVAILABLE: "SERVICE_UNAVAILABLE",
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
};

/**
 * Codes of errors that mean "a dependency did not answer" (down, refused, reset, slower than its
 * timeout, lock not obtainable) — the only errors that are outages. Anything else a package
 * throws (WRONGTYPE, a Lua error, a bad command) is a bug: 500, never 503 + Retry-After.
 */
const UNAVAILABLE_CODE =
  /(_UNAVAILABLE|_TIMEOUT|_CONNECTION(_[A-Z]+)?|^LOCK_NOT_ACQUIRED|^LOCK_LOST|^ECONNREFUSED|^ECONNRESET|^ETIMEDOUT|^EPIPE|^ENOTFOUND|^EAI_AGAIN|^EHOSTUNREACH|^ENETUNREACH|^UND_ERR_(CONNECT_TIMEOUT|SOCKET|CLOSED))$/;

/** Stable `code` of a package error (`CACHE_REDIS_ERROR`, `REDIS_TIMEOUT`…), when it has one. */
export function errorCodeOf(error: unknown): string | undefined {
  return isCoded(error) ? error.code : undefined;
}

/**
 * True when an error, or one of its causes, is a connection-level failure of a dependency (a
 * code ending in `_UNAVAILABLE`, `_TIMEOUT`, `_CONNECTION…`, a socket error such as
 * `ECONNREFUSED`, or a lock that could not be held). Command errors are not.
 */
export function isUnavailableError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    if (isCoded(current) && UNAVAILABLE_CODE.test(current.code)) return true;
    current = (current as Error).cause;
  }
  return false;
}

/**
 * The one map from errors to tRPC codes (and so HTTP statuses):
 * - ApiError: by its code (NOT_FOUND 404, STREAM_NOT_LIVE 412, INVALID_CREDENTIALS 401…);
 * - @hotpath/ratelimit: RATELIMIT_EXCEEDED 429, RATELIMIT_UNAVAILABLE 503, invalid input 400;
 * - client errors by the HTTP status they carry (idempotency 400/409/422…);
 * - outages (see {@link isUnavailableError}: REDIS_UNAVAILABLE, REDIS_TIMEOUT,
 *   CACHE_REDIS_UNAVAILABLE, LOCK_UNAVAILABLE, IDEMPOTENCY_UNAVAILABLE…): 503;
 * - everything else, command errors included (CACHE_REDIS_ERROR, REDIS_COMMAND_REJECTED, a Lua
 *   error), even when it carries status 503: undefined, i.e. 500 with its code in `data.errorCode`.
 */
export function mapErrorCode(error: unknown): TRPC_ERROR_CODE_KEY | undefined {
  if (error instanceof TRPCError) return error.code;
  if (error instanceof ApiError) return API_CODE_TO_TRPC[error.code];
  if (isUnavailableError(error)) return "SERVICE_UNAVAILABLE";
  if (!isCoded(error)) return undefined;
  if (error.code === "RATELIMIT_EXCEEDED") return "TOO_MANY_REQUESTS";
  if (error.code === "RATELIMIT_INVALID_INPUT") return "BAD_REQUEST";
  if (error.code.startsWith("IDEMPOTENCY_KEY")) return "BAD_REQUEST";
  if (typeof error.status === "number" && error.status < 500 && STATUS_TO_TRPC[error.status])
    return STATUS_TO_TRPC[error.status];
  return undefined;
}

/** tRPC codes whose answers may say when to retry (429, 503, 409 while in flight). */
const RETRYABLE: ReadonlySet<TRPC_ERROR_CODE_KEY> = new Set([
  "TOO_MANY_REQUESTS",
  "SERVICE_UNAVAILABLE",
  "CONFLICT",
]);

/** `Retry-After` seconds of a mapped error: only for retryable codes (never on a 500). */
export function retryAfterFor(error: TRPCError): number | undefined {
  return RETRYABLE.has(error.code) ? retryAfterOf(error.cause) : undefined;
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
