import { defineScript } from "./wire.ts";

/**
 * Read an entry and, when it is missing or stale and `ARGV[4]` is "1", claim the single-flight
 * lease in the same call; also returns the namespace generation (L1 coherence).
 * KEYS: entry, lease, generation. ARGV: now (ms), lease ms, token, claim ("1"/"0"), want generation.
 * Returns { entry|nil, claimed (0/1), generation|nil }.
 */
export const READ_SCRIPT = defineScript(`
local v = redis.call('GET', KEYS[1])
local claimed = 0
if ARGV[4] == '1' then
  local stale = true
  if v then
    local fu = tonumber(string.match(v, '^H1|(%d+)|'))
    if fu and fu > tonumber(ARGV[1]) then stale = false end
  end
  if stale and redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then claimed = 1 end
end
local gen = false
if ARGV[5] == '1' then gen = redis.call('GET', KEYS[3]) end
return {v, claimed, gen}
`);

/**
 * Write an entry with its TTL, release the lease if we hold it, add the entry to its tag sets
 * (extending their TTL to cover it) and, for explicit writes, bump the generation and publish
 * the invalidation for other instances' L1.
 * KEYS: entry, lease, generation, tag sets… ARGV: encoded entry, px, lease token (or ""),
 * bump ("1"/"0"), bus channel (or ""), bus message. Returns the new generation (0 without bump).
 */
export const STORE_SCRIPT = defineScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
local ttl = tonumber(ARGV[2])
for i = 4, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
if ARGV[4] == '1' then
  local gen = redis.call('INCR', KEYS[3])
  if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
  return gen
end
return 0
`);

/**
 * Delete keys, bump the generation, publish. KEYS: generation, keys… ARGV: channel (or ""), message.
 * Returns { deleted count, new generation }.
 */
export const DELETE_SCRIPT = defineScript(`
local n = 0
for i = 2, #KEYS do n = n + redis.call('DEL', KEYS[i]) end
local gen = redis.call('INCR', KEYS[1])
if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return {n, gen}
`);

/**
 * Pop up to ARGV[1] members of a tag set and unlink them. KEYS: tag set. Returns the number popped
 * (the caller loops until it is below the batch size).
 */
export const POP_TAG_SCRIPT = defineScript(`
local members = redis.call('SPOP', KEYS[1], ARGV[1])
for i = 1, #members, 500 do
  redis.call('UNLINK', unpack(members, i, math.min(i + 499, #members)))
end
return #members
`);

/** Release the lease only if we hold it (compare-and-delete). KEYS: lease. ARGV: token. */
export const RELEASE_SCRIPT = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Renew the lease only if we hold it (compare-and-pexpire). KEYS: lease. ARGV: token, px. */
export const RENEW_LEASE_SCRIPT = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

/** INCRBY with a TTL set when the counter is created. KEYS: counter. ARGV: by, px (or "0"). */
export const INCREMENT_SCRIPT = defineScript(`
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] ~= '0' and redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v
`);
