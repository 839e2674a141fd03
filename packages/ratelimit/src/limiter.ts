import { DEFAULT_APP, createKeyspace, type FailureMode } from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import { BlockCache } from "./block-cache.ts";
import { LimitControls, type DenyListEntry, type RateLimitOverride } from "./controls.ts";
import { RateLimitError, RateLimitUnavailableError } from "./errors.ts";
import { errorMessage, withTimeout } from "./guard.ts";
import { keyIdentifier, policyKeys } from "./keys.ts";
import { MemoryLimiter } from "./memory-limiter.ts";
import {
  MetricsRecorder,
  getUsage,
  getUsageOverTime,
  topIdentifiers,
  type MetricsOptions,
  type PolicyUsage,
  type UsageQuery,
} from "./metrics.ts";
import { MULTI_POLICY_SCRIPT } from "./multi-script.ts";
import { nextRequestId, slidingLogRemaining } from "./sliding-log.ts";
import {
  createPolicyRegistry,
  type PolicyRegistry,
  type PolicyRegistryOptions,
  type PolicySelector,
} from "./policies.ts";
import type {
  PolicyOutcome,
  RateLimitEvent,
  RateLimitLogger,
  RateLimitReason,
  RateLimitResult,
  ResolvedPolicy,
  WaitUntil,
} from "./types.ts";
import { UpstashLimiters } from "./upstash-limiters.ts";

/** What to do when Redis fails or is slower than `timeoutMs`. */
export interface FailureOptions {
  /** Forces one mode on every policy (else each policy's own `failure`, AUTH = closed). */
  mode?: FailureMode;
  /** Per-policy modes, over the policies' own. */
  policies?: Readonly<Record<string, FailureMode>>;
  /** After a failure, Redis is skipped (fallback at once) for this long, then tried again. @default 1000 */
  breakerMs?: number;
  /** `Retry-After` (seconds) of the fail-closed error. @default 1 */
  retryAfterSeconds?: number;
  /** Identifiers the insurance limiter tracks per process. @default 10000 */
  maxFallbackEntries?: number;
}

/** Options of {@link createRateLimiter}. */
export interface CreateRateLimiterOptions extends PolicyRegistryOptions {
  /** An `@upstash/redis` client (e.g. `createRedis()` of `@hotpath/redis`: TCP or REST). */
  redis: Redis;
  /** App prefix of every key (`<prefix>:rl:…`, `<prefix>:metrics:ratelimit:…`). @default "hotpath" */
  prefix?: string;
  /** Failure policy. */
  failure?: FailureOptions;
  /** Per-minute counters and hourly top identifiers in Redis; `false` turns them off. @default true */
  analytics?: boolean | MetricsOptions;
  /** In-memory block cache: a blocked identifier costs no Redis call until its reset. @default true */
  ephemeralCache?: boolean | { maxEntries?: number };
  /** Deadline of a Redis call before the failure policy applies. @default 1000 */
  timeoutMs?: number;
  /** Deny list and overrides: how long the in-memory copy lives; `false` turns them off. @default { refreshMs: 5000 } */
  controls?: false | { refreshMs?: number };
  /** Runtime hook for background work (`ctx.waitUntil`); without it, `pending` is awaited before `limit()` returns. */
  waitUntil?: WaitUntil;
  /** Receives every fallback, fail-closed, Redis error and deny decision. */
  onEvent?: (event: RateLimitEvent) => void;
  /** Logs the same events (warn). */
  logger?: RateLimitLogger;
  /**
   * The clock of every decision (ms epoch): the multi-policy and sliding-window-log scripts, the
   * insurance limiter, the block cache and the metrics buckets. Tests inject one; upstream's
   * single-policy scripts read `Date.now()` themselves. Timeouts and the breaker use real time.
   * @default () => Date.now()
   */
  now?: () => number;
}

/** Options of one {@link RateLimiter.limit} call. */
export interface LimitOptions extends PolicySelector {
  /** Units this request consumes. @default 1 */
  cost?: number;
  /** Client IP (group) for the IP deny list, e.g. `identity.ip` from `getRateLimitIdentifier`. */
  ip?: string;
  /** Overrides the limiter's `waitUntil` for this call (e.g. the request context's). */
  waitUntil?: WaitUntil;
}

/** Remaining quota of one policy (admin view). */
export interface RemainingQuota {
  policy: string;
  limit: number;
  remaining: number;
  reset: number;
}

/** In-process counters of the limiter (since it was created). */
export interface RateLimiterStats {
  redisChecks: number;
  cacheBlocks: number;
  denied: number;
  fallbacks: number;
  failClosed: number;
  redisErrors: number;
}

/** A rate limiter over named policies. Create it with {@link createRateLimiter}. */
export interface RateLimiter {
  /** The policies, bucket map and plans it knows. */
  readonly registry: PolicyRegistry;
  /**
   * Decides one request: one Redis round trip for one policy (the upstream EVALSHA) and one for
   * several (one EVALSHA of the multi-policy script); none when blocked in the ephemeral cache.
   * @throws RateLimitUnavailableError when Redis failed and a policy fails closed.
   * @throws RateLimitError RATELIMIT_INVALID_INPUT / RATELIMIT_UNKNOWN_POLICY for bad arguments.
   */
  limit(identifier: string, options?: LimitOptions): Promise<RateLimitResult>;
  /** Remaining quota per policy without consuming any. */
  getRemaining(identifier: string, selector?: PolicySelector): Promise<RemainingQuota[]>;
  /** Clears an identifier's counters (all policies, or the selected ones), its cache entries and fallback state. */
  reset(identifier: string, selector?: PolicySelector): Promise<void>;
  /** Deny list stored in Redis (read by every instance within `refreshMs`). */
  readonly denyList: {
    add(entry: DenyListEntry): Promise<void>;
    remove(entry: DenyListEntry): Promise<void>;
    list(): Promise<string[]>;
  };
  /** Per-identifier overrides stored in Redis (e.g. a partner gets 10x). */
  readonly overrides: {
    set(identifier: string, override: RateLimitOverride): Promise<void>;
    remove(identifier: string): Promise<void>;
    list(): Promise<Record<string, RateLimitOverride>>;
  };
  /** Metric readers over this limiter's prefix. */
  readonly metrics: {
    getUsage(query?: Omit<UsageQuery, "app">): Promise<Record<string, PolicyUsage>>;
    getUsageOverTime(query?: Omit<UsageQuery, "app">): ReturnType<typeof getUsageOverTime>;
    topIdentifiers(query?: {
      kind?: "allowed" | "blocked";
      hours?: number;
      limit?: number;
    }): ReturnType<typeof topIdentifiers>;
    /** Writes batched metrics now. */
    flush(): Promise<void>;
  };
  /** In-process counters. */
  stats(): RateLimiterStats;
}

const RESOLVED: Promise<void> = Promise.resolve();
const MAX_IDENTIFIER = 512;
const MAX_COST = 1_000_000;

/** Checks the identifier without allocating (hot path). */
function checkIdentifier(identifier: unknown): asserts identifier is string {
  if (
    typeof identifier !== "string" ||
    identifier.length === 0 ||
    identifier.length > MAX_IDENTIFIER
  ) {
    throw new RateLimitError(
      "RATELIMIT_INVALID_INPUT",
      `identifier: expected a string of 1 to ${MAX_IDENTIFIER} characters, got ${typeof identifier === "string" ? `${identifier.length} characters` : typeof identifier}`,
    );
  }
}

function checkCost(cost: unknown): number {
  if (cost === undefined) return 1;
  if (typeof cost !== "number" || !Number.isInteger(cost) || cost < 1 || cost > MAX_COST) {
    throw new RateLimitError(
      "RATELIMIT_INVALID_INPUT",
      `cost: expected an integer from 1 to ${MAX_COST}, got ${typeof cost === "number" ? cost : typeof cost}`,
    );
  }
  return cost;
}

/** Picks the most restrictive outcome: the blocked one with the latest reset, else the lowest remaining. */
function mostRestrictive(outcomes: readonly PolicyOutcome[]): PolicyOutcome {
  let chosen = outcomes[0] as PolicyOutcome;
  for (let i = 1; i < outcomes.length; i++) {
    const outcome = outcomes[i] as PolicyOutcome;
    if (chosen.success !== outcome.success) {
      if (!outcome.success) chosen = outcome;
    } else if (
      !outcome.success
        ? outcome.reset > chosen.reset
        : outcome.remaining < chosen.remaining ||
          (outcome.remaining === chosen.remaining && outcome.reset > chosen.reset)
    ) {
      chosen = outcome;
    }
  }
  return chosen;
}

type Decision = Omit<RateLimitResult, "pending">;

function decide(
  outcomes: readonly PolicyOutcome[],
  reason: RateLimitReason,
  now: number,
): Decision {
  const chosen = outcomes.length === 1 ? (outcomes[0] as PolicyOutcome) : mostRestrictive(outcomes);
  let success = true;
  for (const outcome of outcomes) if (!outcome.success) success = false;
  return {
    success,
    limit: chosen.limit,
    remaining: Math.max(0, chosen.remaining),
    reset: chosen.reset,
    retryAfter: success ? 0 : Math.max(1, Math.ceil((chosen.reset - now) / 1000)),
    policy: chosen.policy,
    reason,
    policies: outcomes,
  };
}

/** Applies an identifier's override to a policy. */
function withOverride(
  policy: ResolvedPolicy,
  override: RateLimitOverride | undefined,
): ResolvedPolicy {
  if (!override) return policy;
  const exact = override.limits?.[policy.name];
  const factor = exact !== undefined ? exact / policy.limit : (override.multiplier ?? 1);
  if (factor === 1) return policy;
  return {
    ...policy,
    limit: Math.max(1, exact ?? Math.round(policy.limit * factor)),
    refillRate: Math.max(1, Math.round(policy.refillRate * factor)),
  };
}

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
  const multiScript = redis.createScript<number[]>(MULTI_POLICY_SCRIPT);
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

  const windowSecondsOf = (policy: ResolvedPolicy) =>
    Math.max(1, Math.ceil(policy.windowMs / 1000));

  /** The upstream algorithm's answer as an outcome (+ the cached-window sync as a task). */
  const singleOutcome = (
    policy: ResolvedPolicy,
    response: Awaited<ReturnType<ReturnType<UpstashLimiters["get"]>["limit"]>>,
  ): { outcomes: PolicyOutcome[]; task: Promise<void> | undefined } => ({
    outcomes: [
      {
        policy: policy.name,
        success: response.success,
        limit: response.limit,
        remaining: Math.max(0, response.remaining),
        reset: response.reset,
        windowSeconds: windowSecondsOf(policy),
      },
    ],
    // cachedFixedWindow answers from memory and syncs Redis in `pending`.
    task:
      policy.algorithm === "cachedFixedWindow"
        ? response.pending.then(
            () => undefined,
            (error: unknown) => onError("cachedFixedWindow.sync", error),
          )
        : undefined,
  });

  /** Several policies: one EVALSHA of the multi-policy script. */
  const checkMulti = async (
    keyId: string,
    policies: readonly ResolvedPolicy[],
    cost: number,
  ): Promise<{ outcomes: PolicyOutcome[]; task: Promise<void> | undefined }> => {
    const now = clock();
    const keys: string[] = [];
    const args: string[] = [String(now), String(cost), String(policies.length), nextRequestId()];
    for (const policy of policies) {
      keys.push(...policyKeys(app, policy, keyId, now));
      args.push(
        policy.algorithm,
        String(policy.limit),
        String(policy.windowMs),
        String(policy.refillRate),
      );
    }
    const reply = await withTimeout(
      multiScript.exec(keys, args),
      timeoutMs,
      "limit (multi-policy)",
    );
    const outcomes = policies.map((policy, index): PolicyOutcome => ({
      policy: policy.name,
      success: Number(reply[1 + index * 3]) === 1,
      limit: policy.limit,
      remaining: Math.max(0, Number(reply[2 + index * 3])),
      reset: Number(reply[3 + index * 3]),
      windowSeconds: windowSecondsOf(policy),
    }));
    return { outcomes, task: undefined };
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
      let checked: { outcomes: PolicyOutcome[]; task: Promise<void> | undefined };
      try {
        stats.redisChecks++;
        const single = effective.length === 1 ? (effective[0] as ResolvedPolicy) : undefined;
        if (single && single.algorithm !== "slidingWindowLog") {
          const policy = single;
          checked = singleOutcome(
            policy,
            await withTimeout(upstream.get(policy).limit(keyId, cost), timeoutMs, "limit"),
          );
        } else {
          checked = await checkMulti(keyId, effective, cost);
        }
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
    limit,
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
