import { nameScript } from "@hotpath/redis/tracing";

/**
 * One script for a request held to several policies (or to one `slidingWindowLog` policy): it
 * runs the logic of the `@upstash/ratelimit` 2.2.0 algorithms (fixed window, sliding window,
 * token bucket; a cached fixed window is a fixed window here) on the same keys, plus the exact
 * sliding window log, first checking every policy, then consuming `cost` from all of them only
 * if all allow — one round trip, atomic, and a request refused by one policy does not use up
 * the others.
 *
 * The sliding window log keeps one sorted-set member per unit of cost, scored by its time: a
 * request counts while `now - score < window`, so no window of that length ever holds more than
 * `limit`. Members are `<requestId>:<n>`, unique per call. The set holds at most `limit` members.
 *
 * KEYS: per policy in order, fixed: [window], sliding: [current, previous], token bucket: [bucket],
 * sliding window log: [log].
 * ARGV: now, cost, n, requestId, then per policy: algorithm, limit, windowMs, refillRate.
 * Returns: [allowed (1/0), then per policy: success (1/0), remaining (after this request when it
 * is allowed, else as it stands), reset (ms epoch)].
 */
export const MULTI_POLICY_SCRIPT = `#!lua flags=allow-key-locking
local now = tonumber(ARGV[1])
local cost = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local requestId = ARGV[4]
local plans = {}
local allowed = true
local k = 1
for i = 1, n do
  local base = 4 + (i - 1) * 4
  local p = {
    algorithm = ARGV[base + 1],
    limit = tonumber(ARGV[base + 2]),
    window = tonumber(ARGV[base + 3]),
    refill = tonumber(ARGV[base + 4]),
    key = KEYS[k],
  }
  k = k + 1
  if p.algorithm == "tokenBucket" then
    local bucket = redis.call("HMGET", p.key, "refilledAt", "tokens")
    local refilledAt = now
    local tokens = p.limit
    if bucket[1] then
      refilledAt = tonumber(bucket[1])
      tokens = tonumber(bucket[2])
    end
    if now >= refilledAt + p.window then
      local refills = math.floor((now - refilledAt) / p.window)
      tokens = math.min(p.limit, tokens + refills * p.refill)
      refilledAt = refilledAt + refills * p.window
    end
    p.refilledAt = refilledAt
    p.reset = refilledAt + p.window
    p.ok = tokens >= cost
    p.before = tokens
    if p.ok then p.remaining = tokens - cost else p.remaining = tokens end
  elseif p.algorithm == "slidingWindowLog" then
    redis.call("ZREMRANGEBYSCORE", p.key, "-inf", now - p.window)
    local used = redis.call("ZCARD", p.key)
    p.ok = used + cost <= p.limit
    p.before = math.max(0, p.limit - used)
    if p.ok then p.remaining = p.limit - used - cost else p.remaining = p.before end
    -- When quota comes back: allowed, as the oldest entry leaves; refused, once enough have left.
    local index = 0
    if not p.ok then index = used + cost - p.limit - 1 end
    local entry = redis.call("ZRANGE", p.key, index, index, "WITHSCORES")
    if entry[2] then p.reset = tonumber(entry[2]) + p.window else p.reset = now + p.window end
  else
    local used = tonumber(redis.call("GET", p.key) or "0")
    if p.algorithm == "slidingWindow" then
      local previous = tonumber(redis.call("GET", KEYS[k]) or "0")
      k = k + 1
      used = used + math.floor((1 - (now % p.window) / p.window) * previous)
      p.expire = p.window * 2 + 1000
    else
      p.expire = p.window
    end
    p.reset = (math.floor(now / p.window) + 1) * p.window
    p.ok = used + cost <= p.limit
    p.before = math.max(0, p.limit - used)
    if p.ok then p.remaining = p.limit - used - cost else p.remaining = p.before end
  end
  if not p.ok then allowed = false end
  plans[i] = p
end
local out = { allowed and 1 or 0 }
for i = 1, n do
  local p = plans[i]
  if allowed then
    if p.algorithm == "tokenBucket" then
      redis.call("HSET", p.key, "refilledAt", p.refilledAt, "tokens", p.remaining)
      local expireAt = math.ceil((p.limit - p.remaining) / p.refill) * p.window
      if expireAt > 0 then redis.call("PEXPIRE", p.key, expireAt) end
    elseif p.algorithm == "slidingWindowLog" then
      -- One member per unit of cost, added in chunks (unpack has a stack limit).
      local c = 1
      while c <= cost do
        local entries = {}
        local last = math.min(cost, c + 499)
        for u = c, last do
          entries[#entries + 1] = now
          entries[#entries + 1] = requestId .. ":" .. u
        end
        redis.call("ZADD", p.key, unpack(entries))
        c = last + 1
      end
      redis.call("PEXPIRE", p.key, p.window)
    else
      local value = redis.call("INCRBY", p.key, cost)
      if value == cost then redis.call("PEXPIRE", p.key, p.expire) end
    end
  end
  out[#out + 1] = p.ok and 1 or 0
  if allowed then out[#out + 1] = p.remaining else out[#out + 1] = p.before end
  out[#out + 1] = p.reset
end
return out
`;

// Traces show its round trips as `EVALSHA ratelimit.multi-policy`.
void nameScript(MULTI_POLICY_SCRIPT, "ratelimit.multi-policy");
