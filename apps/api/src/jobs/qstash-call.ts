import { withTimeout } from "@hotpath/redis/timeout";
import { QstashError } from "@upstash/qstash";
import { ApiError } from "../trpc/errors.ts";

/** How long an admin call to QStash may take (the SDK's own retries included). @default 5000 */
export const QSTASH_ADMIN_TIMEOUT_MS = 5000;

/**
 * Runs one call of the QStash client for an admin surface, with a deadline, and maps what went
 * wrong to the API's errors: QStash's 404 → NOT_FOUND naming `what`; no answer, a 5xx or a 429
 * → QSTASH_UNAVAILABLE (503). Anything else (a 401 for a wrong token, a 400) stays what it is: a
 * misconfiguration, answered as 500.
 */
export async function callQStash<T>(
  what: string,
  call: () => Promise<T>,
  timeoutMs = QSTASH_ADMIN_TIMEOUT_MS,
): Promise<T> {
  try {
    return await withTimeout(call(), timeoutMs, {
      error: (ms) => new ApiError("QSTASH_UNAVAILABLE", `QStash did not answer within ${ms} ms`),
    });
  } catch (error) {
    if (error instanceof ApiError) throw error;
    if (error instanceof QstashError) {
      if (error.status === 404)
        throw new ApiError("NOT_FOUND", `${what} not found`, { cause: error });
      if (error.status !== undefined && error.status < 500 && error.status !== 429) throw error;
    }
    throw new ApiError("QSTASH_UNAVAILABLE", `QStash is unreachable (${what})`, {
      cause: error,
      retryAfter: 1,
    });
  }
}
