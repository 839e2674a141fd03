/**
 * The dashboard's own view model. Components render only these types; `src/data/adapt.ts` is the one
 * place that turns the API's `RouterOutputs` into them, so a change in the API's shapes touches one file.
 */

/** Time ranges offered by the range selector. */
export const RANGES = ["15m", "1h", "24h"] as const;
/** One of {@link RANGES}. */
export type RangeKey = (typeof RANGES)[number];

/** Length of each range in milliseconds. */
export const RANGE_MS: Record<RangeKey, number> = {
  "15m": 15 * 60_000,
  "1h": 60 * 60_000,
  "24h": 24 * 60 * 60_000,
};

/** Human label of each range. */
export const RANGE_LABEL: Record<RangeKey, string> = {
  "15m": "15 min",
  "1h": "1 hour",
  "24h": "24 hours",
};

/** Health of one dependency as the API saw it. */
export interface DependencyHealth {
  ok: boolean;
  latencyMs: number | null;
  detail?: string;
}

/** The overview cards. Ratios are 0–1, `null` when there were no requests to divide by. */
export interface Overview {
  cacheHitRatio: number | null;
  cacheRequests: number;
  rateLimitRequests: number;
  blocked: number;
  blockedShare: number | null;
  idempotentFirst: number;
  idempotentReplays: number;
  idempotentConflicts: number;
  redis: DependencyHealth;
  db: DependencyHealth;
}

/** Cache outcomes of one namespace in one time bucket. */
export interface CachePoint {
  t: number;
  namespace: string;
  hit: number;
  miss: number;
  stale: number;
}

/** Rate-limit decisions of one policy in one time bucket. */
export interface RateLimitPoint {
  t: number;
  policy: string;
  allowed: number;
  blocked: number;
}

/** One identifier in the top allowed / top blocked tables. */
export interface IdentifierCount {
  identifier: string;
  count: number;
  policy?: string;
}

/** Leaderboard periods. */
export const PERIODS = ["daily", "weekly", "alltime"] as const;
/** One of {@link PERIODS}. */
export type Period = (typeof PERIODS)[number];
/** Human label of each period. */
export const PERIOD_LABEL: Record<Period, string> = {
  daily: "Daily",
  weekly: "Weekly",
  alltime: "All time",
};

/** One row of a leaderboard as the API returns it (rank 1 = top). */
export interface LeaderboardEntry {
  member: string;
  label: string;
  score: number;
  rank: number;
}

/** A leaderboard row with its movement since the previous snapshot (`null` = newly entered). */
export interface RankedEntry extends LeaderboardEntry {
  change: number | null;
}

/** Key count and approximate memory of one key area (`cache`, `rl`, `lb`, …). */
export interface KeyAreaUsage {
  area: string;
  keys: number;
  approxBytes: number;
}

/** One event of the recent activity feed. */
export interface FeedItem {
  id: string;
  at: number;
  text: string;
  amount?: number;
}

/** Everything the page renders for one range. */
export interface DashboardModel {
  overview: Overview;
  cache: CachePoint[];
  rateLimit: RateLimitPoint[];
  bucketMs: number;
  topBlocked: IdentifierCount[];
  topAllowed: IdentifierCount[];
  keys: { areas: KeyAreaUsage[]; sampled: boolean };
}
