import { RedisClientError } from "./errors.ts";

/** Options of {@link CircuitBreaker}. */
export interface BreakerOptions {
  /** Consecutive connection-level failures that open the breaker. @default 1 */
  failureThreshold?: number;
  /** While open, how often one probe is sent to see whether Redis is back, in ms. @default 250 */
  probeIntervalMs?: number;
}

/** Open or closed; while open, calls fail at once with `REDIS_UNAVAILABLE`. */
export type BreakerState = "closed" | "open";

/**
 * True for a failure of the connection to Redis (refused, reset, closed, timed out), as opposed
 * to an error of the command itself (WRONGTYPE, a Lua error), which says nothing about Redis's health.
 */
export function isRedisConnectionFailure(error: unknown): error is RedisClientError {
  return (
    error instanceof RedisClientError &&
    (error.code === "REDIS_UNAVAILABLE" || error.code === "REDIS_TIMEOUT")
  );
}

/**
 * A circuit breaker for one client: after `failureThreshold` connection-level failures in a row,
 * calls fail at once with {@link RedisClientError} `REDIS_UNAVAILABLE` (nothing is sent) instead
 * of each paying the timeout; meanwhile one probe at a time runs every `probeIntervalMs`, and the
 * first probe that succeeds closes the breaker again. Command errors never count.
 */
export class CircuitBreaker {
  readonly #probe: () => Promise<unknown>;
  readonly #threshold: number;
  readonly #intervalMs: number;
  #failures = 0;
  #lastFailure = "";
  #timer: ReturnType<typeof setInterval> | undefined;
  #probing = false;
  #stopped = false;
  /** How many times the breaker has opened (the epoch a call is sent in). */
  #openedBefore = 0;

  /** `probe` is a cheap call that bypasses the breaker (e.g. PING on the underlying transport). */
  constructor(probe: () => Promise<unknown>, options: BreakerOptions = {}) {
    this.#probe = probe;
    this.#threshold = Math.max(1, options.failureThreshold ?? 1);
    this.#intervalMs = Math.max(1, options.probeIntervalMs ?? 250);
  }

  /** `"open"` while calls are refused. */
  get state(): BreakerState {
    return this.#timer === undefined ? "closed" : "open";
  }

  /**
   * Runs `call` unless the breaker is open; records its outcome.
   * @throws RedisClientError REDIS_UNAVAILABLE at once while open.
   */
  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.#timer !== undefined) return Promise.reject(this.refusal());
    const pending = call();
    // The outcome is recorded on a side branch: the caller gets the call's own promise (no extra
    // promise step on the hot path), and the branch never rejects.
    // A call's failure counts only if the breaker has not opened since the call was sent: a call
    // sent before an outage was seen (its timeout still running when a probe closed the breaker
    // again) says nothing about Redis now and must not open it again.
    const epoch = this.#openedBefore;
    pending.then(this.#onSuccess, (error: unknown) => {
      if (epoch === this.#openedBefore) this.record(error);
    });
    return pending;
  }

  readonly #onSuccess = (): void => {
    this.#failures = 0;
  };

  /** Stops probing for good (the client is closed); later calls are not refused by the breaker. */
  stop(): void {
    this.#stopped = true;
    this.close();
  }

  private record(error: unknown): void {
    if (!isRedisConnectionFailure(error)) {
      this.#failures = 0;
      return;
    }
    this.#failures += 1;
    this.#lastFailure = error.message;
    if (this.#failures >= this.#threshold && this.#timer === undefined && !this.#stopped) {
      this.#openedBefore += 1;
      this.#timer = setInterval(() => this.probeOnce(), this.#intervalMs);
      this.#timer.unref?.();
    }
  }

  private probeOnce(): void {
    if (this.#probing) return;
    this.#probing = true;
    this.#probe().then(
      () => {
        this.#probing = false;
        this.close();
      },
      (error: unknown) => {
        this.#probing = false;
        // A command error means Redis answered: it is reachable again.
        if (!isRedisConnectionFailure(error)) this.close();
      },
    );
  }

  private close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#failures = 0;
  }

  private refusal(): RedisClientError {
    return new RedisClientError(
      "REDIS_UNAVAILABLE",
      `Redis is unavailable (not sent: the circuit is open since "${this.#lastFailure}"; a probe runs every ${this.#intervalMs} ms)`,
    );
  }
}
