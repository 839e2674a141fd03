import type { L1Coherence } from "./cache-coherence.ts";
import type { CacheContext } from "./cache-context.ts";
import type { ReadPath } from "./cache-read.ts";
import type { Cache } from "./cache-types.ts";
import { CacheError, RedisUnavailableError } from "./errors.ts";
import { ttlToMs } from "./options.ts";
import { INCREMENT_SCRIPT } from "./scripts.ts";
import { assertSize, serializeValue } from "./serializer.ts";
import { asNumber, asString, type PipelineItem } from "./wire.ts";

/** The plain operations of a cache: reads without a loader, hashes and counters. */
export type PlainOperations = Pick<
  Cache,
  "get" | "exists" | "ttl" | "mget" | "hashSet" | "hashGet" | "hashGetAll" | "increment"
>;

/** Creates the plain operations of a cache. */
export function createPlainOperations(
  context: CacheContext,
  coherence: L1Coherence,
  reads: Pick<ReadPath, "readPlain">,
): PlainOperations {
  const { wire, keys, namespace, count, emit, redisError, serializer } = context;
  const maxEntryBytes = context.options.maxEntryBytes ?? 1024 * 1024;

  const decodeField = (text: string | null): unknown => {
    if (text === null) return undefined;
    try {
      return serializer.deserialize(text);
    } catch {
      return undefined;
    }
  };

  /**
   * MGET of entries of several slot groups: one MGET per group (a multi-key command stays in one
   * cluster slot), all in one pipeline; replies in the order of `entryKeys`.
   */
  const mgetByGroup = async (entryKeys: readonly string[]): Promise<unknown[]> => {
    const byGroup = new Map<string, number[]>();
    entryKeys.forEach((key, index) => {
      const group = keys.groupOf(key);
      const indexes = byGroup.get(group);
      if (indexes) indexes.push(index);
      else byGroup.set(group, [index]);
    });
    if (byGroup.size === 1) return (await wire.command(["MGET", ...entryKeys])) as unknown[];
    const groups = [...byGroup.values()];
    const replies = await wire.pipeline(
      groups.map((indexes) => ["MGET", ...indexes.map((i) => entryKeys[i] as string)]),
    );
    const raws = new Array<unknown>(entryKeys.length).fill(null);
    replies.forEach((reply, n) => {
      if (!reply.ok) throw new RedisUnavailableError("CACHE_REDIS_ERROR", reply.error);
      const values = reply.value as unknown[];
      (groups[n] as number[]).forEach((index, j) => (raws[index] = values[j] ?? null));
    });
    return raws;
  };

  return {
    async get<T>(key: Parameters<Cache["get"]>[0], o: Parameters<Cache["get"]>[1] = {}) {
      const k = keys.entry(key);
      const local = coherence.fromL1(k);
      if (local) {
        if (local.negative) count("cache_negative_hits_total", "negativeHits");
        else count("cache_hits_total", "hits");
        emit({ type: local.negative ? "negative_hit" : "hit", namespace, key: k, tier: "l1" });
        return local.value as T | null;
      }
      const startedAt = coherence.epoch();
      let reply;
      try {
        reply = await reads.readPlain(k);
      } catch (error) {
        redisError("get", error, k);
        return undefined;
      }
      const entry = reply.entry;
      const now = Date.now();
      if (entry && (entry.freshUntil > now || (o.allowStale && entry.staleUntil > now))) {
        const decoded = await context.decodeValue(entry, o.schema);
        if (decoded.ok) {
          const fresh = entry.freshUntil > now;
          if (decoded.negative) count("cache_negative_hits_total", "negativeHits");
          else if (fresh) count("cache_hits_total", "hits");
          else count("cache_stale_hits_total", "staleHits");
          emit({
            type: decoded.negative ? "negative_hit" : fresh ? "hit" : "stale_hit",
            namespace,
            key: k,
            tier: "redis",
          });
          if (fresh) coherence.toL1(k, entry, decoded.value, decoded.negative, startedAt);
          return decoded.value as T | null;
        }
        emit({ type: "invalid_value", namespace, key: k, reason: decoded.reason });
      } else if (reply.raw !== null && !entry) {
        emit({ type: "invalid_value", namespace, key: k, reason: "malformed entry" });
      }
      count("cache_misses_total", "misses");
      emit({ type: "miss", namespace, key: k, tier: "redis" });
      return undefined;
    },
    async exists(key) {
      const k = keys.entry(key);
      try {
        return asNumber(await wire.command(["EXISTS", k])) === 1;
      } catch (error) {
        redisError("exists", error, k);
        return false;
      }
    },
    async ttl(key) {
      const k = keys.entry(key);
      let raw: string | null;
      try {
        raw = asString(await wire.command(["GET", k]));
      } catch (error) {
        redisError("ttl", error, k);
        return null;
      }
      const entry = context.decodeEntry(raw);
      if (!entry || entry.staleUntil <= Date.now()) return null;
      return Math.max(0, Math.ceil((entry.freshUntil - Date.now()) / 1000));
    },
    async mget<T>(
      cacheKeys: Parameters<Cache["mget"]>[0],
      o: Parameters<Cache["mget"]>[1] = {},
    ): Promise<(T | null | undefined)[]> {
      if (cacheKeys.length === 0) return [];
      const ks = cacheKeys.map(keys.entry);
      let raws: unknown[];
      try {
        raws = await mgetByGroup(ks);
      } catch (error) {
        redisError("mget", error);
        return ks.map(() => undefined);
      }
      const now = Date.now();
      return Promise.all(
        ks.map(async (k, index) => {
          const entry = context.decodeEntry(asString(raws[index]));
          if (entry && (entry.freshUntil > now || (o.allowStale && entry.staleUntil > now))) {
            const decoded = await context.decodeValue(entry, o.schema);
            if (decoded.ok) {
              if (decoded.negative) count("cache_negative_hits_total", "negativeHits");
              else count("cache_hits_total", "hits");
              return decoded.value as T | null;
            }
            emit({ type: "invalid_value", namespace, key: k, reason: decoded.reason });
          }
          count("cache_misses_total", "misses");
          return undefined;
        }),
      );
    },
    async hashSet(key, fields, o = {}) {
      const k = keys.hash(key);
      const flat: string[] = [];
      for (const [field, value] of Object.entries(fields)) {
        const text = serializeValue(serializer, value, `${k}#${field}`);
        assertSize(text, maxEntryBytes, `${k}#${field}`);
        flat.push(field, text);
      }
      if (flat.length === 0) return true;
      const items: PipelineItem[] = [["HSET", k, ...flat]];
      if (o.ttl !== undefined)
        items.push(["PEXPIRE", k, String(Math.max(1, ttlToMs(o.ttl, "ttl")))]);
      try {
        const replies = await wire.pipeline(items);
        return replies.every((reply) => reply.ok);
      } catch (error) {
        redisError("hashSet", error, k);
        return false;
      }
    },
    async hashGet<T>(key: Parameters<Cache["hashGet"]>[0], field: string) {
      const k = keys.hash(key);
      try {
        return decodeField(asString(await wire.command(["HGET", k, field]))) as T | undefined;
      } catch (error) {
        redisError("hashGet", error, k);
        return undefined;
      }
    },
    async hashGetAll<T>(key: Parameters<Cache["hashGetAll"]>[0]) {
      const k = keys.hash(key);
      let flat: unknown[];
      try {
        flat = ((await wire.command(["HGETALL", k])) as unknown[] | null) ?? [];
      } catch (error) {
        redisError("hashGetAll", error, k);
        return {};
      }
      const out: Record<string, T> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const value = decodeField(asString(flat[i + 1]));
        if (value !== undefined) out[String(flat[i])] = value as T;
      }
      return out;
    },
    async increment(key, by = 1, o = {}) {
      if (!Number.isSafeInteger(by))
        throw new CacheError("CACHE_INVALID_OPTION", `by must be an integer, got ${by}`);
      const px = o.ttl === undefined ? 0 : Math.max(1, ttlToMs(o.ttl, "ttl"));
      return asNumber(await wire.script(INCREMENT_SCRIPT, [keys.counter(key)], [by, px]));
    },
  };
}
