/**
 * The Lua emulation of Upstash's `SCAN cursor [MATCH p] [COUNT n] [TYPE t] WITHTYPE`, which real
 * Redis rejects: run as `EVAL <script> 0 cursor [options…]`, it answers Upstash's shape
 * `[cursor, [key1, type1, key2, type2, …]]` (SCAN, then TYPE per key). The gateway rewrites to
 * it; the cluster executor recognises it by this exact text to scan every master (see
 * cluster-scan.ts).
 */
export const SCAN_WITH_TYPE_SCRIPT = `local page = redis.call('SCAN', unpack(ARGV))
local out = {}
for _, key in ipairs(page[2]) do
  out[#out + 1] = key
  out[#out + 1] = redis.call('TYPE', key).ok
end
return {page[1], out}`;
