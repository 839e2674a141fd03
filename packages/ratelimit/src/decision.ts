import type { RateLimitOverride } from "./controls.ts";
import { RateLimitError } from "./errors.ts";
import type { PolicyOutcome, RateLimitReason, RateLimitResult, ResolvedPolicy } from "./types.ts";

const MAX_IDENTIFIER = 512;
const MAX_COST = 1_000_000;

/** Checks the identifier without allocating (hot path). */
export function checkIdentifier(identifier: unknown): asserts identifier is string {
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

/** Checks `cost` (default 1). */
export function checkCost(cost: unknown): number {
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
export function mostRestrictive(outcomes: readonly PolicyOutcome[]): PolicyOutcome {
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

/** A decision before its background work (`pending`) is attached. */
export type Decision = Omit<RateLimitResult, "pending">;

/** Turns the outcomes of every policy into one decision (the most restrictive policy speaks). */
export function decide(
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
export function withOverride(
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
