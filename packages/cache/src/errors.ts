/** Stable codes of {@link CacheError} and its subclasses. */
export type CacheErrorCode =
  | "CACHE_INVALID_OPTION"
  | "CACHE_VALUE_TOO_LARGE"
  | "CACHE_SERIALIZATION"
  | "CACHE_REDIS_UNAVAILABLE"
  | "CACHE_REDIS_TIMEOUT"
  | "CACHE_REDIS_ERROR"
  | "LOCK_NOT_ACQUIRED"
  | "LOCK_LOST"
  | "LOCK_UNAVAILABLE"
  | "IDEMPOTENCY_KEY_INVALID"
  | "IDEMPOTENCY_IN_FLIGHT"
  | "IDEMPOTENCY_MISMATCH"
  | "IDEMPOTENCY_UNAVAILABLE"
  | "IDEMPOTENCY_LEASE_LOST"
  | "IDEMPOTENCY_STORED_ERROR";

/** The one base error class of `@hotpath/cache`: every error it throws is one (check `code`). */
export class CacheError extends Error {
  override name = "CacheError";
  /** Stable machine-readable code. */
  readonly code: CacheErrorCode;
  /** HTTP status an API should answer with (400, 409, 422, 503…), when one applies. */
  readonly status: number | undefined;
  /** Seconds after which a retry may succeed (409 in flight, 503 unavailable). */
  readonly retryAfter: number | undefined;

  constructor(
    code: CacheErrorCode,
    message: string,
    options?: { cause?: unknown; status?: number; retryAfter?: number },
  ) {
    super(message, { cause: options?.cause });
    this.code = code;
    this.status = options?.status;
    this.retryAfter = options?.retryAfter;
  }
}

/**
 * Redis did not answer (down, refused, or slower than `timeoutMs`): HTTP 503. With code
 * CACHE_REDIS_ERROR it is a command Redis refused instead (see {@link RedisCommandError}): 500.
 */
export class RedisUnavailableError extends CacheError {
  override name = "RedisUnavailableError";
  constructor(
    code: "CACHE_REDIS_UNAVAILABLE" | "CACHE_REDIS_TIMEOUT" | "CACHE_REDIS_ERROR",
    message: string,
    options?: { cause?: unknown },
  ) {
    super(
      code,
      message,
      code === "CACHE_REDIS_ERROR"
        ? { cause: options?.cause, status: 500 }
        : { cause: options?.cause, status: 503, retryAfter: 1 },
    );
  }
}

/**
 * Redis answered with an error for a command (WRONGTYPE, a Lua error…): a bug, not an outage.
 * HTTP 500, no Retry-After; it never opens a circuit breaker nor makes a cache fall back.
 */
export class RedisCommandError extends CacheError {
  override name = "RedisCommandError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("CACHE_REDIS_ERROR", message, { cause: options?.cause, status: 500 });
  }
}

/** True when `error` is Redis refusing a command (as opposed to Redis being unreachable or slow). */
export function isRedisCommandError(error: unknown): boolean {
  return error instanceof CacheError && error.code === "CACHE_REDIS_ERROR";
}

/** A command error as {@link RedisCommandError} (other errors are returned as they are). */
export function asCommandError(error: unknown): unknown {
  if (error instanceof RedisCommandError || !isRedisCommandError(error)) return error;
  return new RedisCommandError((error as Error).message, { cause: error });
}

/** A lock could not be acquired in time, was lost while held, or Redis was unreachable (fail closed). */
export class LockError extends CacheError {
  override name = "LockError";
}

/** Idempotency-Key missing or malformed (HTTP 400). */
export class IdempotencyKeyError extends CacheError {
  override name = "IdempotencyKeyError";
  constructor(message: string) {
    super("IDEMPOTENCY_KEY_INVALID", message, { status: 400 });
  }
}

/** The first request with this key is still running (HTTP 409 + Retry-After). */
export class IdempotencyInFlightError extends CacheError {
  override name = "IdempotencyInFlightError";
  constructor(retryAfter: number) {
    super(
      "IDEMPOTENCY_IN_FLIGHT",
      "A request with this Idempotency-Key is still being processed; retry later.",
      {
        status: 409,
        retryAfter,
      },
    );
  }
}

/** The key was used before with a different payload (HTTP 422). */
export class IdempotencyMismatchError extends CacheError {
  override name = "IdempotencyMismatchError";
  constructor() {
    super(
      "IDEMPOTENCY_MISMATCH",
      "This Idempotency-Key was already used with a different payload; use a new key for a different request.",
      { status: 422 },
    );
  }
}

/** Redis unreachable: idempotency fails closed (HTTP 503 + Retry-After), the handler did not run. */
export class IdempotencyUnavailableError extends CacheError {
  override name = "IdempotencyUnavailableError";
  constructor(cause: unknown, retryAfter = 1) {
    super(
      "IDEMPOTENCY_UNAVAILABLE",
      "The idempotency store is unreachable; the request was not run. Retry later.",
      {
        cause,
        status: 503,
        retryAfter,
      },
    );
  }
}

/** True when `error` is a {@link CacheError} (optionally with the given code). */
export function isCacheError(error: unknown, code?: CacheErrorCode): error is CacheError {
  return error instanceof CacheError && (code === undefined || error.code === code);
}
