import { RedisClientError } from "./errors.ts";

/** One pending call's deadline, watched by a {@link DeadlineSweeper}. */
interface Deadline {
  readonly at: number;
  fire(): void;
}

/** The deadline of one {@link withTimeout} call: no closure per call on the hot path. */
class CallDeadline implements Deadline {
  readonly at: number;
  readonly #ms: number;
  readonly #reject: (error: Error) => void;
  readonly #makeError: (timeoutMs: number) => Error;

  constructor(
    at: number,
    ms: number,
    reject: (error: Error) => void,
    makeError: (timeoutMs: number) => Error,
  ) {
    this.at = at;
    this.#ms = ms;
    this.#reject = reject;
    this.#makeError = makeError;
  }

  fire(): void {
    this.#reject(this.#makeError(this.#ms));
  }
}

/** Options of {@link DeadlineSweeper}. */
export interface DeadlineSweeperOptions {
  /** Clock in ms. @default Date.now */
  now?: () => number;
  /** Shortest and longest sweep interval in ms (a deadline of `ms` is checked every ms/4 within these). @default [5, 250] */
  intervalRange?: readonly [number, number];
}

/**
 * One coarse timer for every pending deadline instead of a timer per call (the hot path stays
 * cheap): a deadline of `ms` fires between `ms` and about `ms * 1.25` after it was set. The timer
 * runs only while something is pending and never keeps the process alive.
 */
export class DeadlineSweeper {
  readonly #deadlines = new Set<Deadline>();
  readonly #now: () => number;
  readonly #minEvery: number;
  readonly #maxEvery: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #every = Number.POSITIVE_INFINITY;
  #firing = false;

  constructor(options: DeadlineSweeperOptions = {}) {
    this.#now = options.now ?? Date.now;
    [this.#minEvery, this.#maxEvery] = options.intervalRange ?? [5, 250];
  }

  /** Deadlines still pending. */
  get pending(): number {
    return this.#deadlines.size;
  }

  /** True while the sweep timer runs (only while something is pending). */
  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** Calls `fire` once `ms` have passed, unless the returned cancel function is called first. */
  watch(ms: number, fire: () => void): () => void {
    const deadline: Deadline = { at: this.#now() + ms, fire };
    this.#add(deadline, ms);
    return () => {
      this.#deadlines.delete(deadline);
    };
  }

  /** Watches one {@link withTimeout} call (the allocation-light path). */
  watchCall(
    ms: number,
    reject: (error: Error) => void,
    makeError: (timeoutMs: number) => Error,
  ): CallDeadline {
    const deadline = new CallDeadline(this.#now() + ms, ms, reject, makeError);
    this.#add(deadline, ms);
    return deadline;
  }

  /** Stops watching a deadline from {@link watchCall}. */
  cancel(deadline: CallDeadline): void {
    this.#deadlines.delete(deadline);
  }

  #add(deadline: Deadline, ms: number): void {
    this.#deadlines.add(deadline);
    if (this.#timer !== undefined && ms >= this.#every * 4) return;
    const every = Math.max(this.#minEvery, Math.min(this.#maxEvery, Math.floor(ms / 4)));
    if (this.#timer === undefined || every < this.#every) {
      if (this.#timer !== undefined) clearInterval(this.#timer);
      this.#every = every;
      this.#timer = setInterval(() => this.sweep(), every);
      this.#timer.unref?.();
    }
  }

  /**
   * Fires every deadline that is due now, one event-loop turn later (the timer calls it; tests
   * with an injected clock may too). The turn lets the I/O already received be read first: when
   * the process was busy (event-loop lag), a reply can be sitting in the socket when the timer
   * runs, and that call has not timed out — Redis answered, the process was late to look.
   */
  sweep(): void {
    const now = this.#now();
    let due = false;
    for (const deadline of this.#deadlines) {
      if (deadline.at <= now) {
        due = true;
        break;
      }
    }
    if (due && !this.#firing) {
      this.#firing = true;
      afterIo(() => this.#fireDue(now));
    }
  }

  /** Fires the deadlines due at `now` that are still pending (their calls did not settle). */
  #fireDue(now: number): void {
    this.#firing = false;
    for (const deadline of this.#deadlines) {
      if (deadline.at <= now) {
        this.#deadlines.delete(deadline);
        deadline.fire();
      }
    }
    if (this.#deadlines.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#every = Number.POSITIVE_INFINITY;
    }
  }
}

/** Runs `fn` after the I/O events already received (Node's check phase; elsewhere a 0 ms timer). */
const afterIo: (fn: () => void) => void =
  typeof setImmediate === "function"
    ? (fn) => void setImmediate(fn)
    : (fn) => void setTimeout(fn, 0);

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions {
  /** The error to reject with once the time is up. @default RedisClientError REDIS_TIMEOUT */
  error?: (timeoutMs: number) => Error;
  /** The sweeper that watches the deadline. @default one shared by the process */
  sweeper?: DeadlineSweeper;
}

const sharedSweeper = new DeadlineSweeper();
const NO_OPTIONS: WithTimeoutOptions = {};
const defaultTimeoutError = (timeoutMs: number): Error =>
  new RedisClientError("REDIS_TIMEOUT", `Redis did not answer within ${timeoutMs} ms`);
const asError = (error: unknown): Error =>
  error instanceof Error ? error : new Error(String(error));

/**
 * Settles as `promise` does, or rejects once `ms` have passed (checked by a shared
 * {@link DeadlineSweeper}, no timer per call). The late outcome of `promise` is still observed,
 * so it never becomes an unhandled rejection. `ms <= 0` returns `promise` itself.
 */
export function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  options: WithTimeoutOptions = NO_OPTIONS,
): Promise<T> {
  if (!(ms > 0)) return promise;
  const sweeper = options.sweeper ?? sharedSweeper;
  const makeError = options.error ?? defaultTimeoutError;
  return new Promise<T>((resolve, reject) => {
    const deadline = sweeper.watchCall(ms, reject, makeError);
    promise.then(
      (value) => {
        sweeper.cancel(deadline);
        resolve(value);
      },
      (error: unknown) => {
        sweeper.cancel(deadline);
        reject(asError(error));
      },
    );
  });
}
