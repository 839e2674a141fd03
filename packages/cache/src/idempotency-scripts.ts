import { defineScript } from "./wire.ts";

/**
 * Claim a record atomically. KEYS: record. ARGV: fingerprint, token, lease ms, the token of this
 * instance's abandoned claim of the record or "" (a record held by it is taken over: that claim
 * was given up on before its handler could run).
 */
export const CLAIM_SCRIPT = defineScript(
  `
local r = redis.call('HMGET', KEYS[1], 's', 'f', 'r', 't')
if not r[1] then
  redis.call('HSET', KEYS[1], 's', 'p', 'f', ARGV[1], 't', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
if r[2] ~= ARGV[1] then return {'mismatch'} end
if r[1] == 'p' then
  if ARGV[4] ~= '' and r[4] == ARGV[4] then
    redis.call('HSET', KEYS[1], 't', ARGV[2])
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return {'claimed'}
  end
  return {'inflight', redis.call('PTTL', KEYS[1])}
end
return {'done', r[3]}
`,
  "idempotency.claim",
);

/**
 * Complete the record if we still own it, or recreate it completed when it is gone (its lease
 * expired while Redis was unreachable): the outcome stays where a retry finds it.
 * KEYS: record. ARGV: token, result, retention ms, fingerprint. Returns 1, or 0 when another
 * request holds or completed the record.
 */
export const COMPLETE_SCRIPT = defineScript(
  `
local owner = redis.call('HGET', KEYS[1], 't')
if owner ~= ARGV[1] and (owner or redis.call('EXISTS', KEYS[1]) == 1) then return 0 end
redis.call('HSET', KEYS[1], 's', 'd', 'r', ARGV[2], 'f', ARGV[4])
redis.call('HDEL', KEYS[1], 't')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`,
  "idempotency.complete",
);

/** Delete the record if we own it. KEYS: record. ARGV: token. */
export const RELEASE_RECORD_SCRIPT = defineScript(
  `
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  "idempotency.release",
);

/** Renew the in-flight lease if we own it. KEYS: record. ARGV: token, lease ms. */
export const RENEW_RECORD_SCRIPT = defineScript(
  `
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`,
  "idempotency.renew",
);
