import type { Redis } from "@upstash/redis";
import { withTimeout } from "./guard.ts";
import { policyKeys } from "./keys.ts";
import { MULTI_POLICY_SCRIPT } from "./multi-script.ts";
import { nextRequestId } from "./sliding-log.ts";
import { RateLimitError } from "./errors.ts";
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
  const singleOutcome = (policy: ResolvedPolicy, response: UpstreamResponse): RedisCheck => {
    if (!Number.isFinite(response.remaining) || !Number.isFinite(response.reset))
      throw unexpectedReply("limit", response);
    return singleCheck(policy, response);
  };
  const singleCheck = (policy: ResolvedPolicy, response: UpstreamResponse): RedisCheck => ({
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
    const outcomes = multiPolicyOutcomes(policies, reply);
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

/**
 * The outcomes in the multi-policy script's reply: `[_, success, remaining, reset]` per policy,
 * all integers. Anything else (a reply meant for another command, a truncated table) is an error
 * of the store — the limiter then applies its failure policy — never a decision: a reset that is
 * not a number would block the identifier with no end.
 * @throws RateLimitError RATELIMIT_STORE_ERROR on a reply of another shape.
 */
export function multiPolicyOutcomes(
  policies: readonly ResolvedPolicy[],
  reply: unknown,
): PolicyOutcome[] {
  if (!Array.isArray(reply) || reply.length < 1 + policies.length * 3)
    throw unexpectedReply("limit (multi-policy)", reply);
  return policies.map((policy, index): PolicyOutcome => {
    const success = Number(reply[1 + index * 3]);
    const remaining = Number(reply[2 + index * 3]);
    const reset = Number(reply[3 + index * 3]);
    if ((success !== 0 && success !== 1) || !Number.isFinite(remaining) || !Number.isFinite(reset))
      throw unexpectedReply("limit (multi-policy)", reply);
    return {
      policy: policy.name,
      success: success === 1,
      limit: policy.limit,
      remaining: Math.max(0, remaining),
      reset,
      windowSeconds: windowSecondsOf(policy),
    };
  });
}

/** The error of a reply that is not what the script returns (its kind only, never its data). */
function unexpectedReply(label: string, reply: unknown): RateLimitError {
  const kind = Array.isArray(reply) ? `an array of ${reply.length}` : typeof reply;
  return new RateLimitError(
    "RATELIMIT_STORE_ERROR",
    `${label}: unexpected reply from Redis (${kind})`,
  );
}
