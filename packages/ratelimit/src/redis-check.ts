import type { Redis } from "@upstash/redis";
import { withTimeout } from "./guard.ts";
import { policyKeys } from "./keys.ts";
import { MULTI_POLICY_SCRIPT } from "./multi-script.ts";
import { nextRequestId } from "./sliding-log.ts";
import type { PolicyOutcome, ResolvedPolicy } from "./types.ts";
import type { UpstashLimiters } from "./upstash-limiters.ts";

/** What Redis said about the policies of one request, plus background work (cached-window sync). */
export interface RedisCheck {
  readonly outcomes: PolicyOutcome[];
  readonly task: Promise<void> | undefined;
}

/** What {@link createRedisCheck} needs from the limiter. */
export interface RedisCheckOptions {
  readonly redis: Redis;
  readonly app: string;
  readonly upstream: UpstashLimiters;
  readonly timeoutMs: number;
  /** The limiter's clock (ms epoch) for the scripts that take the time as an argument. */
  readonly clock: () => number;
  readonly onError: (operation: string, error: unknown) => void;
}

type UpstreamResponse = Awaited<ReturnType<ReturnType<UpstashLimiters["get"]>["limit"]>>;

const windowSecondsOf = (policy: ResolvedPolicy) => Math.max(1, Math.ceil(policy.windowMs / 1000));

/**
 * The Redis side of a decision, ONE round trip: a single policy runs upstream's script (one
 * EVALSHA, none for a warm cached fixed window); several policies, or a sliding window log, run
 * this package's multi-policy script (one EVALSHA). Rejects on a Redis error or timeout (the
 * limiter then applies its failure policy).
 */
export function createRedisCheck(
  options: RedisCheckOptions,
): (keyId: string, policies: readonly ResolvedPolicy[], cost: number) => Promise<RedisCheck> {
  const { redis, app, upstream, timeoutMs, clock, onError } = options;
  const multiScript = redis.createScript<number[]>(MULTI_POLICY_SCRIPT);

  /** The upstream algorithm's answer as an outcome (+ the cached-window sync as a task). */
  const singleOutcome = (policy: ResolvedPolicy, response: UpstreamResponse): RedisCheck => ({
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

  /** Several policies (or a sliding window log): one EVALSHA of the multi-policy script. */
  const checkMulti = async (
    keyId: string,
    policies: readonly ResolvedPolicy[],
    cost: number,
  ): Promise<RedisCheck> => {
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

  return async (keyId, policies, cost) => {
    const single = policies.length === 1 ? (policies[0] as ResolvedPolicy) : undefined;
    if (single && single.algorithm !== "slidingWindowLog") {
      return singleOutcome(
        single,
        await withTimeout(upstream.get(single).limit(keyId, cost), timeoutMs, "limit"),
      );
    }
    return checkMulti(keyId, policies, cost);
  };
}
