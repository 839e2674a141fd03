import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { readDailyReport } from "../../db/daily-report.ts";
import { adminProcedure, auditedAdminProcedure } from "../procedures.ts";
import { jobsAdminRouter } from "./jobs-admin.ts";

const dailyReportInput = z.object({
  /** The UTC day, `YYYY-MM-DD`. */
  day: z.iso.date({ message: "expected a day as YYYY-MM-DD" }),
});

const reconcileInput = z.object({
  fix: z.boolean().default(false),
  force: z.boolean().default(false),
});

/**
 * Background jobs: outbox state, projection reconcile and rebuild, and the Jobs view's overview
 * and DLQ (admin only).
 */
export const jobsRouter = {
  ...jobsAdminRouter,

  /** Outbox rows whose projections are not applied yet. */
  outbox: adminProcedure.query(async ({ ctx }) => ({
    pending: await ctx.deps.outbox.pending(),
    qstash: ctx.deps.jobsWebhook !== undefined,
  })),

  /**
   * The daily report of a UTC day: tips and cents per creator, as the `daily-report` job stored
   * it (on its fixed-id schedule, 00:10 UTC for the day before); `report: null` when that day was
   * never computed.
   */
  dailyReport: adminProcedure.input(dailyReportInput).query(async ({ ctx, input }) => ({
    day: input.day,
    report: await readDailyReport(ctx.deps.db, input.day),
  })),

  /**
   * Compares the tip projections (leaderboards, 30-day counters, feeds) with PostgreSQL and
   * reports the drift; `fix` rebuilds when drifted (`force`: always).
   */
  reconcile: auditedAdminProcedure
    .input(reconcileInput)
    .mutation(({ ctx, input }) => ctx.deps.reconciler.reconcile(input)),

  /**
   * Rebuilds every tip projection from PostgreSQL and swaps them in: enqueued as a job on QStash,
   * or run now (and its report returned) when QStash is not configured.
   */
  rebuild: auditedAdminProcedure.mutation(async ({ ctx }) => {
    if (ctx.deps.reconciler.enqueueRebuild) {
      const { messageId } = await ctx.deps.reconciler.enqueueRebuild();
      return { enqueued: true as const, messageId };
    }
    return {
      enqueued: false as const,
      report: await ctx.deps.reconciler.reconcile({ fix: true, force: true }),
    };
  }),
} satisfies TRPCRouterRecord;
