import {
  IdempotencyInFlightError,
  IdempotencyUnavailableError,
  type IdempotencyStore,
} from "@hotpath/cache";
import type { Receiver } from "@upstash/qstash";

import { indexJobs, jobEnvelopeSchema, type AnyJobDefinition } from "./definition.ts";
import type { JobMetricsSink } from "./metrics.ts";
import { tracedDelivery } from "./tracing.ts";

/**
 * Status answered for a payload that can never succeed. QStash (cloud) moves a message answered
 * 489 with `Upstash-NonRetryable-Error: true` straight to the DLQ; a server that does not know the
 * header (the local one) retries it like any non-2xx up to the message's `retries`, and every such
 * redelivery is answered from the stored outcome without running or recording anything again.
 */
export const NON_RETRYABLE_STATUS = 489;

/** Why a delivery failed. */
export type JobFailureReason = "invalid_payload" | "unknown_job" | "handler_error";

/** A failed delivery, as reported to {@link JobHandlerOptions.onFailure}. */
export interface JobFailure {
  messageId: string;
  /** The job name ("unknown" when the body named none). */
  job: string;
  reason: JobFailureReason;
  retried: number;
  /** Validation issues or the handler's error. */
  error: unknown;
}

/** Options of {@link createJobHandler}. */
export interface JobHandlerOptions {
  jobs: readonly AnyJobDefinition[];
  /** `Receiver` of `@upstash/qstash` with the current and next signing keys. */
  receiver: Receiver;
  /** The exact public URL QStash delivers to (checked against the signature's `sub`). */
  url: string;
  /** Runs each `Upstash-Message-Id` at most once (a store of `@hotpath/cache`). */
  idempotency: IdempotencyStore;
  /** Counts delivered / failed / retried / duration per job. */
  metrics?: JobMetricsSink;
  /** Receives every failed delivery (a bad payload once per message); must not throw. */
  onFailure?: (failure: JobFailure) => void | Promise<void>;
  /** Seconds of clock skew tolerated on `nbf`/`exp`. @default 0 */
  clockToleranceSeconds?: number;
  /** Clock of the duration metric. @default performance.now */
  now?: () => number;
}

/** The stored outcome of one message id. */
type Outcome = { kind: "done" } | { kind: "rejected"; reason: JobFailureReason; job: string };

const PRINCIPAL = "qstash";

/**
 * The webhook: a fetch handler (Request → Response) for the one route QStash delivers jobs to.
 * 401 unless `Upstash-Signature` verifies (current or next key, raw body, exact URL) — nothing
 * runs; 489 + `Upstash-NonRetryable-Error` for a payload that can never succeed (recorded once);
 * 200 when the job ran or had already run for this message id; 500 when the handler threw
 * (QStash retries); 503 when the idempotency store cannot be reached or the message is running.
 * A verified delivery runs in a `process <job>` span continuing the publisher's trace (the
 * `traceparent` the publisher forwarded).
 */
export function createJobHandler(
  options: JobHandlerOptions,
): (request: Request) => Promise<Response> {
  const jobs = indexJobs(options.jobs);
  const now = options.now ?? (() => performance.now());
  const count = (job: string, counter: string, by = 1) => options.metrics?.count(job, counter, by);
  const report = async (failure: JobFailure) => {
    count(failure.job, "jobs_failed_total");
    try {
      await options.onFailure?.(failure);
    } catch {
      // Reporting must not change the answer QStash gets.
    }
  };

  return async (request) => {
    if (request.method !== "POST") return json(405, { error: "Method Not Allowed" });
    const body = await request.text();
    const signature = request.headers.get("upstash-signature");
    if (!signature) return unauthorized("missing Upstash-Signature");
    try {
      const valid = await options.receiver.verify({
        signature,
        body,
        url: options.url,
        clockTolerance: options.clockToleranceSeconds ?? 0,
      });
      if (!valid) return unauthorized("invalid signature");
    } catch {
      return unauthorized("invalid signature");
    }
    const messageId = request.headers.get("upstash-message-id");
    if (!messageId) return json(400, { error: "missing Upstash-Message-Id" });
    const retried = Number(request.headers.get("upstash-retried") ?? "0") || 0;
    const scheduleId = request.headers.get("upstash-schedule-id") ?? undefined;

    const envelope = jobEnvelopeSchema.safeParse(parseJson(body));
    const jobName = envelope.success ? envelope.data.job : "unknown";
    if (retried > 0) count(jobName, "jobs_retried_total");
    const attributes = { "messaging.message.id": messageId, "hotpath.jobs.retried": retried };
    return tracedDelivery(request, jobName, attributes, async () => {
      let outcome: Outcome;
      let replayed: boolean;
      try {
        ({ value: outcome, replayed } = await options.idempotency.runIdempotent<Outcome>(
          messageId,
          messageId,
          async (signal) => {
            if (!envelope.success) {
              await report({
                messageId,
                job: jobName,
                reason: "invalid_payload",
                retried,
                error: envelope.error,
              });
              return { kind: "rejected", reason: "invalid_payload", job: jobName };
            }
            const job = jobs.get(jobName);
            if (!job) {
              await report({
                messageId,
                job: jobName,
                reason: "unknown_job",
                retried,
                error: new Error(`Unknown job "${jobName}"`),
              });
              return { kind: "rejected", reason: "unknown_job", job: jobName };
            }
            const payload = job.schema.safeParse(envelope.data.payload);
            if (!payload.success) {
              await report({
                messageId,
                job: jobName,
                reason: "invalid_payload",
                retried,
                error: payload.error,
              });
              return { kind: "rejected", reason: "invalid_payload", job: jobName };
            }
            const started = now();
            try {
              await job.run(payload.data, { messageId, retried, scheduleId, signal });
            } finally {
              count(jobName, "jobs_duration_ms_total", Math.max(0, Math.round(now() - started)));
            }
            count(jobName, "jobs_delivered_total");
            return { kind: "done" };
          },
          { principal: PRINCIPAL },
        ));
      } catch (error) {
        if (error instanceof IdempotencyInFlightError) {
          return json(
            503,
            { error: "message is running" },
            { "retry-after": String(error.retryAfter ?? 1) },
          );
        }
        if (error instanceof IdempotencyUnavailableError) {
          return json(503, { error: "idempotency store unavailable" }, { "retry-after": "1" });
        }
        await report({ messageId, job: jobName, reason: "handler_error", retried, error });
        return json(500, { error: "job failed", job: jobName });
      }
      if (outcome.kind === "rejected") {
        return json(
          NON_RETRYABLE_STATUS,
          {
            error: outcome.reason === "unknown_job" ? "unknown job" : "invalid payload",
            job: outcome.job,
          },
          { "upstash-nonretryable-error": "true" },
        );
      }
      return json(200, { ok: true, job: jobName, ...(replayed ? { duplicate: true } : {}) });
    });
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function unauthorized(reason: string): Response {
  return json(401, { error: reason }, { "www-authenticate": 'Upstash-Signature realm="jobs"' });
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}
