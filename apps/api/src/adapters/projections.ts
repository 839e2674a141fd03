import { createKeyspace, isoWeekStamp, utcDayStamp } from "@hotpath/config";
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

/** Options of {@link createTipProjections}. */
export interface TipProjectionsOptions {
  redis: Redis;
  app: string;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

/**
 * Tip projections in Redis, written in ONE pipeline per tip: ZINCRBY on the creators and
 * tippers boards (daily `lb:<board>:daily:<YYYYMMDD>`, weekly `lb:<board>:weekly:<YYYY-Www>`,
 * all-time `lb:<board>:alltime`), HINCRBY on the creator's day bucket of the 30-day counter
 * (`count:tips:<creator>:<YYYYMMDD>`, expires after 31 days), LPUSH + LTRIM on the activity
 * feeds of the creator, the tipper and everyone. Scores are integer cents (exact).
 */
export function createTipProjections(options: TipProjectionsOptions): TipProjections {
  const keys = createKeyspace(options.app);
  const now = options.now ?? Date.now;
  const boardKey = (board: LeaderboardBoard, period: LeaderboardPeriod, at: number) =>
    period === "alltime"
      ? keys.key("lb", board, "alltime")
      : period === "daily"
        ? keys.key("lb", board, "daily", dayOf(at))
        : keys.key("lb", board, "weekly", isoWeekOf(at));
  const feedKey = (userId: number) =>
    userId === 0 ? keys.key("feed", "global") : keys.key("feed", "user", userId);
  const counterKey = (creatorId: number, day: string) => keys.key("count", "tips", creatorId, day);

  return {
    async apply(tip) {
      const at = Date.parse(tip.createdAt) || now();
      const entry: FeedEntry = {
        type: "tip",
        tipId: tip.id,
        streamId: tip.streamId,
        creatorId: tip.creatorId,
        fromUserId: tip.fromUserId,
        amount: (tip.amountCents / 100).toFixed(2),
        at: tip.createdAt,
      };
      const text = JSON.stringify(entry);
      const pipeline = options.redis.pipeline();
      for (const [board, member] of [
        ["creators", tip.creatorId],
        ["tippers", tip.fromUserId],
      ] as const) {
        for (const period of ["daily", "weekly", "alltime"] as const) {
          const key = boardKey(board, period, at);
          pipeline.zincrby(key, tip.amountCents, String(member));
          if (period === "daily") pipeline.expire(key, 3 * 86_400);
          if (period === "weekly") pipeline.expire(key, 15 * 86_400);
        }
      }
      const counter = counterKey(tip.creatorId, dayOf(at));
      pipeline.hincrby(counter, "n", 1);
      pipeline.hincrby(counter, "cents", tip.amountCents);
      pipeline.expire(counter, 31 * 86_400);
      for (const userId of [tip.creatorId, tip.fromUserId, 0]) {
        pipeline.lpush(feedKey(userId), text);
        pipeline.ltrim(feedKey(userId), 0, FEED_LENGTH - 1);
      }
      await pipeline.exec();
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
      const items = await options.redis.lrange<unknown>(feedKey(userId), 0, n - 1);
      const entries: FeedEntry[] = [];
      for (const item of items) {
        const parsed = feedEntrySchema.safeParse(typeof item === "string" ? safeJson(item) : item);
        if (parsed.success) entries.push(parsed.data);
      }
      return entries;
    },

    async tips30d(creatorId) {
      const pipeline = options.redis.pipeline();
      const today = now();
      for (let i = 0; i < 30; i++)
        pipeline.hmget(counterKey(creatorId, dayOf(today - i * DAY_MS)), "n", "cents");
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
