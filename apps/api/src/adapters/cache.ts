import { createCache, type Cache, type CacheEvent, type CacheStats } from "@hotpath/cache";
import type { Redis } from "@upstash/redis";
import { measureOperation } from "../latency/api-latency.ts";
import type { Logger } from "../logger.ts";
import type { ApiCache, ApiLatency } from "../trpc/deps.ts";

/** Options of {@link createApiCache}. */
export interface ApiCacheOptions {
  redis: Redis;
  app: string;
  logger: Logger;
  /** Per-call Redis timeout (ms). @default 500 */
  timeoutMs?: number;
  /** Metrics flush interval (ms). @default 1000 */
  metricsFlushMs?: number;
  /** Serverless hook for background refreshes and metric flushes. */
  waitUntil?: (promise: Promise<unknown>) => void;
  /**
   * Namespaces that also keep an in-process L1 tier, with its own TTL in ms (the bound on
   * staleness should an invalidation message be lost; invalidations travel over pub/sub).
   * @default { status: 1000 }
   */
  l1?: Readonly<Record<string, number>>;
  /** Records each read-through call's cache read (until it hands over to the loader). */
  latency?: Pick<ApiLatency, "operation"> | undefined;
}

/** The API's cache: one @hotpath/cache `createCache` per namespace, created on first use. */
export function createApiCache(options: ApiCacheOptions): ApiCache & {
  /** Deletes every entry of a namespace (admin action; errors propagate). */
  invalidateNamespace(namespace: string): Promise<number>;
  /** Deletes the entries of a namespace carrying `tag` (admin action; errors propagate). */
  invalidateTag(namespace: string, tag: string): Promise<number>;
  close(): Promise<void>;
  flushMetrics(): Promise<void>;
  stats(): Record<string, CacheStats>;
} {
  const caches = new Map<string, Cache>();
  const l1 = options.l1 ?? { status: 1000 };
  const onEvent = (event: CacheEvent) => {
    if (
      event.type === "redis_error" ||
      event.type === "load_error" ||
      event.type === "write_refused"
    ) {
      options.logger.warn(`cache ${event.type}`, {
        namespace: event.namespace,
        error: String("error" in event ? event.error : ""),
      });
    }
  };
  const cacheOf = (namespace: string): Cache => {
    let cache = caches.get(namespace);
    if (!cache) {
      cache = createCache({
        redis: options.redis,
        app: options.app,
        namespace,
        defaultTtl: 60,
        timeoutMs: options.timeoutMs ?? 500,
        onEvent,
        metrics: { flushIntervalMs: options.metricsFlushMs ?? 1000 },
        ...(l1[namespace] !== undefined
          ? { l1: { ttlMs: l1[namespace], maxEntries: 10_000 } }
          : {}),
        ...(options.waitUntil ? { waitUntil: options.waitUntil } : {}),
      });
      caches.set(namespace, cache);
    }
    return cache;
  };
  const report = (operation: string) => (error: unknown) => {
    options.logger.warn(`cache ${operation} failed`, { error: String(error) });
  };
  return {
    getOrSet(namespace, key, load, loadOptions) {
      // The outcome (hit, stale, negative, miss, coalesced, bypass) comes from the cache itself.
      return measureOperation(options.latency, "cache_read", (done) =>
        cacheOf(namespace).getOrSetWithOutcome(
          key,
          () => {
            done();
            return load();
          },
          {
            ttl: loadOptions.ttlSeconds,
            staleWhileRevalidate: loadOptions.staleWhileRevalidateSeconds ?? false,
            lock: loadOptions.lock ?? false,
            negativeTtl: loadOptions.negativeTtlSeconds ?? 0,
            ...(loadOptions.tags ? { tags: loadOptions.tags } : {}),
          },
        ),
      );
    },
    async invalidate(namespace, keys) {
      await Promise.all(keys.map((key) => cacheOf(namespace).delete(key).catch(report("delete"))));
    },
    async invalidateTags(namespace, tags) {
      await Promise.all(
        tags.map((tag) => cacheOf(namespace).invalidateTag(tag).catch(report("invalidateTag"))),
      );
    },
    invalidateNamespace: (namespace) => cacheOf(namespace).invalidatePattern("*"),
    invalidateTag: (namespace, tag) => cacheOf(namespace).invalidateTag(tag),
    stats() {
      return Object.fromEntries(
        [...caches].map(([namespace, cache]) => [namespace, cache.stats()]),
      );
    },
    async flushMetrics() {
      await Promise.all(
        [...caches.values()].map((cache) => cache.flushMetrics().catch(report("flush"))),
      );
    },
    async close() {
      await Promise.all([...caches.values()].map((cache) => cache.close().catch(report("close"))));
    },
  };
}
