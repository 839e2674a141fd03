import { buildKey, escapeKeyPart } from "@hotpath/config";
import type { ResolvedPolicy } from "./types.ts";

const prefixes = new Map<string, string>();

/**
 * The key prefix of one policy: `<app>:rl:<policy>`. `@upstash/ratelimit` appends
 * `:<identifier>[:<window>]` to it.
 */
export function policyPrefix(app: string, policy: Pick<ResolvedPolicy, "name">): string {
  const memoKey = `${app}\u0000${policy.name}`;
  let prefix = prefixes.get(memoKey);
  if (prefix === undefined) {
    prefix = buildKey(app, "rl", policy.name);
    if (prefixes.size >= 10_000) prefixes.clear();
    prefixes.set(memoKey, prefix);
  }
  return prefix;
}

/**
 * The identifier as it appears in keys: escaped (no `:`/glob/brace from user input) and
 * wrapped in a hash tag, so every key of one identifier lands in one Redis Cluster slot and
 * one script may touch them together.
 */
export function keyIdentifier(identifier: string): string {
  // Identifiers from getRateLimitIdentifier need no escaping (same output, no regex replace).
  return `{${SAFE_PART.test(identifier) ? identifier : escapeKeyPart(identifier)}}`;
}

const SAFE_PART = /^[A-Za-z0-9_.-]+$/;

/**
 * The Redis keys a policy uses for an identifier at `now`, exactly as `@upstash/ratelimit`
 * 2.2.0 lays them out: fixed window `<prefix>:<id>:<window#>`, sliding window current and
 * previous window, token bucket `<prefix>:<id>`; and the sliding window log (this package's
 * exact algorithm) `<prefix>:<id>`, one sorted set.
 */
export function policyKeys(
  app: string,
  policy: ResolvedPolicy,
  keyId: string,
  now: number,
): string[] {
  const base = `${policyPrefix(app, policy)}:${keyId}`;
  if (policy.algorithm === "tokenBucket" || policy.algorithm === "slidingWindowLog") return [base];
  const window = Math.floor(now / policy.windowMs);
  if (policy.algorithm === "slidingWindow") return [`${base}:${window}`, `${base}:${window - 1}`];
  return [`${base}:${window}`];
}

/** Key of the deny-list set (`<app>:rl:deny`): members `id:<identifier>` and `ip:<ip group>`. */
export function denyListKey(app: string): string {
  return buildKey(app, "rl", "deny");
}

/** Key of the overrides hash (`<app>:rl:overrides`): field = identifier, value = JSON override. */
export function overridesKey(app: string): string {
  return buildKey(app, "rl", "overrides");
}
