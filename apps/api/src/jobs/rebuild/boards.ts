import { boardTag } from "../../adapters/projection-groups.ts";
import { BOARD_TTL_SECONDS, leaderboardKey } from "../../adapters/projections.ts";
import { tipTotalsBy, type TimeRange } from "../../db/projection-truth.ts";
import type { LeaderboardBoard, LeaderboardPeriod } from "../../trpc/deps.ts";
import {
  STAGED_TTL_SECONDS,
  type LeaderboardDrift,
  type ProjectionReader,
  type ProjectionSource,
  type StagedSwap,
} from "./types.ts";

const BOARDS: readonly LeaderboardBoard[] = ["creators", "tippers"];
const PERIODS: readonly LeaderboardPeriod[] = ["daily", "weekly", "alltime"];
const DAY_MS = 86_400_000;
/** Members per ZADD while staging (keeps each command a bounded size). */
const ZADD_CHUNK = 1000;

/** The time range of the board of `period` that holds `at` (UTC days, ISO weeks from Monday). */
export function periodRange(period: LeaderboardPeriod, at: number): TimeRange {
  if (period === "alltime") return { from: "-infinity", to: "infinity" };
  const day = Math.floor(at / DAY_MS) * DAY_MS;
  const start = period === "daily" ? day : day - ((new Date(day).getUTCDay() + 6) % 7) * DAY_MS;
  const end = start + (period === "daily" ? 1 : 7) * DAY_MS;
  return { from: new Date(start).toISOString(), to: new Date(end).toISOString() };
}

/** Scores of a sorted set as a member → score map. */
function toScores(list: unknown[]): Map<string, number> {
  const scores = new Map<string, number>();
  for (let i = 0; i + 1 < list.length; i += 2) scores.set(String(list[i]), Number(list[i + 1]));
  return scores;
}

/**
 * The current leaderboards (today, this ISO week, all time; creators and tippers): totals per
 * member from PostgreSQL, compared score by score with the sorted sets.
 */
export function boardsReader({ redis, app }: ProjectionSource): ProjectionReader {
  return async (tx, at) => {
    const boards: {
      board: LeaderboardBoard;
      period: LeaderboardPeriod;
      key: string;
      want: Map<string, number>;
    }[] = [];
    for (const board of BOARDS)
      for (const period of PERIODS)
        boards.push({
          board,
          period,
          key: leaderboardKey(app, board, period, at),
          want: await tipTotalsBy(tx, board, periodRange(period, at)),
        });
    return {
      async compare() {
        const pipeline = redis.pipeline();
        for (const { key } of boards) pipeline.zrange(key, 0, -1, { withScores: true });
        const lists = await pipeline.exec<unknown[][]>();
        const drift: LeaderboardDrift[] = [];
        for (const [index, { board, period, want }] of boards.entries()) {
          const have = toScores(lists[index] ?? []);
          for (const member of new Set([...want.keys(), ...have.keys()])) {
            const expected = want.get(member) ?? 0;
            const actual = have.get(member) ?? 0;
            if (expected !== actual)
              drift.push({ projection: "leaderboard", board, period, member, expected, actual });
          }
        }
        return drift;
      },
      async stage(tempKey) {
        const swaps: StagedSwap[] = [];
        const pipeline = redis.pipeline();
        for (const { board, key, period, want } of boards) {
          const ttlSeconds = period === "alltime" ? undefined : BOARD_TTL_SECONDS[period];
          if (want.size === 0) {
            swaps.push({ live: key });
            continue;
          }
          const temp = tempKey("lb", boardTag(board));
          const members = [...want].map(([member, score]) => ({ score, member }));
          for (let i = 0; i < members.length; i += ZADD_CHUNK) {
            const [first, ...rest] = members.slice(i, i + ZADD_CHUNK);
            pipeline.zadd(temp, first!, ...rest);
          }
          pipeline.expire(temp, STAGED_TTL_SECONDS);
          swaps.push({ live: key, temp, ...(ttlSeconds !== undefined ? { ttlSeconds } : {}) });
        }
        if (pipeline.length() > 0) await pipeline.exec();
        return swaps;
      },
    };
  };
}
