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

/** Who a hashed rate-limit identifier belongs to, as the API resolved it for the admin. */
export type IdentifierOwner =
  { kind: "user"; userId: number; username: string } | { kind: "admin" };

/** One identifier in the top allowed / top blocked tables. */
export interface IdentifierCount {
  identifier: string;
  count: number;
  policy?: string;
  /** The known principal behind the hash; `null` when the API does not know it. */
  owner?: IdentifierOwner | null;
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

/** Key count and measured memory of one key area (`cache`, `rl`, `lb`, …). */
export interface KeyAreaUsage {
  area: string;
  keys: number;
  /**
   * `MEMORY USAGE` of the area's measured keys, extrapolated to its keys in the sample; `null`
   * when nothing of the area was measured (memory not available, or its keys expired meanwhile).
   */
  bytes: number | null;
  /** Keys of the area measured with `MEMORY USAGE`. */
  measuredKeys: number;
}

/** Whether memory per area was measured, or why not (e.g. a REST transport refusing MEMORY USAGE). */
export type KeyMemory =
  { available: true; keysPerArea: number } | { available: false; reason: string };

/** The key distribution panel: areas, whether SCAN stopped at its bound, and the memory status. */
export interface KeyUsage {
  areas: KeyAreaUsage[];
  /** True when SCAN stopped at its bound (counts are from a sample). */
  sampled: boolean;
  memory: KeyMemory;
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
  /** Undefined until the key distribution (a slower, cached read) has answered. */
  keys: KeyUsage | undefined;
}

/** Job counters of one job name in one time bucket. */
export interface JobsPoint {
  t: number;
  job: string;
  published: number;
  delivered: number;
  retried: number;
  failed: number;
}

/** Outcome of a schedule's last firing, as QStash reports it. */
export type ScheduleState = "IN_PROGRESS" | "SUCCESS" | "FAIL";

/** One QStash schedule of the API's jobs. */
export interface JobSchedule {
  scheduleId: string;
  /** The job its messages run (`null`: not one of the API's jobs). */
  job: string | null;
  cron: string;
  paused: boolean;
  lastRunAt: number | null;
  nextRunAt: number | null;
  lastState: ScheduleState | null;
}

/** One dead-lettered message (every retry exhausted). */
export interface DlqEntry {
  dlqId: string;
  messageId: string;
  job: string | null;
  createdAt: number;
  /** Status of the last failed delivery (`null`: no HTTP answer at all). */
  responseStatus: number | null;
  responseBody: string | null;
  payload: string | null;
}

/** Everything the Jobs view renders for one range. */
export interface JobsModel {
  points: JobsPoint[];
  /** False when the API runs without QStash (no schedules, no DLQ). */
  qstash: boolean;
  /** Why QStash could not be asked (schedules and DLQ size unknown), else `null`. */
  qstashError: string | null;
  /** `null` when unknown (no QStash, or it did not answer). */
  schedules: JobSchedule[] | null;
  /** `more`: the API stopped counting at its limit. `null` when unknown. */
  dlq: { size: number; more: boolean } | null;
  /**
   * `pending`: outbox rows whose projections are not applied yet (`oldestAgeSeconds` of the
   * oldest, `null` when none); `fanoutPending`: tips whose followers are not notified yet.
   */
  outbox: { pending: number; oldestAgeSeconds: number | null; fanoutPending: number };
}
