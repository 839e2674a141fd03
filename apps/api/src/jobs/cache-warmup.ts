import { loadCreatorStatus } from "../db/streams.ts";
import { findUserById } from "../db/users.ts";
import type { SqlExecutor } from "../db/database.ts";
import { loadOptionsOf } from "../trpc/middleware/cache.ts";
import type { ApiCache, TipProjections } from "../trpc/deps.ts";
import { STATUS_CACHE } from "../trpc/routers/streams.ts";
import { USER_CACHE } from "../trpc/routers/users.ts";

/** What one warm-up did. */
export interface WarmupReport {
  /** Creators whose entries were warmed (the hottest first). */
  creatorIds: number[];
  /** Entries read or filled (`user:<id>` and `status:<username>` per creator). */
  entries: number;
  /** Entries that were missing and loaded now. */
  loaded: number;
}

/** Options of {@link createCacheWarmup}. */
export interface CacheWarmupOptions {
  db: SqlExecutor;
  cache: ApiCache;
  projections: TipProjections;
  /** How many of the hottest creators. @default 10 */
  creators?: number;
}

/**
 * The cache warm-up: fills the entries of the hottest creators before viewers ask for them.
 * "Hottest" comes from what the API records: the cache's metrics count hits and misses per
 * namespace only (no per-key counts), while the leaderboards rank creators by tips received, so
 * the hottest keys are the `streams.status` and `users.byId` entries of the top creators of the
 * daily board (the all-time board when nobody was tipped today). Each entry is filled through
 * the cache with the procedure's own key, loader and options, so a fresh entry is left alone.
 */
export function createCacheWarmup(options: CacheWarmupOptions): { warm(): Promise<WarmupReport> } {
  const { db, cache, projections } = options;
  const n = options.creators ?? 10;
  return {
    async warm() {
      let top = await projections.top("creators", "daily", n);
      if (top.length === 0) top = await projections.top("creators", "alltime", n);
      const creatorIds = top.map((entry) => Number(entry.member));
      const outcomes: string[] = [];
      await Promise.all(
        creatorIds.map(async (id) => {
          const user = await cache.getOrSet(
            USER_CACHE.namespace,
            USER_CACHE.key({ id }),
            () => findUserById(db, id),
            loadOptionsOf(USER_CACHE),
          );
          outcomes.push(user.outcome);
          if (!user.value) return;
          const { username } = user.value;
          const status = await cache.getOrSet(
            STATUS_CACHE.namespace,
            STATUS_CACHE.key({ username }),
            () => loadCreatorStatus(db, username),
            loadOptionsOf(STATUS_CACHE),
          );
          outcomes.push(status.outcome);
        }),
      );
      return {
        creatorIds,
        entries: outcomes.length,
        loaded: outcomes.filter((outcome) => outcome === "miss").length,
      };
    },
  };
}
