import { createKeyspace, isoWeekStamp, utcDayStamp, type HashTag } from "@hotpath/config";
import { nameScript } from "@hotpath/redis/tracing";
import type { Redis } from "@upstash/redis";
import { z } from "zod";
import type {
  FeedEntry,
  LeaderboardBoard,
  LeaderboardPeriod,
  TipProjections,
} from "../trpc/deps.ts";
import { boardTag, feedTag, tipAppliedKey, userTag } from "./projection-groups.ts";

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
 * Key of a leaderboard: `lb:{<board>}:daily:<YYYYMMDD>`, `lb:{<board>}:weekly:<YYYY-Www>` (the
 * period holding `at`, UTC) or `lb:{<board>}:alltime`: a board's periods share its hash tag.
 */
export function leaderboardKey(
  app: string,
  board: LeaderboardBoard,
  period: LeaderboardPeriod,
  at: number,
): string {
  const keys = createKeyspace(app);
  const tag = boardTag(board);
  return period === "alltime"
    ? keys.key("lb", tag, "alltime")
    : period === "daily"
      ? keys.key("lb", tag, "daily", dayOf(at))
      : keys.key("lb", tag, "weekly", isoWeekOf(at));
}

/** How long the "applied" marker of a tip is kept: longer than any redelivery or relay. */
export const APPLIED_MARKER_TTL_SECONDS = 40 * 86_400;
/** Days the 30-day counter sums (today and the 29 before, UTC). */
export const COUNTER_DAYS = 30;
/** Seconds a day bucket of the 30-day counter is kept after its last write. */
export const COUNTER_TTL_SECONDS = 31 * 86_400;

/** Key of a user's activity feed (`feed:{user:<id>}`), or of everyone's (`userId` 0: `feed:{global}`). */
export function feedKey(app: string, userId: number): string {
  return createKeyspace(app).key("feed", feedTag(userId));
}

/**
 * Key of a creator's day bucket of the 30-day counter: `count:tips:{user:<creator>}:<YYYYMMDD>`
 * (hash n, cents), in the creator's slot.
 */
export function tipCounterKey(app: string, creatorId: number, day: string): string {
  return createKeyspace(app).key("count", "tips", userTag(creatorId), day);
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
 * Applies one tip to ONE slot group at most once: the group's marker (SET NX) and the group's
 * writes run in one script, so a second apply of the same tip (a redelivered job, the relay, a
 * retry after a timeout whose first try did land) changes nothing in that group. Returns 1 when
 * applied, 0 when the marker was there.
 * KEYS: marker, then the group's projection keys.
 * ARGV: marker ttl, cents, feed entry, feed length, then per projection key a triple: kind
 * (`z` ZINCRBY member by cents, `h` counter bucket n+1 / cents, `l` LPUSH entry + LTRIM), member
 * (`z` only), ttl in seconds (0: none).
 */
const APPLY_TIP_SCRIPT = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
for i = 2, #KEYS do
  local at = 5 + (i - 2) * 3
  local kind = ARGV[at]
  if kind == 'z' then
    redis.call('ZINCRBY', KEYS[i], ARGV[2], ARGV[at + 1])
  elseif kind == 'h' then
    redis.call('HINCRBY', KEYS[i], 'n', 1)
    redis.call('HINCRBY', KEYS[i], 'cents', ARGV[2])
  else
    redis.call('LPUSH', KEYS[i], ARGV[3])
    redis.call('LTRIM', KEYS[i], 0, tonumber(ARGV[4]) - 1)
  end
  local ttl = tonumber(ARGV[at + 2])
  if ttl > 0 then redis.call('EXPIRE', KEYS[i], ttl) end
end
return 1
`;
// Traces show its round trips as `EVALSHA tip.apply` (one per slot group of a tip).
void nameScript(APPLY_TIP_SCRIPT, "tip.apply");

/** One write of a tip's apply: a projection key, what to do to it, and its TTL (0: none). */
interface ProjectionWrite {
  tag: HashTag;
  key: string;
  kind: "z" | "h" | "l";
  member: string;
  ttlSeconds: number;
}

/** Every write of one tip, each with the hash tag of its group (see projection-groups.ts). */
function writesOf(app: string, tip: Parameters<TipProjections["apply"]>[0], at: number) {
  const writes: ProjectionWrite[] = [];
  const boards: [LeaderboardBoard, number][] = [
    ["creators", tip.creatorId],
    ["tippers", tip.fromUserId],
  ];
  for (const [board, member] of boards)
    for (const period of ["daily", "weekly", "alltime"] as const)
      writes.push({
        tag: boardTag(board),
        key: leaderboardKey(app, board, period, at),
        kind: "z",
        member: String(member),
        ttlSeconds: period === "alltime" ? 0 : BOARD_TTL_SECONDS[period],
      });
  const counter = tipCounterKey(app, tip.creatorId, dayOf(at));
  writes.push({
    tag: userTag(tip.creatorId),
    key: counter,
    kind: "h",
    member: "",
    ttlSeconds: COUNTER_TTL_SECONDS,
  });
  for (const userId of [tip.creatorId, tip.fromUserId, 0])
    writes.push({
      tag: feedTag(userId),
      key: feedKey(app, userId),
      kind: "l",
      member: "",
      ttlSeconds: 0,
    });
  return writes;
}

/** Options of {@link createTipProjections}. */
export interface TipProjectionsOptions {
  redis: Redis;
  app: string;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

/**
 * Tip projections in Redis, at most once per tip id and slot group (projection-groups.ts): ZINCRBY
 * on the creators and tippers boards (daily `lb:{<board>}:daily:<YYYYMMDD>`, weekly
 * `lb:{<board>}:weekly:<YYYY-Www>`, all-time `lb:{<board>}:alltime`), HINCRBY on the creator's
 * day bucket of the 30-day counter (`count:tips:{user:<creator>}:<YYYYMMDD>`, expires after 31
 * days), LPUSH + LTRIM on the activity feeds of the creator, the tipper and everyone. One script
 * per group (five per tip), sent together; scores are integer cents (exact).
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
      const head = [
        String(APPLIED_MARKER_TTL_SECONDS),
        String(tip.amountCents),
        JSON.stringify(feedEntryOf(tip)),
        String(FEED_LENGTH),
      ];
      // One script per slot group (keyed by its marker), each with the marker it needs.
      const groups = new Map<string, { keys: string[]; args: string[] }>();
      for (const write of writesOf(app, tip, at)) {
        const marker = tipAppliedKey(app, write.tag, tip.id);
        let group = groups.get(marker);
        if (!group) groups.set(marker, (group = { keys: [marker], args: [...head] }));
        group.keys.push(write.key);
        group.args.push(write.kind, write.member, String(write.ttlSeconds));
      }
      // Sent together (one round trip on a single Redis; per node in parallel on a cluster). Every
      // group is tried even when one fails: the retry of the outbox then completes the rest.
      const results = await Promise.allSettled(
        [...groups.values()].map(({ keys, args }) => applyScript.exec(keys, args)),
      );
      const failed = results.find((result) => result.status === "rejected");
      if (failed) throw failed.reason;
      return results.some((result) => result.status === "fulfilled" && Number(result.value) === 1);
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
