import { createKeyspace, isoWeekStamp, utcDayStamp } from "@hotpath/config";
import { nameScript } from "@hotpath/redis/tracing";
import type { Redis } from "@upstash/redis";
import { z } from "zod";
import type {
  FeedEntry,
  LeaderboardBoard,
  LeaderboardPeriod,
  TipProjections,
} from "../trpc/deps.ts";

/** Entries kept per activity feed. */
export const FEED_LENGTH = 100;
const DAY_MS = 86_400_000;

/** `YYYYMMDD` (UTC) of a timestamp (the daily boards' key part). */
export function dayOf(ms: number): string {
  return utcDayStamp(ms);
}

/** ISO week `YYYY-Www` (UTC) of a timestamp (the weekly boards' key part). */
export function isoWeekOf(ms: number): string {
  return isoWeekStamp(ms, "-W");
}

const feedEntrySchema = z.object({
  type: z.literal("tip"),
  tipId: z.number(),
  streamId: z.number(),
  creatorId: z.number(),
  fromUserId: z.number(),
  amount: z.string(),
  at: z.string(),
});

/** Seconds a daily / weekly board is kept after its last write. */
export const BOARD_TTL_SECONDS = { daily: 3 * 86_400, weekly: 15 * 86_400 } as const;

/**
 * Key of a leaderboard: `lb:<board>:daily:<YYYYMMDD>`, `lb:<board>:weekly:<YYYY-Www>` (the
 * period holding `at`, UTC) or `lb:<board>:alltime`.
 */
export function leaderboardKey(
  app: string,
  board: LeaderboardBoard,
  period: LeaderboardPeriod,
  at: number,
): string {
  const keys = createKeyspace(app);
  return period === "alltime"
    ? keys.key("lb", board, "alltime")
    : period === "daily"
      ? keys.key("lb", board, "daily", dayOf(at))
      : keys.key("lb", board, "weekly", isoWeekOf(at));
}

/** How long the "applied" marker of a tip is kept: longer than any redelivery or relay. */
export const APPLIED_MARKER_TTL_SECONDS = 40 * 86_400;
/** Days the 30-day counter sums (today and the 29 before, UTC). */
export const COUNTER_DAYS = 30;
/** Seconds a day bucket of the 30-day counter is kept after its last write. */
export const COUNTER_TTL_SECONDS = 31 * 86_400;

/** Key of a user's activity feed (`feed:user:<id>`), or of everyone's (`userId` 0: `feed:global`). */
export function feedKey(app: string, userId: number): string {
  const keys = createKeyspace(app);
  return userId === 0 ? keys.key("feed", "global") : keys.key("feed", "user", userId);
}

/** Key of a creator's day bucket of the 30-day counter: `count:tips:<creator>:<YYYYMMDD>` (hash n, cents). */
export function tipCounterKey(app: string, creatorId: number, day: string): string {
  return createKeyspace(app).key("count", "tips", creatorId, day);
}

/** Key of the marker saying a tip's projections were applied (`count:tip-applied:<id>`). */
export function tipAppliedKey(app: string, tipId: number): string {
  return createKeyspace(app).key("count", "tip-applied", tipId);
}

/** The activity-feed entry of a tip (the JSON text pushed on the feeds; rebuilds write the same). */
export function feedEntryOf(tip: {
  id: number;
  streamId: number;
  creatorId: number;
  fromUserId: number;
  amountCents: number;
  createdAt: string;
}): FeedEntry {
  return {
    type: "tip",
    tipId: tip.id,
    streamId: tip.streamId,
    creatorId: tip.creatorId,
    fromUserId: tip.fromUserId,
    amount: (tip.amountCents / 100).toFixed(2),
    at: tip.createdAt,
  };
}

/** Parses a feed item as read back from Redis (JSON text or already parsed); undefined when invalid. */
export function parseFeedEntry(item: unknown): FeedEntry | undefined {
  const parsed = feedEntrySchema.safeParse(typeof item === "string" ? safeJson(item) : item);
  return parsed.success ? parsed.data : undefined;
}

/**
 * Applies one tip at most once: the marker (SET NX) and every increment run in ONE script, so a
 * second apply of the same tip (a redelivered job, the relay, a retry after a timeout whose
 * first try did land) changes nothing. Returns 1 when applied, 0 when the marker was there.
 * KEYS: marker, creators daily/weekly/alltime, tippers daily/weekly/alltime, 30-day counter
 * bucket, creator feed, tipper feed, global feed.
 * ARGV: marker ttl, cents, creator, tipper, daily ttl, weekly ttl, counter ttl, feed entry, feed length.
 */
const APPLY_TIP_SCRIPT = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
for i = 2, 4 do redis.call('ZINCRBY', KEYS[i], ARGV[2], ARGV[3]) end
for i = 5, 7 do redis.call('ZINCRBY', KEYS[i], ARGV[2], ARGV[4]) end
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('EXPIRE', KEYS[5], ARGV[5])
redis.call('EXPIRE', KEYS[3], ARGV[6])
redis.call('EXPIRE', KEYS[6], ARGV[6])
redis.call('HINCRBY', KEYS[8], 'n', 1)
redis.call('HINCRBY', KEYS[8], 'cents', ARGV[2])
redis.call('EXPIRE', KEYS[8], ARGV[7])
for i = 9, 11 do
  redis.call('LPUSH', KEYS[i], ARGV[8])
  redis.call('LTRIM', KEYS[i], 0, tonumber(ARGV[9]) - 1)
end
return 1
`;
// Traces show its round trips as `EVALSHA tip.apply`.
void nameScript(APPLY_TIP_SCRIPT, "tip.apply");

/** Options of {@link createTipProjections}. */
export interface TipProjectionsOptions {
  redis: Redis;
  app: string;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

/**
 * Tip projections in Redis, written by ONE script per tip, at most once per tip id: ZINCRBY on the creators and
 * tippers boards (daily `lb:<board>:daily:<YYYYMMDD>`, weekly `lb:<board>:weekly:<YYYY-Www>`,
 * all-time `lb:<board>:alltime`), HINCRBY on the creator's day bucket of the 30-day counter
 * (`count:tips:<creator>:<YYYYMMDD>`, expires after 31 days), LPUSH + LTRIM on the activity
 * feeds of the creator, the tipper and everyone. Scores are integer cents (exact).
 */
export function createTipProjections(options: TipProjectionsOptions): TipProjections {
  const { app } = options;
  const now = options.now ?? Date.now;
  const boardKey = (board: LeaderboardBoard, period: LeaderboardPeriod, at: number) =>
    leaderboardKey(app, board, period, at);
  const applyScript = options.redis.createScript<number>(APPLY_TIP_SCRIPT);

  return {
    async apply(tip) {
      const at = Date.parse(tip.createdAt) || now();
      const entry = feedEntryOf(tip);
      const keysOfScript = [
        tipAppliedKey(app, tip.id),
        boardKey("creators", "daily", at),
        boardKey("creators", "weekly", at),
        boardKey("creators", "alltime", at),
        boardKey("tippers", "daily", at),
        boardKey("tippers", "weekly", at),
        boardKey("tippers", "alltime", at),
        tipCounterKey(app, tip.creatorId, dayOf(at)),
        feedKey(app, tip.creatorId),
        feedKey(app, tip.fromUserId),
        feedKey(app, 0),
      ];
      // EVALSHA first (the script text travels only when Redis does not know it yet).
      const applied = await applyScript.exec(keysOfScript, [
        String(APPLIED_MARKER_TTL_SECONDS),
        String(tip.amountCents),
        String(tip.creatorId),
        String(tip.fromUserId),
        String(BOARD_TTL_SECONDS.daily),
        String(BOARD_TTL_SECONDS.weekly),
        String(COUNTER_TTL_SECONDS),
        JSON.stringify(entry),
        String(FEED_LENGTH),
      ]);
      return Number(applied) === 1;
    },

    async top(board, period, n) {
      const list = await options.redis.zrange<unknown[]>(boardKey(board, period, now()), 0, n - 1, {
        rev: true,
        withScores: true,
      });
      const entries: { member: string; score: number }[] = [];
      for (let i = 0; i + 1 < list.length; i += 2)
        entries.push({ member: String(list[i]), score: Number(list[i + 1]) });
      return entries;
    },

    async rank(board, period, member) {
      const key = boardKey(board, period, now());
      const pipeline = options.redis.pipeline();
      pipeline.zrevrank(key, member);
      pipeline.zscore(key, member);
      const [rank, score] = await pipeline.exec<[number | null, number | string | null]>();
      if (rank === null || score === null) return null;
      return { rank: rank + 1, score: Number(score) };
    },

    async recent(userId, n) {
      const items = await options.redis.lrange<unknown>(feedKey(app, userId), 0, n - 1);
      const entries: FeedEntry[] = [];
      for (const item of items) {
        const entry = parseFeedEntry(item);
        if (entry) entries.push(entry);
      }
      return entries;
    },

    async tips30d(creatorId) {
      const pipeline = options.redis.pipeline();
      const today = now();
      for (let i = 0; i < COUNTER_DAYS; i++)
        pipeline.hmget(tipCounterKey(app, creatorId, dayOf(today - i * DAY_MS)), "n", "cents");
      const rows = await pipeline.exec<(Record<string, unknown> | null)[]>();
      let count = 0;
      let cents = 0;
      for (const row of rows) {
        count += Number(row?.n ?? 0) || 0;
        cents += Number(row?.cents ?? 0) || 0;
      }
      return { count, cents };
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
