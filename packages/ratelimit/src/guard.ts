import { RateLimitError } from "./errors.ts";

/**
 * Settles with `operation` or rejects with RATELIMIT_STORE_ERROR after `timeoutMs`; the late
 * outcome of the operation is swallowed, so a slow Redis never causes an unhandled rejection.
 */
export async function withTimeout<T>(operation: Promise<T>, timeoutMs: number, label: string): Promise<T> {
  operation.catch(() => undefined);
  if (timeoutMs <= 0) return operation;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new RateLimitError("RATELIMIT_STORE_ERROR", `Redis did not answer ${label} within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([operation, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
