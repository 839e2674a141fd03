import type { Client, FlowControl, PublishRequest } from "@upstash/qstash";
import {
  buildEnvelope,
  indexJobs,
  type AnyJobDefinition,
  type JobEnvelope,
  type JobName,
  type JobPayload,
} from "./definition.ts";
import { JobsError } from "./errors.ts";
import type { JobMetricsSink } from "./metrics.ts";
import { traceHeaders, tracedPublish } from "./tracing.ts";

/** Delivery options of one published job (QStash publish headers). */
export interface PublishOptions {
  /** Delay before the first delivery: seconds, or a duration such as `"10s"`, `"5m"`. */
  delay?: PublishRequest["delay"];
  /** Earliest delivery time, unix seconds (wins over `delay`). */
  notBefore?: number;
  /** Retries after the first failed delivery. @default QStash's (3) */
  retries?: number;
  /** Delay between retries in ms, an expression of `retried` (e.g. `"1000 * (1 + retried)"`). */
  retryDelay?: string;
  /** Publishing the same id again within QStash's window is a no-op (`deduplicated: true`). */
  deduplicationId?: string;
  /** Enqueue into this QStash queue (ordered, its own parallelism) instead of publishing. */
  queue?: string;
  /** Flow-control key with parallelism and/or rate. */
  flowControl?: FlowControl;
}

/** What QStash answered for one published job. */
export interface PublishedJob {
  messageId: string;
  /** True when QStash dropped it as a duplicate of `deduplicationId`. */
  deduplicated: boolean;
}

/** One item of {@link JobPublisher.batch}. */
export type BatchItem<TJobs extends readonly AnyJobDefinition[]> = {
  [TName in JobName<TJobs>]: {
    job: TName;
    payload: JobPayload<TJobs, TName>;
    options?: PublishOptions;
  };
}[JobName<TJobs>];

/** Options of a schedule. */
export interface ScheduleOptions {
  /** Fixed id: creating it again replaces the schedule (idempotent at start-up). */
  scheduleId: string;
  /** Retries of each run. */
  retries?: number;
}

/** Publishes typed jobs to the one webhook URL that runs them. */
export interface JobPublisher<TJobs extends readonly AnyJobDefinition[]> {
  /** Validates the payload (throws JOBS_INVALID_PAYLOAD before sending anything), then publishes. */
  publish<TName extends JobName<TJobs>>(
    job: TName,
    payload: JobPayload<TJobs, TName>,
    options?: PublishOptions,
  ): Promise<PublishedJob>;
  /** Validates every item first (nothing is sent when one is bad), then sends ONE batch call. */
  batch(items: readonly BatchItem<TJobs>[]): Promise<PublishedJob[]>;
  /**
   * Creates or replaces (same `scheduleId`) a cron schedule of a job. `cron` has 5 fields
   * (or 6 with seconds first), optionally prefixed `CRON_TZ=<zone> `.
   */
  schedule<TName extends JobName<TJobs>>(
    job: TName,
    cron: string,
    payload: JobPayload<TJobs, TName>,
    options: ScheduleOptions,
  ): Promise<{ scheduleId: string }>;
}

/** Options of {@link createJobPublisher}. */
export interface JobPublisherOptions<TJobs extends readonly AnyJobDefinition[]> {
  /** The published `@upstash/qstash` client (cloud, or the local server through `baseUrl`). */
  client: Client;
  /** The exact public URL of the webhook route (what the handler verifies as `sub`). */
  url: string;
  jobs: TJobs;
  /** Counts `jobs_published_total` per job. */
  metrics?: JobMetricsSink;
}

/** Creates a {@link JobPublisher}. */
export function createJobPublisher<const TJobs extends readonly AnyJobDefinition[]>(
  options: JobPublisherOptions<TJobs>,
): JobPublisher<TJobs> {
  const jobs = indexJobs(options.jobs);
  const { client, url } = options;
  // `headers` are forwarded to the delivery (`Upstash-Forward-*`): the trace context goes along.
  const request = (envelope: JobEnvelope, o: PublishOptions = {}, headers = traceHeaders()) => ({
    url,
    body: envelope,
    ...(headers !== undefined ? { headers } : {}),
    ...(o.delay !== undefined ? { delay: o.delay } : {}),
    ...(o.notBefore !== undefined ? { notBefore: o.notBefore } : {}),
    ...(o.retries !== undefined ? { retries: o.retries } : {}),
    ...(o.retryDelay !== undefined ? { retryDelay: o.retryDelay } : {}),
    ...(o.deduplicationId !== undefined ? { deduplicationId: o.deduplicationId } : {}),
    ...(o.flowControl !== undefined ? { flowControl: o.flowControl } : {}),
  });
  const published = (job: string, n = 1) => options.metrics?.count(job, "jobs_published_total", n);
  const fail = (job: string | undefined, error: unknown): never => {
    throw new JobsError("JOBS_PUBLISH_FAILED", `Publishing ${job ?? "a batch"} failed.`, {
      job,
      cause: error,
    });
  };

  return {
    async publish(job, payload, o) {
      const envelope = buildEnvelope(jobs, job, payload);
      try {
        const response = await tracedPublish(job, () =>
          o?.queue !== undefined
            ? client.queue({ queueName: o.queue }).enqueueJSON(request(envelope, o))
            : client.publishJSON(request(envelope, o)),
        );
        published(job);
        return { messageId: response.messageId, deduplicated: response.deduplicated === true };
      } catch (error) {
        return fail(job, error);
      }
    },

    async batch(items) {
      if (items.length === 0) return [];
      const requests = items.map((item) => ({
        ...request(buildEnvelope(jobs, item.job, item.payload), item.options),
        ...(item.options?.queue !== undefined ? { queueName: item.options.queue } : {}),
      }));
      try {
        const responses: unknown[] = await client.batchJSON(requests);
        for (const item of items) published(item.job);
        return responses.map((response) => {
          const first = (Array.isArray(response) ? response[0] : response) as
            { messageId?: string; deduplicated?: boolean } | undefined;
          return {
            messageId: String(first?.messageId ?? ""),
            deduplicated: first?.deduplicated === true,
          };
        });
      } catch (error) {
        return fail(undefined, error);
      }
    },

    async schedule(job, cron, payload, o) {
      const envelope = buildEnvelope(jobs, job, payload);
      try {
        const { scheduleId } = await client.schedules.create({
          destination: url,
          cron,
          scheduleId: o.scheduleId,
          body: JSON.stringify(envelope),
          headers: { "Content-Type": "application/json" },
          ...(o.retries !== undefined ? { retries: o.retries } : {}),
        });
        return { scheduleId };
      } catch (error) {
        return fail(job, error);
      }
    },
  };
}
