import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { pendingOutboxSummary } from "../../db/outbox.ts";
import type { DlqSize, JobsAdmin, ScheduleView } from "../../jobs/jobs-admin.ts";
import type { Context } from "../context.ts";
import { ApiError } from "../errors.ts";
import { adminProcedure, auditedAdminProcedure } from "../procedures.ts";

const overviewInput = z.object({
  minutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
});

/** A DLQ id as QStash hands them out (`dlq_…` locally, digits and dashes on Upstash). */
const dlqIdSchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9_.-]+$/, "letters, digits, _ . - only");
const dlqActionInput = z.object({ dlqId: dlqIdSchema });
const dlqListInput = z.object({
  cursor: z.string().min(1).max(500).optional(),
  count: z.number().int().min(1).max(100).default(20),
});

/** Counters of one minute of jobs, as the Jobs view charts them. */
export interface JobsMinute {
  minute: number;
  published: number;
  delivered: number;
  retried: number;
  failed: number;
}

function requireJobsAdmin(ctx: Context): JobsAdmin {
  const admin = ctx.deps.jobsAdmin;
  if (!admin) throw new ApiError("QSTASH_NOT_CONFIGURED", "QStash is not configured (QSTASH_URL)");
  return admin;
}

/** What QStash says about schedules and the DLQ; its error message when it could not be asked. */
async function qstashState(admin: JobsAdmin | undefined): Promise<{
  schedules: ScheduleView[] | null;
  dlq: DlqSize | null;
  qstashError: string | null;
}> {
  if (!admin) return { schedules: null, dlq: null, qstashError: null };
  try {
    const [schedules, dlq] = await Promise.all([admin.schedules(), admin.dlqSize()]);
    return { schedules, dlq, qstashError: null };
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    return { schedules: null, dlq: null, qstashError: error.message };
  }
}

/** The Jobs view's procedures (admin only): overview, and the DLQ list, retry and delete. */
export const jobsAdminRouter = {
  /**
   * Jobs per minute per job name (published / delivered / retried / failed) over the last
   * `minutes`, the outbox rows pending (projections, and `fanoutPending`: tips whose followers
   * are not notified yet), and from QStash the schedules and the DLQ size.
   * `qstash: false` when QStash is not configured; `qstashError` when it did not answer (the
   * rest is still served).
   */
  overview: adminProcedure.input(overviewInput).query(async ({ ctx, input }) => {
    const [metrics, outbox, qstash] = await Promise.all([
      ctx.deps.metrics.jobs(input.minutes),
      pendingOutboxSummary(ctx.deps.db),
      qstashState(ctx.deps.jobsAdmin),
    ]);
    const series: Record<string, JobsMinute[]> = {};
    for (const [job, points] of Object.entries(metrics)) {
      series[job] = points.map(({ minute, counters }) => ({
        minute,
        published: counters.jobs_published_total ?? 0,
        delivered: counters.jobs_delivered_total ?? 0,
        retried: counters.jobs_retried_total ?? 0,
        failed: counters.jobs_failed_total ?? 0,
      }));
    }
    return {
      minutes: input.minutes,
      qstash: ctx.deps.jobsAdmin !== undefined,
      series,
      outbox,
      ...qstash,
    };
  }),

  /** The DLQ, one page at a time (pass the returned `cursor` for the next; `null` at the end). */
  dlq: {
    list: adminProcedure.input(dlqListInput).query(async ({ ctx, input }) => {
      if (!ctx.deps.jobsAdmin) return { qstash: false, messages: [], cursor: null };
      const page = await ctx.deps.jobsAdmin.listDlq(input);
      return { qstash: true, ...page };
    }),

    /** Sends a DLQ message back to delivery (new message id) and removes it from the DLQ. */
    retry: auditedAdminProcedure.input(dlqActionInput).mutation(({ ctx, input }) => {
      ctx.auditTarget(input.dlqId);
      return requireJobsAdmin(ctx).retryDlq(input.dlqId);
    }),

    /** Deletes a DLQ message for good. */
    delete: auditedAdminProcedure.input(dlqActionInput).mutation(({ ctx, input }) => {
      ctx.auditTarget(input.dlqId);
      return requireJobsAdmin(ctx).deleteDlq(input.dlqId);
    }),
  },
} satisfies TRPCRouterRecord;
