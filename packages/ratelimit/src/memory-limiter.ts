import type { PolicyOutcome, ResolvedPolicy } from "./types.ts";

type WindowState = { kind: "window"; bucket: number; current: number; previous: number };
type BucketState = { kind: "bucket"; refilledAt: number; tokens: number };
/** Sliding window log: the times of the units counted, oldest first (at most `limit`). */
type LogState = { kind: "log"; times: number[] };
type State = WindowState | BucketState | LogState;

interface Evaluation {
  readonly outcome: PolicyOutcome;
  readonly commit: () => void;
}

/**
 * The in-memory insurance limiter: the same algorithms and limits as Redis, per process. It
 * decides while Redis is down so an outage does not become unlimited traffic (each instance
 * then allows up to the limit on its own). Bounded: the oldest entries go first.
 */
export class MemoryLimiter {
  readonly #states = new Map<string, State>();
  readonly #maxEntries: number;

  constructor(options: { maxEntries?: number } = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
  }

  /** Checks every policy; consumes `cost` from all of them only when all allow. */
  limit(
    identifier: string,
    policies: readonly ResolvedPolicy[],
    cost: number,
    now = Date.now(),
  ): PolicyOutcome[] {
    const evaluations = policies.map((policy) => this.evaluate(identifier, policy, cost, now));
    if (evaluations.every((e) => e.outcome.success)) evaluations.forEach((e) => e.commit());
    return evaluations.map((e) => e.outcome);
  }

  /** Forgets an identifier (admin reset). */
  reset(identifier: string): void {
    for (const key of [...this.#states.keys()])
      if (key.endsWith(`|${identifier}`)) this.#states.delete(key);
  }

  /** Number of tracked (policy, identifier) pairs. */
  get size(): number {
    return this.#states.size;
  }

  private store(key: string, state: State): void {
    this.#states.delete(key);
    if (this.#states.size >= this.#maxEntries) {
      const oldest = this.#states.keys().next().value;
      if (oldest !== undefined) this.#states.delete(oldest);
    }
    this.#states.set(key, state);
  }

  private evaluate(
    identifier: string,
    policy: ResolvedPolicy,
    cost: number,
    now: number,
  ): Evaluation {
    const key = `${policy.name}|${identifier}`;
    const windowSeconds = Math.max(1, Math.ceil(policy.windowMs / 1000));
    const base = { policy: policy.name, limit: policy.limit, windowSeconds };
    const existing = this.#states.get(key);

    if (policy.algorithm === "tokenBucket") {
      let state: BucketState =
        existing?.kind === "bucket"
          ? { ...existing }
          : { kind: "bucket", refilledAt: now, tokens: policy.limit };
      if (now >= state.refilledAt + policy.windowMs) {
        const refills = Math.floor((now - state.refilledAt) / policy.windowMs);
        state = {
          kind: "bucket",
          tokens: Math.min(policy.limit, state.tokens + refills * policy.refillRate),
          refilledAt: state.refilledAt + refills * policy.windowMs,
        };
      }
      const reset = state.refilledAt + policy.windowMs;
      if (state.tokens < cost) {
        return {
          outcome: { ...base, success: false, remaining: 0, reset },
          commit: () => undefined,
        };
      }
      const remaining = state.tokens - cost;
      return {
        outcome: { ...base, success: true, remaining, reset },
        commit: () => this.store(key, { ...state, tokens: remaining }),
      };
    }

    if (policy.algorithm === "slidingWindowLog") {
      const since = now - policy.windowMs;
      const times = existing?.kind === "log" ? existing.times.filter((t) => t > since) : [];
      const used = times.length;
      if (used + cost > policy.limit) {
        const leaving = times[Math.max(0, used + cost - policy.limit - 1)];
        return {
          outcome: {
            ...base,
            success: false,
            remaining: Math.max(0, policy.limit - used),
            reset: (leaving ?? now) + policy.windowMs,
          },
          commit: () => undefined,
        };
      }
      const added = [...times, ...new Array<number>(cost).fill(now)];
      return {
        outcome: {
          ...base,
          success: true,
          remaining: policy.limit - used - cost,
          reset: (times[0] ?? now) + policy.windowMs,
        },
        commit: () => this.store(key, { kind: "log", times: added }),
      };
    }

    const bucket = Math.floor(now / policy.windowMs);
    let state: WindowState = { kind: "window", bucket, current: 0, previous: 0 };
    if (existing?.kind === "window") {
      if (existing.bucket === bucket) state = { ...existing };
      else if (existing.bucket === bucket - 1)
        state = { kind: "window", bucket, current: 0, previous: existing.current };
    }
    const reset = (bucket + 1) * policy.windowMs;
    const weightedPrevious =
      policy.algorithm === "slidingWindow"
        ? Math.floor((1 - (now % policy.windowMs) / policy.windowMs) * state.previous)
        : 0;
    const used = weightedPrevious + state.current;
    if (used + cost > policy.limit) {
      return {
        outcome: { ...base, success: false, remaining: Math.max(0, policy.limit - used), reset },
        commit: () => undefined,
      };
    }
    return {
      outcome: { ...base, success: true, remaining: policy.limit - used - cost, reset },
      commit: () => this.store(key, { ...state, current: state.current + cost }),
    };
  }
}
