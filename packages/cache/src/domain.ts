import { CACHE_PREFIX, TTL_LONG, TTL_MEDIUM } from "@hotpath/config";
import { createCache } from "./cache.ts";
import type { Cache, CacheOptions } from "./cache-types.ts";
import type { StandardSchema } from "./options.ts";

/** The seed guides' convenience helpers, on namespaces `user` and `config` with the config TTLs. */
export interface DomainCache {
  /** The `user` namespace cache (TTL_MEDIUM). */
  readonly users: Cache;
  /** The `config` namespace cache (TTL_LONG). */
  readonly configs: Cache;
  /** Caches a user's data under `<app>:cache:user:v:<userId>` (tagged `user:<userId>`). */
  cacheUserData(
    userId: string | number,
    data: unknown,
    options?: { ttl?: number },
  ): Promise<boolean>;
  /** A user's cached data, validated when a schema is given (invalid = miss). */
  getCachedUserData<T>(userId: string | number, schema?: StandardSchema<T>): Promise<T | undefined>;
  /** Drops everything cached for a user (its entry and anything tagged `user:<userId>`). */
  invalidateUserCache(userId: string | number): Promise<void>;
  /** Caches a configuration value (TTL_LONG). */
  cacheConfig(name: string, value: unknown, options?: { ttl?: number }): Promise<boolean>;
  /** A cached configuration value. */
  getCachedConfig<T>(name: string, schema?: StandardSchema<T>): Promise<T | undefined>;
}

/** Creates the {@link DomainCache} helpers on one client. */
export function createDomainCache(
  options: Omit<CacheOptions, "namespace" | "defaultTtl">,
): DomainCache {
  const users = createCache({ ...options, namespace: CACHE_PREFIX.user, defaultTtl: TTL_MEDIUM });
  const configs = createCache({ ...options, namespace: CACHE_PREFIX.config, defaultTtl: TTL_LONG });
  return {
    users,
    configs,
    cacheUserData: (userId, data, o = {}) =>
      users.set(String(userId), data, { ttl: o.ttl ?? TTL_MEDIUM, tags: [`user:${userId}`] }),
    async getCachedUserData<T>(userId: string | number, schema?: StandardSchema<T>) {
      const value = await users.get<T>(String(userId), { schema });
      return value ?? undefined;
    },
    async invalidateUserCache(userId) {
      await users.delete(String(userId));
      await users.invalidateTag(`user:${userId}`);
    },
    cacheConfig: (name, value, o = {}) => configs.set(name, value, { ttl: o.ttl ?? TTL_LONG }),
    async getCachedConfig<T>(name: string, schema?: StandardSchema<T>) {
      const value = await configs.get<T>(name, { schema });
      return value ?? undefined;
    },
  };
}
