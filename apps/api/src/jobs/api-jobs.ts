import type { IdempotencyStore } from "@hotpath/cache";
import { createMetricsRecorder, type MetricsRecorder } from "@hotpath/cache/internal";
import { createJobHandler, createJobPublisher, defineJob, type JobPublisher } from "@hotpath/jobs";
import type { Client, Receiver } from "@upstash/qstash";
import type { Redis } from "@upstash/redis";
import { z } from "zod";
import { measureOperation } from "../latency/api-latency.ts";
import type { Logger } from "../logger.ts";
import type { WarmupReport } from "./cache-warmup.ts";
import type { ApiDeps, ApiLatency, TipFanout, TipOutbox } from "../trpc/deps.ts";

/** Path of the QStash webhook on the API. */
export const JOBS_WEBHOOK_PATH = "/jobs/qstash";
/** Fixed id of the outbox relay schedule (created idempotently at start). */
export const OUTBOX_RELAY_SCHEDULE_ID = "hotpath-outbox-relay";
/**
 * Fixed id of the nightly reconcile of every tip projection (leaderboards, counters, feeds; the id
 * and the job name `reconcile-leaderboards` predate the counters and feeds, and stay so a
 * schedule already created keeps its id and its deliveries keep a known job name).
 */
export const RECONCILE_SCHEDULE_ID = "hotpath-reconcile-leaderboards";
/** Fixed id of the daily report schedule (00:10 UTC: the day before, complete). */
export const DAILY_REPORT_SCHEDULE_ID = "hotpath-daily-report";
/** Fixed id of the cache warm-up schedule (every minute). */
export const CACHE_WARMUP_SCHEDULE_ID = "hotpath-cache-warmup";
/** Every schedule the API creates at start: one per id, whatever the number of starts. */
export const API_SCHEDULE_IDS = [
  OUTBOX_RELAY_SCHEDULE_ID,
  RECONCILE_SCHEDULE_ID,
  DAILY_REPORT_SCHEDULE_ID,
  CACHE_WARMUP_SCHEDULE_ID,
] as const;

/** QStash wiring of the API (absent: no QStash, the relay runs in-process). */
export interface ApiQStash {
  client: Client;
  receiver: Receiver;
  /** Exact public URL of {@link JOBS_WEBHOOK_PATH}. */
  webhookUrl: string;
  /** Retries of each job message. @default 5 */
  retries?: number;
  /** Delay between retries in ms (QStash expression of `retried`). @default QStash's backoff */
  retryDelay?: string;
}

/** What the API's jobs drive (read lazily: the jobs exist before the deps). */
export interface ApiJobTargets {
  outbox: TipOutbox;
  fanout: TipFanout;
  reconciler: ApiDeps["reconciler"];
  /** Computes the daily report of `day` (default: the last complete UTC day). */
  dailyReport: (day?: string) => Promise<unknown>;
  warmup: { warm(): Promise<WarmupReport> };
  logger: Logger;
}

/** The API's job definitions, bound to what they drive. */
export function apiJobDefinitions(targets: () => ApiJobTargets) {
  const outbox = () => targets().outbox;
  return [
    defineJob("apply-tip", z.object({ tipId: z.number().int().positive() }), async ({ tipId }) => {
      await outbox().applyById(tipId);
    }),
    defineJob(
      "notify-follower",
      z.object({ tipId: z.number().int().positive(), followerId: z.number().int().positive() }),
      async ({ tipId, followerId }) => {
        await targets().fanout.notify(tipId, followerId);
      },
    ),
    defineJob("daily-report", z.object({ day: z.iso.date().optional() }), async ({ day }) => {
      await targets().dailyReport(day);
    }),
    defineJob("warm-cache", z.object({}), async () => {
      const report = await targets().warmup.warm();
      targets().logger.info("cache warmed", { ...report });
    }),
    defineJob("outbox-relay", z.object({}), async () => {
      await outbox().relay();
    }),
    defineJob(
      "reconcile-leaderboards",
      z.object({ fix: z.boolean(), force: z.boolean().default(false) }),
      async ({ fix, force }) => {
        const report = await targets().reconciler.reconcile({ fix, force });
        targets().logger[report.drift.length > 0 ? "warn" : "info"]("projection reconcile", {
          drift: report.drift.length,
          rebuilt: report.rebuilt,
          tips: report.tips,
          sample: report.drift.slice(0, 20),
        });
      },
    ),
  ] as const;
}

/** The API's typed publisher. */
export type ApiJobPublisher = JobPublisher<ReturnType<typeof apiJobDefinitions>>;

/** What {@link createApiJobs} builds. */
export interface ApiJobs {
  publisher: ApiJobPublisher;
  webhook: (request: Request) => Promise<Response>;
  metrics: MetricsRecorder;
  /** Enqueues a forced leaderboard rebuild. */
  enqueueRebuild(): Promise<{ messageId: string }>;
  /**
   * Publishes `apply-tip` for a tip: deduplicated by tip id on the first publish; a relay's
   * re-publish (`attempt` > 0) gets its own id, since QStash would drop the tip id within its
   * deduplication window while the first message may be in the DLQ already.
   */
  enqueueTip(tipId: number, attempt: number): Promise<void>;
  /**
   * Publishes `notify-follower` for each follower in ONE batch call, deduplicated per
   * (tip, follower) so a second fan-out of the same tip sends nothing new.
   */
  enqueueFollowerNotifications(tipId: number, followerIds: readonly number[]): Promise<void>;
  /** Creates the schedules under fixed ids (idempotent); never throws (logs). */
  ensureSchedules(): Promise<void>;
}

/** Builds the publisher and the webhook of the API's jobs on QStash. */
export function createApiJobs(options: {
  qstash: ApiQStash;
  targets: () => ApiJobTargets;
  redis: Redis;
  app: string;
  idempotency: IdempotencyStore;
  logger: Logger;
  metricsFlushMs: number;
  /** Times each delivery (verification, claim, the job, the reply) as `job_delivery`. */
  latency?: Pick<ApiLatency, "operation"> | undefined;
}): ApiJobs {
  const jobs = apiJobDefinitions(options.targets);
  const metrics = createMetricsRecorder({
    redis: options.redis,
    app: options.app,
    group: "jobs",
    flushIntervalMs: options.metricsFlushMs,
  });
  const retries = options.qstash.retries ?? 5;
  const delivery = (deduplicationId?: string) => ({
    retries,
    ...(deduplicationId !== undefined ? { deduplicationId } : {}),
    ...(options.qstash.retryDelay !== undefined ? { retryDelay: options.qstash.retryDelay } : {}),
  });
  const publisher = createJobPublisher({
    client: options.qstash.client,
    url: options.qstash.webhookUrl,
    jobs,
    metrics,
  });
  const handle = createJobHandler({
    jobs,
    receiver: options.qstash.receiver,
    url: options.qstash.webhookUrl,
    idempotency: options.idempotency,
    metrics,
    onFailure: (failure) =>
      options.logger.warn("job failed", {
        job: failure.job,
        messageId: failure.messageId,
        reason: failure.reason,
        retried: failure.retried,
        error: String(failure.error),
      }),
  });
  const webhook = (request: Request) =>
    measureOperation(options.latency, "job_delivery", () => handle(request));
  return {
    publisher,
    webhook,
    metrics,
    async enqueueTip(tipId, attempt) {
      await publisher.publish(
        "apply-tip",
        { tipId },
        delivery(attempt === 0 ? `tip-${tipId}` : `tip-${tipId}-relay-${attempt}`),
      );
    },
    async enqueueFollowerNotifications(tipId, followerIds) {
      await publisher.batch(
        followerIds.map((followerId) => ({
          job: "notify-follower" as const,
          payload: { tipId, followerId },
          options: delivery(`notify-${tipId}-${followerId}`),
        })),
      );
    },
    enqueueRebuild: () =>
      publisher.publish("reconcile-leaderboards", { fix: true, force: true }, { retries }),
    async ensureSchedules() {
      try {
        await publisher.schedule(
          "reconcile-leaderboards",
          "0 3 * * *",
          { fix: true },
          { scheduleId: RECONCILE_SCHEDULE_ID },
        );
        await publisher.schedule(
          "outbox-relay",
          "* * * * *",
          {},
          {
            scheduleId: OUTBOX_RELAY_SCHEDULE_ID,
            retries: 0,
          },
        );
        await publisher.schedule(
          "daily-report",
          "10 0 * * *",
          {},
          { scheduleId: DAILY_REPORT_SCHEDULE_ID },
        );
        await publisher.schedule(
          "warm-cache",
          "* * * * *",
          {},
          { scheduleId: CACHE_WARMUP_SCHEDULE_ID, retries: 0 },
        );
      } catch (error) {
        options.logger.warn("job schedules not created", { error: String(error) });
      }
    },
  };
}
