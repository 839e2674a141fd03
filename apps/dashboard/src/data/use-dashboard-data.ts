import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useRef } from "react";
import {
  RANGE_MS,
  type DashboardModel,
  type FeedItem,
  type Period,
  type RangeKey,
  type RankedEntry,
} from "../model.ts";
import { bucketWidth } from "../shaping/time-buckets.ts";
import {
  cachePoints,
  feedItems,
  identifierTops,
  keyAreas,
  leaderboardEntries,
  overviewOf,
  rateLimitPoints,
} from "./adapt.ts";
import { classifyError, worstProblem, type Problem } from "./errors.ts";
import { metricsRefreshMs } from "./refresh.ts";
import { useTRPC } from "./trpc.ts";
import { useRankChanges } from "./use-rank-changes.ts";

/** The API's counters are per minute. */
const SOURCE_STEP_MS = 60_000;
/** Key distribution is a SCAN sample the API caches for 30 s: no point asking more often. */
const KEYS_REFRESH_MS = 30_000;
/** User names for the feed come from the all-time tippers board, refreshed now and then. */
const NAMES_REFRESH_MS = 30_000;

/** Options of {@link useDashboardData}. */
export interface DashboardDataOptions {
  range: RangeKey;
  period: Period;
  pollIntervalMs: number;
  /** False until an admin token is known. */
  enabled: boolean;
}

/** What the page renders: the view model, leaderboard, feed, freshness and the worst problem. */
export interface DashboardData {
  model: DashboardModel | undefined;
  leaderboard: RankedEntry[] | undefined;
  feed: FeedItem[] | undefined;
  problem: Problem | null;
  /** Epoch ms of the last successful metrics refresh (0 = none yet). */
  updatedAt: number;
  fetching: boolean;
}

function problemOf(query: { isError: boolean; error: unknown }): Problem | null {
  return query.isError ? classifyError(query.error) : null;
}

/**
 * Polls the API (one batched HTTP request per refresh) and shapes the answers. Previous data is
 * kept while a new range loads and while the API is down, so nothing flickers or blanks out.
 */
export function useDashboardData({
  range,
  period,
  pollIntervalMs,
  enabled,
}: DashboardDataOptions): DashboardData {
  const trpc = useTRPC();
  const minutes = RANGE_MS[range] / 60_000;
  const live = {
    enabled,
    refetchInterval: pollIntervalMs,
    placeholderData: keepPreviousData,
  } as const;

  const series = { ...live, refetchInterval: metricsRefreshMs(range, pollIntervalMs) } as const;

  const overview = useQuery({ ...trpc.metrics.overview.queryOptions({ minutes }), ...series });
  const tops = useQuery({
    ...trpc.metrics.topIdentifiers.queryOptions({ minutes, n: 10 }),
    ...series,
  });
  const keys = useQuery({
    ...trpc.metrics.keyDistribution.queryOptions({}),
    enabled,
    refetchInterval: KEYS_REFRESH_MS,
    placeholderData: keepPreviousData,
  });
  const board = useQuery({
    ...trpc.leaderboard.top.queryOptions({ board: "creators", period, n: 10 }),
    ...live,
  });
  const feed = useQuery({ ...trpc.feed.recent.queryOptions({ n: 20 }), ...live });
  // Names for the feed (tippers are not on the creators board); names change rarely.
  const tippers = useQuery({
    ...trpc.leaderboard.top.queryOptions({ board: "tippers", period: "alltime", n: 100 }),
    enabled,
    refetchInterval: NAMES_REFRESH_MS,
    placeholderData: keepPreviousData,
  });

  const model = useMemo<DashboardModel | undefined>(() => {
    if (!overview.data) return undefined;
    const cache = cachePoints(overview.data.cache);
    const rateLimit = rateLimitPoints(overview.data.rateLimit);
    const top = tops.data ? identifierTops(tops.data) : undefined;
    return {
      overview: overviewOf(overview.data, cache, rateLimit),
      cache,
      rateLimit,
      bucketMs: bucketWidth(overview.data.minutes * 60_000, SOURCE_STEP_MS),
      topBlocked: top?.blocked ?? [],
      topAllowed: top?.allowed ?? [],
      keys: keys.data ? keyAreas(keys.data) : undefined,
    };
  }, [overview.data, tops.data, keys.data]);

  const entries = useMemo(
    () => (board.data ? leaderboardEntries(board.data) : undefined),
    [board.data],
  );
  const leaderboard = useRankChanges(period, entries);

  const names = useMemo(
    () =>
      new Map(
        [...(tippers.data ? leaderboardEntries(tippers.data) : []), ...(entries ?? [])].map((e) => [
          e.member,
          e.label,
        ]),
      ),
    [entries, tippers.data],
  );
  const items = useMemo(
    () => (feed.data ? feedItems(feed.data, names) : undefined),
    [feed.data, names],
  );

  // Freshness of the page: the newest real (not placeholder) answer of the live queries.
  const lastGood = useRef(0);
  for (const query of [overview, board, feed]) {
    if (query.isSuccess && !query.isPlaceholderData) {
      lastGood.current = Math.max(lastGood.current, query.dataUpdatedAt);
    }
  }
  // Recovery: once the API answers again, re-ask every query still in error at once instead of
  // waiting for its own (possibly 60 s) interval, so the banner goes away with the first answer.
  const errored = [overview, tops, keys, board, feed, tippers].filter((query) => query.isError);
  const latestSuccess = lastGood.current;
  useEffect(() => {
    for (const query of errored) {
      if (query.errorUpdatedAt < latestSuccess) void query.refetch();
    }
    // Only a newer success triggers it (the errored list of that render is the one to retry).
  }, [latestSuccess]);

  return {
    model,
    leaderboard,
    feed: items,
    problem: worstProblem([
      problemOf(overview),
      problemOf(tops),
      problemOf(keys),
      problemOf(board),
      problemOf(feed),
    ]),
    updatedAt: lastGood.current,
    fetching: overview.isFetching || board.isFetching || feed.isFetching,
  };
}
