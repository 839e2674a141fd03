import { defineScript } from "./wire.ts";

/** How long a per-entry write version outlives its last bump (longer than any load runs). */
export const VERSION_TTL_MS = 3_600_000;

/**
 * Read an entry and, when it is missing or stale and `ARGV[4]` is "1" (or always when it is "2"),
 * claim the single-flight lease in the same call; also returns the namespace generation (L1
 * coherence) and the load stamp (the entry's write version and the namespace sweep epoch) that a
 * later store is checked against.
 * KEYS (one slot group): entry, lease, generation, version, sweep. ARGV: now (ms), lease ms, token, claim
 * ("0"/"1"/"2"), want generation. Returns { entry|nil, claimed (0/1), generation|nil, version, sweep }.
 */
export const READ_SCRIPT = defineScript(
  `
local v = redis.call('GET', KEYS[1])
local claimed = 0
if ARGV[4] ~= '0' then
  local stale = true
  if v and ARGV[4] == '1' then
    local fu = tonumber(string.match(v, '^H1|(%d+)|'))
    if fu and fu > tonumber(ARGV[1]) then stale = false end
  end
  if stale and redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[2]) then claimed = 1 end
end
local gen = false
if ARGV[5] == '1' then gen = redis.call('GET', KEYS[3]) end
return {v, claimed, gen, redis.call('GET', KEYS[4]) or '', redis.call('GET', KEYS[5]) or ''}
`,
  "cache.read",
);

/**
 * Write an entry with its TTL, release the lease if we hold it, add the entry to its tag sets
 * (extending their TTL to cover it) and, for explicit writes, bump the entry's write version and
 * the generation and publish the invalidation for other instances' L1. A loader's store (not
 * explicit) is conditional: refused (-1) when the entry's version or the sweep epoch moved since
 * the load began (a set, delete or invalidation ran meanwhile), so stale data is never written back.
 * KEYS (one slot group): entry, lease, generation, version, sweep, the group's tag sets…
 * ARGV: encoded entry, px, lease token
 * (or ""), explicit ("1"/"0"), bus channel (or ""), bus message, expected version, expected sweep,
 * version ttl. Returns the new generation (explicit), 0 (stored) or -1 (refused).
 */
export const STORE_SCRIPT = defineScript(
  `
if ARGV[3] ~= '' and redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
if ARGV[4] ~= '1' then
  if (redis.call('GET', KEYS[4]) or '') ~= ARGV[7] or (redis.call('GET', KEYS[5]) or '') ~= ARGV[8] then
    return -1
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local ttl = tonumber(ARGV[2])
for i = 6, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
end
if ARGV[4] == '1' then
  redis.call('INCR', KEYS[4])
  redis.call('PEXPIRE', KEYS[4], ARGV[9])
  local gen = redis.call('INCR', KEYS[3])
  if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], ARGV[6]) end
  return gen
end
return 0
`,
  "cache.store",
);

/**
 * Delete entries and bump their write versions (a load in flight will not store), bump the
 * generation, publish. KEYS (one slot group): generation, then entry and version pairs… ARGV: channel (or ""),
 * message, version ttl. Returns { deleted count, new generation }.
 */
export const DELETE_SCRIPT = defineScript(
  `
local n = 0
for i = 2, #KEYS, 2 do
  n = n + redis.call('DEL', KEYS[i])
  redis.call('INCR', KEYS[i + 1])
  redis.call('PEXPIRE', KEYS[i + 1], ARGV[3])
end
local gen = redis.call('INCR', KEYS[1])
if ARGV[1] ~= '' then redis.call('PUBLISH', ARGV[1], ARGV[2]) end
return {n, gen}
`,
  "cache.delete",
);

/**
 * Unlink entries of a tag set and remove them from it, in one step (an entry is never left
 * without its membership, nor a membership without its entry). The caller read the members first
 * (SRANDMEMBER), so every key is declared. KEYS: tag set, entries… Returns how many left the set.
 */
export const UNLINK_TAGGED_SCRIPT = defineScript(
  `
for i = 2, #KEYS do redis.call('UNLINK', KEYS[i]) end
if #KEYS < 2 then return 0 end
return redis.call('SREM', KEYS[1], unpack(KEYS, 2))
`,
  "cache.unlink-tagged",
);

/** Release the lease only if we hold it (compare-and-delete). KEYS: lease. ARGV: token. */
export const RELEASE_SCRIPT = defineScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  "cache.release-lease",
);

/** Renew the lease only if we hold it (compare-and-pexpire). KEYS: lease. ARGV: token, px. */
export const RENEW_LEASE_SCRIPT = defineScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`,
  "cache.renew-lease",
);

/** INCRBY with a TTL set when the counter is created. KEYS: counter. ARGV: by, px (or "0"). */
export const INCREMENT_SCRIPT = defineScript(
  `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if ARGV[2] ~= '0' and redis.call('PTTL', KEYS[1]) == -1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v
`,
  "cache.increment",
);
