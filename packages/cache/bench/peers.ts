/** The peers of the cache benchmark, configured equivalently (same Redis, same payload). */
import {
  cachified,
  totalTtl,
  type Cache as CachifiedCache,
  type CacheEntry,
} from "@epic-web/cachified";
import type { HotpathRedis } from "@hotpath/redis";
import { BentoCache, bentostore } from "bentocache";
import { memoryDriver } from "bentocache/drivers/memory";
import { redisDriver } from "bentocache/drivers/redis";

/** BentoCache with only a memory L1 (serialize on or off). */
export function bentoMemory(serialize: boolean) {
  return new BentoCache({
    default: "mem",
    stores: { mem: bentostore().useL1Layer(memoryDriver({ maxItems: 10_000, serialize })) },
  });
}

/** BentoCache with only its Redis (ioredis) L2 driver. */
export function bentoRedis(port: number, prefix: string) {
  return new BentoCache({
    default: "redis",
    prefix,
    stores: {
      redis: bentostore().useL2Layer(redisDriver({ connection: { host: "127.0.0.1", port } })),
    },
  });
}

/** BentoCache with memory L1 + Redis L2 (its recommended multi-instance setup, minus the bus). */
export function bentoTiered(port: number, prefix: string) {
  return new BentoCache({
    default: "tiered",
    prefix,
    stores: {
      tiered: bentostore()
        .useL1Layer(memoryDriver({ maxItems: 10_000 }))
        .useL2Layer(redisDriver({ connection: { host: "127.0.0.1", port } })),
    },
  });
}

/** A cachified `Cache` adapter on the same @upstash/redis client we use (SET PX / GET / DEL). */
export function cachifiedRedisAdapter(redis: HotpathRedis, prefix: string): CachifiedCache {
  return {
    name: "upstash-redis",
    async get(key) {
      return await redis.get<CacheEntry>(`${prefix}${key}`);
    },
    async set(key, entry) {
      const ttl = totalTtl(entry.metadata);
      const px = Number.isFinite(ttl) ? Math.max(1, Math.ceil(ttl)) : undefined;
      await (px === undefined
        ? redis.set(`${prefix}${key}`, entry)
        : redis.set(`${prefix}${key}`, entry, { px }));
    },
    async delete(key) {
      await redis.del(`${prefix}${key}`);
    },
  };
}

export { cachified };
