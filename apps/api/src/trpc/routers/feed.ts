import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { idSchema } from "../inputs.ts";
import { publicProcedure, rateLimited } from "../procedures.ts";

const recentInput = z.object({
  /** Whose activity (tips sent or received); omitted = the global feed. */
  userId: idSchema.optional(),
  n: z.number().int().min(1).max(100).default(20),
});

/** Activity feeds (Redis lists, newest first, trimmed). */
export const feedRouter = {
  /** The newest `n` activity entries of a user, or of everyone. */
  recent: publicProcedure
    .use(rateLimited("feed:read"))
    .input(recentInput)
    .query(async ({ ctx, input }) => ({
      userId: input.userId ?? null,
      entries: await ctx.deps.projections.recent(input.userId ?? 0, input.n),
    })),
} satisfies TRPCRouterRecord;
