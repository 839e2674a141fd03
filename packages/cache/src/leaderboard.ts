import { buildKey, hashTag, isoWeekStamp, utcDayStamp, type KeyPart } from "@hotpath/config";
import { CacheError } from "./errors.ts";
import {
  asNumber,
  asString,
  createWire,
  defineScript,
  type PipelineItem,
  type RedisClient,
} from "./wire.ts";

/** Time buckets a leaderboard can keep besides its all-time board. */
export type LeaderboardPeriod = "daily" | "weekly";

/** One ranked member. */
export interface RankedMember {
  member: string;
  score: number;
  /** 1-based, highest score first. */
  rank: number;
}

/** Options of {@link createLeaderboard}. */
export interface LeaderboardOptions {
  redis: RedisClient;
  /** @default "hotpath" */
  app?: string;
  /** Board name (a key part), e.g. "tips". */
  name: KeyPart;
  /** Also keep daily and/or weekly boards (UTC), updated in the same round trip. */
  periods?: readonly LeaderboardPeriod[];
  /** How long time-bucketed boards live. @default 8 days (daily), 5 weeks (weekly) */
  retentionSeconds?: Partial<Record<LeaderboardPeriod, number>>;
  /** @default 1000 */
  timeoutMs?: number;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

/** Which board a read looks at: all-time, the current day/week, or the last N days merged. */
export type BoardSelector =
  { period?: undefined } | { period: LeaderboardPeriod; at?: number } | { lastDays: number };

/** A sorted-set leaderboard (highest first) with optional daily/weekly boards merged via ZUNIONSTORE. */
export interface Leaderboard {
  /** Sets a member's score (all boards). */
  add(member: string, score: number): Promise<void>;
  /** Adds to a member's score (all boards, one round trip); returns the all-time score. */
  increment(member: string, by: number): Promise<number>;
  /** The best `n` (with scores unless `withScores: false`). */
  top(n: number, options?: { withScores?: boolean } & BoardSelector): Promise<RankedMember[]>;
  /** 1-based rank (highest first) or null. */
  rank(member: string, options?: BoardSelector): Promise<number | null>;
  /** The member's score or null. */
  score(member: string, options?: BoardSelector): Promise<number | null>;
  /** The `n` members above and below `member` (and it), or [] when it is absent. */
  around(member: string, n: number, options?: BoardSelector): Promise<RankedMember[]>;
  /** Removes a member from every board. */
  remove(member: string): Promise<void>;
}

const DAY_MS = 86_400_000;
/** How long a merged "last N days" board is reused before it is rebuilt. */
const MERGED_TTL_MS = 5000;

/** Builds a merged board unless a fresh one exists. KEYS: dest, sources… ARGV: px. */
const MERGE_SCRIPT = defineScript(
  `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('ZUNIONSTORE', KEYS[1], #KEYS - 1, unpack(KEYS, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`,
  "leaderboard.merge",
);

/** Creates a {@link Leaderboard}. */
export function createLeaderboard(options: LeaderboardOptions): Leaderboard {
  const app = options.app ?? "hotpath";
  const wire = createWire(options.redis, options.timeoutMs ?? 1000);
  const now = options.now ?? Date.now;
  const periods = options.periods ?? [];
  const retention = { daily: 8 * 86_400, weekly: 35 * 86_400, ...options.retentionSeconds };
  // One hash tag per board: its all-time, period and merged sets are in one cluster slot, so the
  // merge script may read the days it unions.
  const board = hashTag(options.name);
  const allKey = buildKey(app, "lb", board, "all");
  const periodKey = (period: LeaderboardPeriod, at: number) =>
    period === "daily"
      ? buildKey(app, "lb", board, "d", utcDayStamp(at))
      : buildKey(app, "lb", board, "w", isoWeekStamp(at));

  const writeTargets = (): { key: string; ttl?: number }[] => [
    { key: allKey },
    ...periods.map((period) => ({ key: periodKey(period, now()), ttl: retention[period] })),
  ];

  const check = async (items: PipelineItem[]) => {
    const replies = await wire.pipeline(items);
    const failed = replies.find((reply) => !reply.ok);
    if (failed && !failed.ok) throw new CacheError("CACHE_REDIS_ERROR", failed.error);
    return replies.map((reply) => (reply.ok ? reply.value : null));
  };

  /** Resolves a selector to a key (merging the last N days into a short-lived key when asked). */
  const boardKey = async (selector: BoardSelector | undefined): Promise<string> => {
    if (!selector) return allKey;
    if ("lastDays" in selector) {
      const days = Math.max(1, Math.min(366, Math.floor(selector.lastDays)));
      const sources = Array.from({ length: days }, (_, i) =>
        periodKey("daily", now() - i * DAY_MS),
      );
      // One merged board per (N days, today), rebuilt when it has expired: reads within its
      // short life share it instead of each creating a key.
      const dest = buildKey(app, "lb", board, "merged", `${days}d`, utcDayStamp(now()));
      await wire.script(MERGE_SCRIPT, [dest, ...sources], [MERGED_TTL_MS]);
      return dest;
    }
    if (selector.period === undefined) return allKey;
    return periodKey(selector.period, selector.at ?? now());
  };

  const parseRange = (flat: unknown, firstRank: number): RankedMember[] => {
    const values = (flat as unknown[] | null) ?? [];
    const out: RankedMember[] = [];
    for (let i = 0; i + 1 < values.length; i += 2) {
      out.push({
        member: String(asString(values[i])),
        score: asNumber(values[i + 1]),
        rank: firstRank + i / 2,
      });
    }
    return out;
  };

  return {
    async add(member, score) {
      await check(
        writeTargets().flatMap(({ key, ttl }) => [
          ["ZADD", key, String(score), member],
          ...(ttl ? [["EXPIRE", key, String(ttl)]] : []),
        ]),
      );
    },
    async increment(member, by) {
      const replies = await check(
        writeTargets().flatMap(({ key, ttl }) => [
          ["ZINCRBY", key, String(by), member],
          ...(ttl ? [["EXPIRE", key, String(ttl)]] : []),
        ]),
      );
      return asNumber(replies[0]);
    },
    async top(n, o = {}) {
      const key = await boardKey(o);
      const count = Math.max(1, Math.floor(n));
      if (o.withScores === false) {
        const members =
          ((await wire.command(["ZREVRANGE", key, "0", String(count - 1)])) as unknown[] | null) ??
          [];
        return members.map((member, i) => ({
          member: String(member),
          score: Number.NaN,
          rank: i + 1,
        }));
      }
      return parseRange(
        await wire.command(["ZREVRANGE", key, "0", String(count - 1), "WITHSCORES"]),
        1,
      );
    },
    async rank(member, o) {
      const rank = await wire.command(["ZREVRANK", await boardKey(o), member]);
      return rank === null ? null : asNumber(rank) + 1;
    },
    async score(member, o) {
      const score = await wire.command(["ZSCORE", await boardKey(o), member]);
      return score === null ? null : asNumber(score);
    },
    async around(member, n, o) {
      const key = await boardKey(o);
      const rank = await wire.command(["ZREVRANK", key, member]);
      if (rank === null) return [];
      const start = Math.max(0, asNumber(rank) - Math.max(0, Math.floor(n)));
      const stop = asNumber(rank) + Math.max(0, Math.floor(n));
      return parseRange(
        await wire.command(["ZREVRANGE", key, String(start), String(stop), "WITHSCORES"]),
        start + 1,
      );
    },
    async remove(member) {
      await check(writeTargets().map(({ key }) => ["ZREM", key, member]));
    },
  };
}
