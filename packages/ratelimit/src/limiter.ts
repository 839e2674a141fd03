import { DEFAULT_APP, createKeyspace, type FailureMode } from "@hotpath/config";
import { BlockCache } from "./block-cache.ts";
import { LimitControls, type RateLimitOverride } from "./controls.ts";
import { checkCost, checkIdentifier, decide, withOverride, type Decision } from "./decision.ts";
import { RateLimitError, RateLimitUnavailableError } from "./errors.ts";
import { errorMessage, withTimeout } from "./guard.ts";
import { keyIdentifier, policyKeys } from "./keys.ts";
import type {
  CreateRateLimiterOptions,
  LimitOptions,
  RateLimiter,
  RateLimiterStats,
} from "./limiter-options.ts";
import { MemoryLimiter } from "./memory-limiter.ts";
import { MetricsRecorder, getUsage, getUsageOverTime, topIdentifiers } from "./metrics.ts";
import { createPolicyRegistry } from "./policies.ts";
import { createRedisCheck, type RedisCheck } from "./redis-check.ts";
import { slidingLogRemaining } from "./sliding-log.ts";
import { tracedLimit } from "./tracing.ts";
import type {
  PolicyOutcome,
  RateLimitEvent,
  RateLimitReason,
  RateLimitResult,
  ResolvedPolicy,
  WaitUntil,
} from "./types.ts";
import { UpstashLimiters } from "./upstash-limiters.ts";

export type {
  CreateRateLimiterOptions,
  FailureOptions,
  LimitOptions,
  RateLimiter,
  RateLimiterStats,
  RemainingQuota,
} from "./limiter-options.ts";

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Creates a rate limiter from the typed policies of `@hotpath/config` (named limiters, tiers,
 * bucket map, plans) plus custom ones, on `@upstash/ratelimit` 2.2.0 over any `@upstash/redis`
 * client — TCP or REST through `@hotpath/redis`.
 * @example
 * const limiter = createRateLimiter({ redis, policies: { burst: "10/1s", daily: "1000 per 1d" } });
 * const result = await limiter.limit(identity.identifier, { bucket: "tips:quick", plan: "free" });
 */
export function createRateLimiter(options: CreateRateLimiterOptions): RateLimiter {
  const app = createKeyspace(options.prefix ?? DEFAULT_APP).app;
  const redis = options.redis;
  const registry = createPolicyRegistry(options);
  const timeoutMs = options.timeoutMs ?? 1000;
  const breakerMs = options.failure?.breakerMs ?? 1000;
  const retryAfterSeconds = options.failure?.retryAfterSeconds ?? 1;
  const upstream = new UpstashLimiters(redis, app);
  const fallback = new MemoryLimiter({ maxEntries: options.failure?.maxFallbackEntries });
  const cacheOption = options.ephemeralCache ?? true;
  const blockCache =
    cacheOption === false ? undefined : new BlockCache(cacheOption === true ? {} : cacheOption);
  const clock = options.now ?? (() => Date.now());
  const stats: RateLimiterStats = {
    redisChecks: 0,
    cacheBlocks: 0,
    denied: 0,
    fallbacks: 0,
    failClosed: 0,
    redisErrors: 0,
  };
  let breakerOpenUntil = 0;
  const redisUsable = () => Date.now() >= breakerOpenUntil;

  const emit = (event: RateLimitEvent) => {
    try {
      options.onEvent?.(event);
      if (options.logger && event.type !== "denied")
        options.logger.warn(`ratelimit ${event.type}`, { ...event });
    } catch {
      // A broken hook must not break rate limiting.
    }
  };
  const onError = (operation: string, error: unknown) => {
    stats.redisErrors++;
    // A failed control read means Redis is unreachable too: the next checks go to the fallback at once.
    if (operation === "controls.refresh") breakerOpenUntil = Date.now() + breakerMs;
    emit({ type: "redisError", operation, error: errorMessage(error) });
  };

  const checkRedis = createRedisCheck({ redis, app, upstream, timeoutMs, clock, onError });

  const failureOf = (policy: ResolvedPolicy): FailureMode =>
    options.failure?.mode ?? options.failure?.policies?.[policy.name] ?? policy.failure;

  const analyticsOption = options.analytics ?? true;
  const metrics =
    analyticsOption === false
      ? undefined
      : new MetricsRecorder(redis, app, {
          ...(analyticsOption === true ? {} : analyticsOption),
          timeoutMs,
          onError,
        });

  const controls =
    options.controls === false
      ? undefined
      : new LimitControls({
          redis,
          app,
          refreshMs: options.controls?.refreshMs ?? 5000,
          timeoutMs,
          onError,
          redisUsable,
        });

  /**
   * Hands background work to waitUntil, or awaits it; returns the result with `pending`.
   * Synchronous when there is nothing in the background (the common case: no extra promise).
   */
  const finish = (
    decision: Decision,
    task: Promise<void> | undefined,
    waitUntil: WaitUntil | undefined,
  ): RateLimitResult | Promise<RateLimitResult> => {
    const result = decision as RateLimitResult & { pending: Promise<void> };
    const now = Date.now();
    const flush = metrics?.flushIfDue(now, redisUsable());
    const refresh = controls?.refreshIfStale(now);
    if (!task && !flush && !refresh) {
      result.pending = RESOLVED;
      return result;
    }
    const live = [task, flush, refresh].filter((t): t is Promise<void> => t !== undefined);
    const pending =
      live.length === 1 ? (live[0] as Promise<void>) : Promise.all(live).then(() => undefined);
    result.pending = pending;
    if (waitUntil) {
      waitUntil(pending);
      return result;
    }
    return pending.then(() => result);
  };

  const record = (
    outcomes: readonly PolicyOutcome[],
    success: boolean,
    identifier: string,
    isFallback: boolean,
    now: number,
  ) => {
    if (!metrics) return;
    let first = true;
    for (const outcome of outcomes) {
      if (success || !outcome.success) {
        // The identifier counts once per decision in the top lists.
        metrics.record(
          outcome.policy,
          success ? "allowed" : "blocked",
          first ? identifier : undefined,
          now,
        );
        first = false;
      }
      if (isFallback) metrics.record(outcome.policy, "fallback", undefined, now);
    }
  };

  const denied = (
    identifier: string,
    by: "identifier" | "ip",
    waitUntil: WaitUntil | undefined,
  ) => {
    stats.denied++;
    emit({ type: "denied", identifier, by });
    const now = clock();
    metrics?.record("denyList", "blocked", identifier, now);
    return finish(
      {
        success: false,
        limit: 0,
        remaining: 0,
        reset: now + 60_000,
        retryAfter: 60,
        policy: "denyList",
        reason: "denyList",
        policies: [],
        denied: by,
      },
      undefined,
      waitUntil,
    );
  };

  const limit = async (
    identifier: string,
    limitOptions: LimitOptions = {},
  ): Promise<RateLimitResult> => {
    checkIdentifier(identifier);
    const cost = checkCost(limitOptions.cost);
    const { policies, key: setKey } = registry.select(limitOptions);
    const waitUntil = limitOptions.waitUntil ?? options.waitUntil;

    let override: RateLimitOverride | undefined;
    if (controls) {
      const ready = controls.ready();
      if (ready) await ready;
      const deniedBy = controls.deniedBy(identifier, limitOptions.ip);
      if (deniedBy) return denied(identifier, deniedBy, waitUntil);
      override = controls.override(identifier);
    }

    const cacheKey = blockCache ? `${setKey}|${identifier}` : "";
    const blocked = blockCache?.get(cacheKey, clock());
    if (blocked) {
      stats.cacheBlocks++;
      const now = clock();
      record(blocked.policies, false, identifier, false, now);
      return finish(decide(blocked.policies, "cacheBlock", now), undefined, waitUntil);
    }

    const effective = override ? policies.map((p) => withOverride(p, override)) : policies;
    const keyId = keyIdentifier(identifier);

    if (redisUsable()) {
      let checked: RedisCheck;
      try {
        stats.redisChecks++;
        checked = await checkRedis(keyId, effective, cost);
      } catch (error) {
        breakerOpenUntil = Date.now() + breakerMs;
        onError("limit", error);
        return useFallback(identifier, keyId, effective, cost, error, waitUntil);
      }
      const now = clock();
      const { outcomes, task } = checked;
      const decision = decide(outcomes, "allowed", now);
      if (!decision.success) {
        (decision as { reason: RateLimitReason }).reason = "limited";
        blockCache?.block(cacheKey, decision.reset, outcomes);
      }
      record(outcomes, decision.success, identifier, false, now);
      return finish(decision, task, waitUntil);
    }
    return useFallback(
      identifier,
      keyId,
      effective,
      cost,
      new RateLimitError("RATELIMIT_STORE_ERROR", "Redis is skipped after a recent failure"),
      waitUntil,
    );
  };

  const useFallback = async (
    identifier: string,
    keyId: string,
    policies: readonly ResolvedPolicy[],
    cost: number,
    cause: unknown,
    waitUntil: WaitUntil | undefined,
  ): Promise<RateLimitResult> => {
    const now = clock();
    const closed = policies.find((p) => failureOf(p) === "closed");
    if (closed) {
      stats.failClosed++;
      emit({ type: "failClosed", policy: closed.name, identifier, error: errorMessage(cause) });
      metrics?.record(closed.name, "fallback", undefined, now);
      throw new RateLimitUnavailableError(closed.name, retryAfterSeconds, { cause });
    }
    const outcomes = fallback.limit(keyId, policies, cost, now);
    const decision = decide(outcomes, "fallback", now);
    stats.fallbacks++;
    for (const outcome of outcomes) {
      emit({
        type: "fallback",
        policy: outcome.policy,
        identifier,
        success: decision.success,
        error: errorMessage(cause),
      });
    }
    record(outcomes, decision.success, identifier, true, now);
    return finish(decision, undefined, waitUntil);
  };

  const requireControls = () => {
    if (!controls)
      throw new RateLimitError(
        "RATELIMIT_INVALID_INPUT",
        "controls: the deny list and overrides are turned off",
      );
    return controls;
  };

  return {
    registry,
    limit: tracedLimit(limit),
    async getRemaining(identifier, selector) {
      checkIdentifier(identifier);
      const policies =
        selector && (selector.policy ?? selector.bucket ?? selector.plan) !== undefined
          ? registry.resolve(selector)
          : [...registry.policies.values()];
      const override = controls?.override(identifier);
      const keyId = keyIdentifier(identifier);
      return Promise.all(
        policies.map(async (base) => {
          const policy = withOverride(base, override);
          const quota = await withTimeout(
            policy.algorithm === "slidingWindowLog"
              ? slidingLogRemaining(
                  redis,
                  policyKeys(app, policy, keyId, 0)[0] ?? "",
                  policy,
                  clock(),
                )
              : upstream.get(policy).getRemaining(keyId),
            timeoutMs,
            "getRemaining",
          );
          return {
            policy: policy.name,
            limit: quota.limit,
            remaining: Math.max(0, quota.remaining),
            reset: quota.reset,
          };
        }),
      );
    },
    async reset(identifier, selector) {
      checkIdentifier(identifier);
      const policies =
        selector && (selector.policy ?? selector.bucket ?? selector.plan) !== undefined
          ? registry.resolve(selector)
          : [...registry.policies.values()];
      const keyId = keyIdentifier(identifier);
      const now = clock();
      const keys = new Set<string>();
      for (const policy of policies) {
        for (const key of policyKeys(app, policy, keyId, now)) keys.add(key);
        // The window before the current one too (a sliding window reads it).
        for (const key of policyKeys(app, policy, keyId, now - policy.windowMs)) keys.add(key);
      }
      blockCache?.forget(identifier);
      fallback.reset(keyId);
      upstream.forgetCached(keyId);
      await withTimeout(redis.del(...keys), timeoutMs, "reset");
    },
    denyList: {
      add: async (entry) => {
        await requireControls().deny(entry);
        if (entry.identifier !== undefined) blockCache?.forget(entry.identifier);
      },
      remove: async (entry) => {
        await requireControls().undeny(entry);
        if (entry.identifier !== undefined) blockCache?.forget(entry.identifier);
      },
      list: () => requireControls().listDenied(),
    },
    overrides: {
      set: async (identifier, override) => {
        await requireControls().setOverride(identifier, override);
        blockCache?.forget(identifier);
      },
      remove: async (identifier) => {
        await requireControls().removeOverride(identifier);
        blockCache?.forget(identifier);
      },
      list: () => requireControls().listOverrides(),
    },
    metrics: {
      // Spans end at the limiter's clock, the one its decisions were counted with.
      getUsage: (query = {}) => getUsage(redis, { until: clock(), ...query, app }),
      getUsageOverTime: (query = {}) => getUsageOverTime(redis, { until: clock(), ...query, app }),
      topIdentifiers: (query = {}) => topIdentifiers(redis, { now: clock(), ...query, app }),
      flush: () => metrics?.flush() ?? RESOLVED,
    },
    stats: () => ({ ...stats }),
  };
}
