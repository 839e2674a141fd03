import { RateLimitTimeoutError } from "./errors.ts";

interface Deadline {
  readonly at: number;
  readonly timeoutMs: number;
  readonly label: string;
  readonly reject: (error: Error) => void;
}

const SWEEP_MS = 25;
const waiting = new Set<Deadline>();
let sweeper: ReturnType<typeof setInterval> | undefined;

function sweep(): void {
  const now = Date.now();
  for (const deadline of waiting) {
    if (deadline.at <= now) {
      waiting.delete(deadline);
      deadline.reject(new RateLimitTimeoutError(deadline.label, deadline.timeoutMs));
    }
  }
  if (waiting.size === 0 && sweeper !== undefined) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/**
 * Settles with `operation` or rejects with {@link RateLimitTimeoutError} once `timeoutMs` has passed
 * (checked every 25 ms by one shared timer, so a check costs no timer of its own); the late
 * outcome of the operation is swallowed, so a slow Redis never causes an unhandled rejection.
 */
export function withTimeout<T>(
  operation: Promise<T>,
  timeoutMs: number,
  label: string,
): Promise<T> {
  if (timeoutMs <= 0) return operation;
  return new Promise<T>((resolve, reject) => {
    const deadline: Deadline = { at: Date.now() + timeoutMs, timeoutMs, label, reject };
    waiting.add(deadline);
    if (sweeper === undefined) {
      sweeper = setInterval(sweep, SWEEP_MS);
      // Node: the sweeper alone must not keep the process alive.
      (sweeper as { unref?: () => void }).unref?.();
    }
    operation.then(
      (value) => {
        waiting.delete(deadline);
        resolve(value);
      },
      (error: unknown) => {
        waiting.delete(deadline);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
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
