/** Stable codes of {@link RedisClientError}. */
export type RedisErrorCode =
  | "REDIS_CONFIG"
  | "REDIS_BAD_COMMAND"
  | "REDIS_COMMAND_REJECTED"
  | "REDIS_UNAVAILABLE"
  | "REDIS_TIMEOUT"
  | "REDIS_TRANSACTION_ABORTED";

/** The one error class of `@hotpath/redis`. */
export class RedisClientError extends Error {
  override name = "RedisClientError";
  /** Stable machine-readable code. */
  readonly code: RedisErrorCode;

  constructor(code: RedisErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, { cause: options?.cause });
    this.code = code;
  }
}
