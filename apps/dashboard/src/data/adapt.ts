/**
 * The one place that knows the API's output shapes: turns `metrics.*`, `leaderboard.top`,
 * `feed.recent` and `jobs.*` outputs into the dashboard's view model (src/model.ts).
 */
import type {
  CachePoint,
  DependencyHealth,
  DlqEntry,
  FeedItem,
  IdentifierCount,
  IdentifierOwner,
  JobsModel,
  JobsPoint,
  KeyUsage,
  LeaderboardEntry,
  Overview,
  RateLimitPoint,
} from "../model.ts";
import { hitRatio, share } from "../shaping/ratios.ts";
import type { ApiOutputs } from "./api-types.ts";

type MetricsOverview = ApiOutputs["metrics"]["overview"];
type TopIdentifiers = ApiOutputs["metrics"]["topIdentifiers"];
type KeyDistribution = ApiOutputs["metrics"]["keyDistribution"];
type LeaderboardTop = ApiOutputs["leaderboard"]["top"];
type FeedRecent = ApiOutputs["feed"]["recent"];
type JobsOverview = ApiOutputs["jobs"]["overview"];
type DlqList = ApiOutputs["jobs"]["dlq"]["list"];

const n = (value: number | undefined): number =>
  typeof value === "number" && Number.isFinite(value) ? value : 0;

/**
 * Cache points per namespace per minute. Negative hits (a cached "not found") are served from the
 * cache, so they count as hits; stale values served while revalidating are `stale`.
 */
export function cachePoints(series: MetricsOverview["cache"]): CachePoint[] {
  const points: CachePoint[] = [];
  for (const [namespace, list] of Object.entries(series)) {
    for (const point of list) {
      const c = point.counters;
      points.push({
        t: point.minute,
        namespace,
        hit: n(c.cache_hits_total) + n(c.cache_negative_hits_total),
        miss: n(c.cache_misses_total),
        stale: n(c.cache_stale_hits_total),
      });
    }
  }
  return points;
}

/** Rate-limit points per policy per minute (fail-open fallback decisions count as allowed). */
export function rateLimitPoints(series: MetricsOverview["rateLimit"]): RateLimitPoint[] {
  const points: RateLimitPoint[] = [];
  for (const [policy, list] of Object.entries(series)) {
    for (const point of list) {
      const c = point.counters;
      points.push({
        t: point.minute,
        policy,
        allowed: n(c.allowed) + n(c.fallback),
        blocked: n(c.blocked),
      });
    }
  }
  return points;
}

function dependency(health: {
  ok: boolean;
  latencyMs: number;
  error?: string | undefined;
}): DependencyHealth {
  return {
    ok: health.ok,
    latencyMs: health.ok ? health.latencyMs : null,
    ...(health.error ? { detail: health.error } : {}),
  };
}

/** The overview cards from the time series totals and the health check. */
export function overviewOf(
  data: MetricsOverview,
  cache: readonly CachePoint[],
  rateLimit: readonly RateLimitPoint[],
): Overview {
  let hit = 0;
  let miss = 0;
  let stale = 0;
  for (const p of cache) {
    hit += p.hit;
    miss += p.miss;
    stale += p.stale;
  }
  let allowed = 0;
  let blocked = 0;
  for (const p of rateLimit) {
    allowed += p.allowed;
    blocked += p.blocked;
  }
  let first = 0;
  let replays = 0;
  let conflicts = 0;
  for (const counters of Object.values(data.idempotency)) {
    first += n(counters.idempotency_first_total);
    replays += n(counters.idempotency_replays_total);
    conflicts += n(counters.idempotency_conflicts_total) + n(counters.idempotency_mismatches_total);
  }
  return {
    cacheHitRatio: hitRatio(hit, miss, stale),
    cacheRequests: hit + miss + stale,
    rateLimitRequests: allowed + blocked,
    blocked,
    blockedShare: share(blocked, allowed + blocked),
    idempotentFirst: first,
    idempotentReplays: replays,
    idempotentConflicts: conflicts,
    redis: dependency(data.health.redis),
    db: dependency(data.health.db),
  };
}

function ownerOf(
  principal: TopIdentifiers["identifiers"][number]["principal"],
): IdentifierOwner | null {
  if (principal === null) return null;
  return principal.kind === "user"
    ? { kind: "user", userId: principal.userId, username: principal.username }
    : { kind: "admin" };
}

/**
 * Top blocked and top allowed identifiers (the API merges both kinds in one list), each with the
 * user (or admin token) the API resolved it to.
 */
export function identifierTops(data: TopIdentifiers): {
  blocked: IdentifierCount[];
  allowed: IdentifierCount[];
} {
  const rows = data.identifiers;
  const row = (r: (typeof rows)[number], count: number): IdentifierCount => ({
    identifier: r.identifier,
    count,
    owner: ownerOf(r.principal),
  });
  return {
    blocked: rows
      .filter((r) => r.blocked > 0)
      .sort((a, b) => b.blocked - a.blocked)
      .map((r) => row(r, r.blocked)),
    allowed: rows
      .filter((r) => r.allowed > 0)
      .sort((a, b) => b.allowed - a.allowed)
      .map((r) => row(r, r.allowed)),
  };
}

/**
 * Key areas with counts from the SCAN sample and memory as the API measured it (`MEMORY USAGE`
 * on a bounded sample per area). Where the API could not measure, memory stays unknown (`null`)
 * and the reason is passed on: never an invented number.
 */
export function keyAreas(data: KeyDistribution): KeyUsage {
  const memory = data.memory;
  return {
    sampled: !data.complete,
    memory: memory.available
      ? { available: true, keysPerArea: memory.keysPerArea }
      : { available: false, reason: memory.reason },
    areas: Object.entries(data.byArea).map(([area, keys]) => {
      const measured = memory.available ? memory.areas[area] : undefined;
      return {
        area,
        keys,
        bytes: measured && measured.measuredKeys > 0 ? measured.estimatedBytes : null,
        measuredKeys: measured?.measuredKeys ?? 0,
      };
    }),
  };
}

/** Leaderboard rows (score in currency units, label = display name, else username, else the id). */
export function leaderboardEntries(data: LeaderboardTop): LeaderboardEntry[] {
  return data.entries.map((e) => ({
    member: String(e.userId),
    label: e.displayName ?? e.username ?? `user ${e.userId}`,
    score: e.cents / 100,
    rank: e.rank,
  }));
}

/** Feed items, newest first, naming users from `names` (user id -> label) when known. */
export function feedItems(data: FeedRecent, names: ReadonlyMap<string, string>): FeedItem[] {
  const who = (id: number) => names.get(String(id)) ?? `user ${id}`;
  return data.entries.map((e) => ({
    id: `tip-${e.tipId}`,
    at: Date.parse(e.at),
    text: `${who(e.fromUserId)} tipped ${who(e.creatorId)} (stream ${e.streamId})`,
    amount: Number(e.amount),
  }));
}

/** The Jobs view from `jobs.overview`: one point per job name per minute, QStash state as reported. */
export function jobsModel(data: JobsOverview): JobsModel {
  const points: JobsPoint[] = [];
  for (const [job, list] of Object.entries(data.series)) {
    for (const point of list) {
      points.push({
        t: point.minute,
        job,
        published: n(point.published),
        delivered: n(point.delivered),
        retried: n(point.retried),
        failed: n(point.failed),
      });
    }
  }
  return {
    points,
    qstash: data.qstash,
    qstashError: data.qstashError,
    schedules: data.schedules,
    dlq: data.dlq,
    outbox: {
      pending: n(data.outbox.pending),
      oldestAgeSeconds: data.outbox.oldestAgeSeconds,
      fanoutPending: n(data.outbox.fanoutPending),
    },
  };
}

/** DLQ rows from `jobs.dlq.list`, newest first. */
export function dlqEntries(data: DlqList): DlqEntry[] {
  return data.messages
    .map((m) => ({
      dlqId: m.dlqId,
      messageId: m.messageId,
      job: m.job,
      createdAt: m.createdAt,
      responseStatus: m.responseStatus,
      responseBody: m.responseBody,
      payload: m.payload,
    }))
    .sort((a, b) => b.createdAt - a.createdAt);
}
