import type { Redis } from "@upstash/redis";
import type { ResolvedPolicy } from "./types.ts";

/**
 * Read-only view of a sliding window log (the exact algorithm, see `MULTI_POLICY_SCRIPT`): the
 * units counted in the window ending at ARGV[1] and when the oldest of them leaves.
 * KEYS: [log]. ARGV: now, windowMs. Returns [used, oldest score or -1].
 */
const SLIDING_LOG_REMAINING_SCRIPT = `
local since = tonumber(ARGV[1]) - tonumber(ARGV[2])
local used = redis.call("ZCOUNT", KEYS[1], "(" .. since, "+inf")
local oldest = redis.call("ZRANGEBYSCORE", KEYS[1], "(" .. since, "+inf", "WITHSCORES", "LIMIT", 0, 1)
if oldest[2] then return { used, tonumber(oldest[2]) } end
return { used, -1 }
`;

/** Remaining quota of one sliding-window-log policy at `now`, without consuming any (one round trip). */
export async function slidingLogRemaining(
  redis: Redis,
  key: string,
  policy: ResolvedPolicy,
  now: number,
): Promise<{ remaining: number; reset: number; limit: number }> {
  const [used, oldest] = await redis.eval<string[], [number, number]>(
    SLIDING_LOG_REMAINING_SCRIPT,
    [key],
    [String(now), String(policy.windowMs)],
  );
  return {
    limit: policy.limit,
    remaining: Math.max(0, policy.limit - Number(used)),
    reset: (Number(oldest) >= 0 ? Number(oldest) : now) + policy.windowMs,
  };
}

// Drawn on first use, not at import: edge runtimes (workerd) refuse random values in global scope.
let processTag: string | undefined;
let sequence = 0;

function randomTag(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  let hex = "";
  for (const byte of bytes) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/**
 * A request id unique across processes (random per process + a counter): the sliding window
 * log's members are `<requestId>:<n>`, so two requests never collapse into one member.
 */
export function nextRequestId(): string {
  sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER;
  processTag ??= randomTag();
  return `${processTag}${sequence.toString(36)}`;
}
