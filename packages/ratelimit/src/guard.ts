import { withTimeout as withDeadline, type WithTimeoutOptions } from "@hotpath/redis/timeout";
import { RateLimitTimeoutError } from "./errors.ts";

/**
 * Settles with `operation` or rejects with {@link RateLimitTimeoutError} once `timeoutMs` has passed
 * (checked by the shared deadline sweeper of `@hotpath/redis`, so a check costs no timer of its own); the late
 * outcome of the operation is swallowed, so a slow Redis never causes an unhandled rejection.
 */
export function withTimeout<T>(
  operation: Promise<T>,
  timeoutMs: number,
  label: string,
): Promise<T> {
  return withDeadline(operation, timeoutMs, timeoutOptions(label));
}

/** One options object per label (a handful of fixed labels): nothing allocated per check. */
const optionsByLabel = new Map<string, WithTimeoutOptions>();
function timeoutOptions(label: string): WithTimeoutOptions {
  let options = optionsByLabel.get(label);
  if (options === undefined) {
    options = { error: (ms) => new RateLimitTimeoutError(label, ms) };
    optionsByLabel.set(label, options);
  }
  return options;
}

/**
 * True when `error` says the deadline passed, not that the command failed: then Redis may have
 * run it (ours, or a client's own timeout such as `@hotpath/redis`'s `REDIS_TIMEOUT`).
 */
export function isTimeout(error: unknown): boolean {
  if (error instanceof RateLimitTimeoutError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && code.endsWith("_TIMEOUT");
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
