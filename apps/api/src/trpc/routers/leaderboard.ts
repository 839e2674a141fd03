import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { ApiError } from "../errors.ts";
import { boardSchema, idSchema, periodSchema } from "../inputs.ts";
import { publicProcedure, rateLimited } from "../procedures.ts";

const topInput = z.object({
  board: boardSchema.default("creators"),
  period: periodSchema.default("alltime"),
  n: z.number().int().min(1).max(100).default(10),
});
const rankInput = z.object({
  board: boardSchema.default("creators"),
  period: periodSchema.default("alltime"),
  member: idSchema,
});

function centsToAmount(cents: number): string {
  return (cents / 100).toFixed(2);
}

/** Leaderboards of tips (creators by tips received, tippers by tips sent). */
export const leaderboardRouter = {
  /** The top `n` of a board in a period, with usernames. */
  top: publicProcedure
    .use(rateLimited("leaderboard:read"))
    .input(topInput)
    .query(async ({ ctx, input }) => {
      const entries = await ctx.deps.projections.top(input.board, input.period, input.n);
      const ids = entries.map((e) => Number(e.member)).filter((id) => Number.isSafeInteger(id));
      const names =
        ids.length === 0
          ? []
          : await ctx.deps.db.query<{ id: number; username: string; display_name: string }>(
              "select id, username, display_name from users where id = any($1::int[])",
              [ids],
            );
      const byId = new Map(names.map((row) => [row.id, row]));
      return {
        board: input.board,
        period: input.period,
        entries: entries.map((entry, index) => {
          const user = byId.get(Number(entry.member));
          return {
            rank: index + 1,
            userId: Number(entry.member),
            username: user?.username ?? null,
            displayName: user?.display_name ?? null,
            cents: entry.score,
            amount: centsToAmount(entry.score),
          };
        }),
      };
    }),

  /** A member's rank (1-based) and total in a board and period. */
  rank: publicProcedure
    .use(rateLimited("leaderboard:read"))
    .input(rankInput)
    .query(async ({ ctx, input }) => {
      const found = await ctx.deps.projections.rank(
        input.board,
        input.period,
        String(input.member),
      );
      if (!found)
        throw new ApiError(
          "NOT_FOUND",
          `User ${input.member} is not on the ${input.period} ${input.board} board`,
        );
      return { ...found, member: input.member, amount: centsToAmount(found.score) };
    }),
} satisfies TRPCRouterRecord;
