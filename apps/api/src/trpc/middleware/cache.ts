import { canonicalJson } from "@hotpath/cache";
import type { CacheLoadOptions, CacheOutcome } from "../deps.ts";
import { middleware } from "../init.ts";

/** Options of {@link cached}. */
export interface CachedOptions {
  /** Cache namespace (first key part after `cache:`), e.g. `user`, `status`. */
  namespace: string;
  /** Fresh lifetime in seconds (also the HTTP max-age). */
  ttl: number;
  /**
   * What the cached value depends on besides path and input: `public` (nobody: shared by all
   * callers) or `user` (the caller's user id is part of the key; the response is private).
   * @default "public"
   */
  vary?: "public" | "user";
  /**
   * Custom key from the validated input, unique within the namespace (so writers can invalidate
   * it, e.g. `user` + `42`). Default: the procedure path + canonical JSON of the whole input.
   */
  key?: (input: unknown) => string;
  /** Stale-while-revalidate window in seconds. */
  staleWhileRevalidate?: number;
  /** Take the distributed lock on a miss (stampede protection). */
  lock?: boolean;
  /** Cache "not found" (loader returned null) for this many seconds. */
  negativeTtl?: number;
}

/**
 * The cache options of a {@link cached} procedure as the cache takes them: whoever fills the
 * same entry outside a request (the warm-up job) stores it exactly as the procedure would.
 */
export function loadOptionsOf(options: CachedOptions): CacheLoadOptions {
  return {
    ttlSeconds: options.ttl,
    ...(options.staleWhileRevalidate !== undefined
      ? { staleWhileRevalidateSeconds: options.staleWhileRevalidate }
      : {}),
    ...(options.lock !== undefined ? { lock: options.lock } : {}),
    ...(options.negativeTtl !== undefined ? { negativeTtlSeconds: options.negativeTtl } : {}),
  };
}

/** Canonical JSON (keys sorted at every depth): `{a,b}` and `{b,a}` share a key. One copy, from the cache. */
export { canonicalJson };

/**
 * Read-through caching for a query. The key is the procedure path + the validated input (or
 * `key(input)`) + the user id when `vary: "user"`, so per-user data is never served to another
 * user. The resolver calls `ctx.cached(load)`; whatever it computes outside that call (e.g. a
 * per-user access check) is never cached. Sets `Cache-Control` (public / private, max-age) and
 * `Vary`, and `X-Cache: hit|miss|stale|negative|bypass|coalesced` (as the cache reports it).
 * Place it after `.input()` so it sees the validated input.
 */
export function cached(options: CachedOptions) {
  return middleware(async ({ ctx, path, input, next }) => {
    const vary = options.vary ?? "public";
    let userPart = "";
    if (vary === "user") {
      const principal = await ctx.principal();
      userPart =
        principal.kind === "user"
          ? `|u${principal.userId}`
          : principal.kind === "admin"
            ? "|admin"
            : "|anon";
      ctx.cachePolicy.scope = "private";
      ctx.cachePolicy.vary.add("Cookie").add("Authorization");
    }
    ctx.cachePolicy.cachedCalls += 1;
    ctx.cachePolicy.maxAgeSeconds = Math.min(ctx.cachePolicy.maxAgeSeconds, options.ttl);
    const key = `${options.key ? options.key(input) : `${path}|${canonicalJson(input)}`}${userPart}`;
    const loadOptions = loadOptionsOf(options);
    const outcomes: CacheOutcome[] = [];
    const cachedLoad = async <T>(
      load: () => Promise<T>,
      extra: { tags?: readonly string[] } = {},
    ): Promise<T> => {
      const { value, outcome } = await ctx.deps.cache.getOrSet(options.namespace, key, load, {
        ...loadOptions,
        ...extra,
      });
      outcomes.push(outcome);
      ctx.resHeaders.set("X-Cache", outcome);
      return value;
    };
    return next({ ctx: { cached: cachedLoad, cacheKey: key, cacheOutcomes: outcomes } });
  });
}
