import { AsyncLocalStorage } from "node:async_hooks";

/** What a tRPC call waits on, timed by {@link CallTimer}. */
export type WaitKind = "redis" | "db";

/**
 * Wall time one call spent waiting on Redis and on the database: for each kind, the union of the
 * intervals during which at least one round trip of that kind was in flight (concurrent round
 * trips count once; a transaction and its statements count once). Redis and database time may
 * overlap when a call waits on both at once.
 */
export class CallTimer {
  /** ms waiting on Redis so far. */
  redisMs = 0;
  /** ms waiting on the database so far. */
  dbMs = 0;
  #open = { redis: 0, db: 0 };
  #since = { redis: 0, db: 0 };
  #ended = false;
  readonly #now: () => number;

  /** @param now Clock in ms (tests). @default performance.now */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** A round trip of `kind` starts (ignored once the call ended). */
  enter(kind: WaitKind): void {
    if (this.#ended) return;
    if (this.#open[kind]++ === 0) this.#since[kind] = this.#now();
  }

  /** A round trip of `kind` settled. */
  leave(kind: WaitKind): void {
    if (this.#ended || this.#open[kind] === 0) return;
    if (--this.#open[kind] === 0) this.#add(kind, this.#now() - this.#since[kind]);
  }

  /**
   * Ends the call: round trips still in flight count up to now, later ones (background work the
   * call started, e.g. a metrics flush scheduled from inside it) are not the call's.
   */
  end(): void {
    if (this.#ended) return;
    const now = this.#now();
    for (const kind of ["redis", "db"] as const)
      if (this.#open[kind] > 0) this.#add(kind, now - this.#since[kind]);
    this.#ended = true;
  }

  #add(kind: WaitKind, ms: number): void {
    if (kind === "redis") this.redisMs += ms;
    else this.dbMs += ms;
  }
}

/**
 * Which call is running, across awaits (AsyncLocalStorage: Node, Deno, Bun, workerd with
 * `nodejs_als`), so the shared Redis and database clients can charge each round trip to it.
 */
export interface CallScope {
  /** Runs `fn` with `timer` as the current call's. */
  run<T>(timer: CallTimer, fn: () => T): T;
  /**
   * Times `roundTrip` as a wait of `kind` of the current call; with no current call it is
   * returned as it is (no extra promise).
   */
  track<T>(kind: WaitKind, roundTrip: () => Promise<T>): Promise<T>;
}

/** Creates a {@link CallScope}. */
export function createCallScope(): CallScope {
  const storage = new AsyncLocalStorage<CallTimer>();
  return {
    run: (timer, fn) => storage.run(timer, fn),
    track<T>(kind: WaitKind, roundTrip: () => Promise<T>): Promise<T> {
      const timer = storage.getStore();
      if (timer === undefined) return roundTrip();
      timer.enter(kind);
      let pending: Promise<T>;
      try {
        pending = roundTrip();
      } catch (error) {
        timer.leave(kind);
        throw error;
      }
      return pending.then(
        (value) => {
          timer.leave(kind);
          return value;
        },
        (error: unknown) => {
          timer.leave(kind);
          throw error;
        },
      );
    },
  };
}
