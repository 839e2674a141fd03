import { Ratelimit, type Algorithm, type Duration } from "@upstash/ratelimit";
import type { Redis } from "@upstash/redis";
import { RateLimitError } from "./errors.ts";
import { policyPrefix } from "./keys.ts";
import type { ResolvedPolicy } from "./types.ts";

type UpstreamAlgorithm = ReturnType<ReturnType<typeof Ratelimit.fixedWindow>>;
type UpstreamContext = Parameters<UpstreamAlgorithm["limit"]>[0];
type UpstreamResponse = Awaited<ReturnType<UpstreamAlgorithm["limit"]>>;
type EphemeralCache = NonNullable<Parameters<UpstreamAlgorithm["limit"]>[3]>["cache"];

/** One policy bound to its upstream algorithm and key prefix. */
export interface UpstreamPolicy {
  /** Runs the upstream algorithm (one EVALSHA, or none for a warm cached fixed window). */
  limit(keyId: string, cost: number): Promise<UpstreamResponse>;
  /** Upstream's read-only remaining-quota script. */
  getRemaining(keyId: string): Promise<{ remaining: number; reset: number; limit: number }>;
}

/**
 * The in-memory map `cachedFixedWindow` keeps its local counts in (upstream's cache contract).
 */
class LocalCounts implements NonNullable<EphemeralCache> {
  readonly #values = new Map<string, number>();

  isBlocked(key: string): { blocked: boolean; reset: number } {
    const reset = this.#values.get(key);
    return reset !== undefined && reset >= Date.now()
      ? { blocked: true, reset }
      : { blocked: false, reset: 0 };
  }
  blockUntil(key: string, reset: number): void {
    this.store(key, reset);
  }
  set(key: string, value: number): void {
    this.store(key, value);
  }
  private store(key: string, value: number): void {
    // Upstream never drops old windows: losing local counts only costs one Redis call.
    if (this.#values.size >= 10_000 && !this.#values.has(key)) this.#values.clear();
    this.#values.set(key, value);
  }
  get(key: string): number | null {
    return this.#values.get(key) ?? null;
  }
  incr(key: string, incrementAmount = 1): number {
    const value = (this.#values.get(key) ?? 0) + incrementAmount;
    this.store(key, value);
    return value;
  }
  pop(key: string): void {
    this.#values.delete(key);
  }
  empty(): void {
    this.#values.clear();
  }
  size(): number {
    return this.#values.size;
  }
  /** Drops the entries of one identifier. */
  forget(keyId: string): void {
    for (const key of [...this.#values.keys()])
      if (key.includes(`:${keyId}:`) || key.endsWith(`:${keyId}`)) this.#values.delete(key);
  }
}

function algorithmOf(policy: ResolvedPolicy): Algorithm<UpstreamContext> {
  const window = `${policy.windowMs} ms` as Duration;
  switch (policy.algorithm) {
    case "fixedWindow":
      return Ratelimit.fixedWindow(policy.limit, window);
    case "slidingWindow":
      return Ratelimit.slidingWindow(policy.limit, window);
    case "tokenBucket":
      return Ratelimit.tokenBucket(policy.refillRate, window, policy.limit);
    case "cachedFixedWindow":
      return Ratelimit.cachedFixedWindow(policy.limit, window);
    case "slidingWindowLog":
      // This package's own algorithm (the multi-policy script); upstream has no equivalent.
      throw new RateLimitError(
        "RATELIMIT_INVALID_POLICY",
        `Policy "${policy.name}": slidingWindowLog runs in this package's script, not upstream's`,
      );
  }
}

/**
 * The algorithms of `@upstash/ratelimit` 2.2.0 (`Ratelimit.fixedWindow()` …, the published
 * scripts, key layout and `safeEval`; its cached-fixed-window script is patched to set the expiry
 * it means to, see `patches/` at the repository root), one per (policy, effective limit): an overridden
 * identifier gets its own with the same key prefix, so it counts on the same keys with a higher
 * limit. The `Ratelimit` class wrapper (its timeout race, deny list, analytics, identifier cache)
 * is not used: this package does those itself, and the wrapper costs CPU on every call.
 */
export class UpstashLimiters {
  readonly #redis: Redis;
  readonly #app: string;
  readonly #byKey = new Map<string, UpstreamPolicy>();
  readonly #byPolicy = new WeakMap<ResolvedPolicy, UpstreamPolicy>();
  readonly #counts: LocalCounts[] = [];

  constructor(redis: Redis, app: string) {
    this.#redis = redis;
    this.#app = app;
  }

  /** The upstream algorithm for a policy with its effective limit. */
  get(policy: ResolvedPolicy): UpstreamPolicy {
    const known = this.#byPolicy.get(policy);
    if (known) return known;
    const id = `${policy.name}|${policy.algorithm}|${policy.limit}|${policy.windowMs}|${policy.refillRate}`;
    let entry = this.#byKey.get(id);
    if (!entry) {
      if (this.#byKey.size > 1000) this.#byKey.clear();
      const algorithm = algorithmOf(policy)();
      const prefix = policyPrefix(this.#app, policy);
      const ctx: UpstreamContext = { redis: this.#redis, prefix, dynamicLimits: false };
      if (policy.algorithm === "cachedFixedWindow") {
        const counts = new LocalCounts();
        this.#counts.push(counts);
        ctx.cache = counts;
      }
      entry = {
        limit: (keyId, cost) => algorithm.limit(ctx, `${prefix}:${keyId}`, cost),
        getRemaining: (keyId) => algorithm.getRemaining(ctx, `${prefix}:${keyId}`),
      };
      this.#byKey.set(id, entry);
    }
    this.#byPolicy.set(policy, entry);
    return entry;
  }

  /** Forgets the local counts `cachedFixedWindow` keeps for an identifier. */
  forgetCached(keyId: string): void {
    for (const counts of this.#counts) counts.forget(keyId);
  }
}
