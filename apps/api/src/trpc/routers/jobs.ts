import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { adminProcedure } from "../procedures.ts";
import { jobsAdminRouter } from "./jobs-admin.ts";

const reconcileInput = z.object({
  fix: z.boolean().default(false),
  force: z.boolean().default(false),
});

/**
 * Background jobs: outbox state, leaderboard reconcile and rebuild, and the Jobs view's overview
 * and DLQ (admin only).
 */
export const jobsRouter = {
  ...jobsAdminRouter,

  /** Outbox rows whose projections are not applied yet. */
  outbox: adminProcedure.query(async ({ ctx }) => ({
    pending: await ctx.deps.outbox.pending(),
    qstash: ctx.deps.jobsWebhook !== undefined,
  })),

  /** Compares the leaderboards with PostgreSQL and reports the drift; `fix` rebuilds when drifted. */
  reconcile: adminProcedure
    .input(reconcileInput)
    .mutation(({ ctx, input }) => ctx.deps.leaderboards.reconcile(input)),

  /**
   * Rebuilds the leaderboards from PostgreSQL and swaps them in: enqueued as a job on QStash,
   * or run now (and its report returned) when QStash is not configured.
   */
  rebuild: adminProcedure.mutation(async ({ ctx }) => {
    if (ctx.deps.leaderboards.enqueueRebuild) {
      const { messageId } = await ctx.deps.leaderboards.enqueueRebuild();
      return { enqueued: true as const, messageId };
    }
    return {
      enqueued: false as const,
      report: await ctx.deps.leaderboards.reconcile({ fix: true, force: true }),
    };
  }),
} satisfies TRPCRouterRecord;
