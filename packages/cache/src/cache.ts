import { withChildSpan } from "@hotpath/redis/tracing";
import { trace } from "@opentelemetry/api";
import { createL1Coherence } from "./cache-coherence.ts";
import { createCacheContext } from "./cache-context.ts";
import { createLoading } from "./cache-load.ts";
import { createPlainOperations } from "./cache-plain.ts";
import { createReadPath } from "./cache-read.ts";
import type {
  Cache,
  CacheKey,
  CacheOptions,
  CacheOutcome,
  GetOrSetOptions,
  Loader,
} from "./cache-types.ts";
import { createCacheWrites } from "./cache-writes.ts";

/** Tracer of the cache (instrumentation scope `@hotpath/cache`). */
const tracer = trace.getTracer("@hotpath/cache");

/**
 * Creates a namespaced cache on an `@upstash/redis` client (REST or TCP, Node or edge).
 * @example
 * const users = createCache({ redis, namespace: "user", defaultTtl: TTL_MEDIUM });
 * const user = await users.getOrSet(["profile", id], () => db.user(id), { schema: userSchema });
 */
export function createCache(options: CacheOptions): Cache {
  const context = createCacheContext(options);
  const coherence = createL1Coherence(context);
  const writes = createCacheWrites(context, coherence);
  const loading = createLoading(context, coherence, writes);
  const reads = createReadPath(context, coherence, loading);
  const plain = createPlainOperations(context, coherence, reads);
  const { counts, l1, recorder } = context;
  const spanOptions = { attributes: { "hotpath.cache.namespace": context.namespace } };
  /**
   * `getOrSet` in a `cache.getOrSet` span carrying the namespace and `hotpath.cache.outcome`
   * (hit, stale, negative, miss, coalesced, bypass); its Redis round trips are children. Never the key.
   * Only inside a recorded trace: a call outside any trace starts no span at all.
   */
  const tracedGetOrSet = <T>(
    key: CacheKey,
    loader: Loader<T>,
    o: GetOrSetOptions<T> | undefined,
    report: { outcome: CacheOutcome } | undefined,
  ): Promise<T> =>
    withChildSpan(tracer, "cache.getOrSet", spanOptions, (span) => {
      if (!span) return reads.getOrSet(key, loader, o, report);
      const seen = report ?? { outcome: "miss" };
      return reads.getOrSet(key, loader, o, seen).then((value) => {
        span.setAttribute("hotpath.cache.outcome", seen.outcome);
        return value;
      });
    });

  return {
    namespace: context.namespace,
    ...plain,
    set: writes.set,
    mset: writes.mset,
    delete: writes.delete,
    invalidateTag: writes.invalidateTag,
    invalidatePattern: writes.invalidatePattern,
    getOrSet: (key, loader, o) => tracedGetOrSet(key, loader, o, undefined),
    getOrSetWithOutcome(key, loader, o) {
      const report: { outcome: CacheOutcome } = { outcome: "miss" };
      return tracedGetOrSet(key, loader, o, report).then((value) => ({
        value,
        outcome: report.outcome,
      }));
    },
    decrement: (key, by = 1, o) => plain.increment(key, -by, o),
    cached(fn, o) {
      const { key, ...rest } = o;
      return (...args) => tracedGetOrSet(key(...args), () => fn(...args), rest, undefined);
    },
    stats() {
      const reads = counts.hits + counts.staleHits + counts.negativeHits + counts.misses;
      return {
        ...counts,
        hitRate: reads === 0 ? 0 : (reads - counts.misses) / reads,
        l1Entries: l1?.size ?? 0,
        l1Bytes: l1?.bytes ?? 0,
      };
    },
    ready: () => coherence.ready(),
    flushMetrics: () => recorder?.flush() ?? Promise.resolve(),
    async close() {
      await coherence.close();
      await recorder?.close();
    },
  };
}
