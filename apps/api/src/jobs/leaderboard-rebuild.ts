import { createKeyspace } from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import { BOARD_TTL_SECONDS, leaderboardKey } from "../adapters/projections.ts";
import type { SqlExecutor } from "../db/database.ts";
import { listTips } from "../db/tips.ts";
import type { LeaderboardBoard, LeaderboardPeriod } from "../trpc/deps.ts";

/** One member whose score in Redis differs from the PostgreSQL truth (cents). */
export interface LeaderboardDrift {
  board: LeaderboardBoard;
  period: LeaderboardPeriod;
  member: string;
  expected: number;
  actual: number;
}

/** What a reconcile found (and fixed, when asked to). */
export interface ReconcileReport {
  at: string;
  tips: number;
  drift: LeaderboardDrift[];
  /** True when the boards were rebuilt and swapped in. */
  rebuilt: boolean;
}

const BOARDS: readonly LeaderboardBoard[] = ["creators", "tippers"];
const PERIODS: readonly LeaderboardPeriod[] = ["daily", "weekly", "alltime"];
/** Most tips read per rebuild. */
const MAX_TIPS = 1_000_000;

/**
 * Recomputes the current leaderboards (today, this ISO week, all time; creators and tippers)
 * from PostgreSQL, compares them with Redis, and — when asked, or when they drift — writes
 * them to fresh keys and swaps them in with one MULTI of RENAMEs (readers see the old board or
 * the new one, never a half-written one). A tip applied between the read and the swap is not in
 * the rebuilt board; the next reconcile restores it.
 */
export function createLeaderboardRebuild(options: {
  db: SqlExecutor;
  redis: Redis;
  app: string;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const keys = createKeyspace(options.app);

  const expected = async (at: number) => {
    const tips = await listTips(options.db, MAX_TIPS);
    const boards = new Map<string, Map<string, number>>();
    for (const board of BOARDS)
      for (const period of PERIODS)
        boards.set(leaderboardKey(options.app, board, period, at), new Map());
    for (const tip of tips) {
      const tipAt = Date.parse(tip.createdAt);
      for (const [board, member] of [
        ["creators", tip.creatorId],
        ["tippers", tip.fromUserId],
      ] as const) {
        for (const period of PERIODS) {
          // Only the boards of the current periods: a tip of another day is not in today's.
          const key = leaderboardKey(options.app, board, period, tipAt);
          const scores = boards.get(key);
          if (scores && key === leaderboardKey(options.app, board, period, at))
            scores.set(String(member), (scores.get(String(member)) ?? 0) + tip.amountCents);
        }
      }
    }
    return { tips: tips.length, boards };
  };

  const actual = async (key: string) => {
    const list = await options.redis.zrange<unknown[]>(key, 0, -1, { withScores: true });
    const scores = new Map<string, number>();
    for (let i = 0; i + 1 < list.length; i += 2) scores.set(String(list[i]), Number(list[i + 1]));
    return scores;
  };

  const swap = async (boards: Map<string, Map<string, number>>) => {
    const nonce = crypto.randomUUID().slice(0, 8);
    const staged: [live: string, temp: string, ttl: number | undefined, empty: boolean][] = [];
    for (const [live, scores] of boards) {
      const temp = keys.key("lb", "rebuild", nonce, staged.length);
      const period = PERIODS.find((p) => live.includes(`:${p}`)) ?? "alltime";
      const ttl = period === "alltime" ? undefined : BOARD_TTL_SECONDS[period];
      if (scores.size > 0) {
        const [first, ...rest] = [...scores].map(([member, score]) => ({ score, member }));
        await options.redis.zadd(temp, first!, ...rest);
      }
      staged.push([live, temp, ttl, scores.size === 0]);
    }
    const multi = options.redis.multi();
    for (const [live, temp, ttl, empty] of staged) {
      if (empty) {
        multi.del(live);
        continue;
      }
      multi.rename(temp, live);
      if (ttl !== undefined) multi.expire(live, ttl);
    }
    await multi.exec();
  };

  return {
    /**
     * Compares Redis with PostgreSQL; with `fix`, rebuilds and swaps when anything drifted
     * (`force`: always).
     */
    async reconcile(o: { fix: boolean; force?: boolean }): Promise<ReconcileReport> {
      const at = now();
      const truth = await expected(at);
      const drift: LeaderboardDrift[] = [];
      for (const board of BOARDS) {
        for (const period of PERIODS) {
          const key = leaderboardKey(options.app, board, period, at);
          const want = truth.boards.get(key) ?? new Map<string, number>();
          const have = await actual(key);
          for (const member of new Set([...want.keys(), ...have.keys()])) {
            const wanted = want.get(member) ?? 0;
            const had = have.get(member) ?? 0;
            if (wanted !== had)
              drift.push({ board, period, member, expected: wanted, actual: had });
          }
        }
      }
      const rebuilt = o.fix && (o.force === true || drift.length > 0);
      if (rebuilt) await swap(truth.boards);
      return { at: new Date(at).toISOString(), tips: truth.tips, drift, rebuilt };
    },
  };
}

/** The leaderboard rebuild of one API. */
export type LeaderboardRebuild = ReturnType<typeof createLeaderboardRebuild>;
