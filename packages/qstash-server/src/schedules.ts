import type { Job } from "bullmq";
import { Cron } from "croner";
import { DestinationPolicy } from "./destination.ts";
import { badRequest, notFound } from "./errors.ts";
import { SCHEDULE_LANE, type ScheduleJobData } from "./lanes.ts";
import { bodyFields } from "./message.ts";
import type { PublishSpec } from "./publish-spec.ts";
import type { QStashService, ScheduleRuns } from "./service.ts";

/** A schedule as stored: its cron, its destination and the message template it publishes. */
export interface ScheduleRecord {
  scheduleId: string;
  cron: string;
  /** Time zone from a `CRON_TZ=…` prefix. */
  tz?: string;
  destination: string;
  createdAt: number;
  isPaused: boolean;
  spec: PublishSpec;
}

/**
 * Checks a cron expression (5 fields, or 6 with seconds first; optional `CRON_TZ=<zone> ` prefix)
 * before BullMQ sees it (its parser throws).
 * @throws QStashServerError 400 naming what is wrong.
 */
export function parseCron(input: string): { pattern: string; tz?: string } {
  let text = input.trim();
  let tz: string | undefined;
  const zone = /^CRON_TZ=(\S+)\s+(.*)$/.exec(text);
  if (zone) {
    tz = zone[1];
    text = (zone[2] ?? "").trim();
  }
  const fields = text.split(/\s+/).filter(Boolean);
  if (fields.length !== 5 && fields.length !== 6) {
    throw badRequest(
      `Upstash-Cron: "${input}" has ${fields.length} fields; expected 5 (minute hour day month weekday) or 6 (seconds first)`,
    );
  }
  try {
    new Cron(text, { paused: true, timezone: tz });
  } catch (error) {
    throw badRequest(
      `Upstash-Cron: "${input}" is not a valid cron expression: ${(error as Error).message}`,
      error,
    );
  }
  return { pattern: text, tz };
}

/** Schedules: records in Redis, each firing through a BullMQ job scheduler on the schedule lane. */
export class Schedules {
  readonly #service: QStashService;

  constructor(service: QStashService) {
    this.#service = service;
  }

  #schedulerId(tenant: string, scheduleId: string): string {
    return `${tenant}-${scheduleId}`;
  }

  /** Creates or replaces a schedule and (unless paused) its job scheduler. */
  async upsert(tenant: string, record: ScheduleRecord): Promise<void> {
    const existing = await this.get(tenant, record.scheduleId);
    const stored = { ...record, createdAt: existing?.createdAt ?? record.createdAt };
    await this.#service.store.putRecord(tenant, "schedules", record.scheduleId, stored);
    if (record.isPaused) await this.#unschedule(tenant, record.scheduleId);
    else await this.#schedule(tenant, stored);
  }

  async #schedule(tenant: string, record: ScheduleRecord): Promise<void> {
    const data: ScheduleJobData = { tenant, scheduleId: record.scheduleId };
    const queue = this.#service.lanes.queue(SCHEDULE_LANE);
    await queue.upsertJobScheduler(
      this.#schedulerId(tenant, record.scheduleId),
      {
        pattern: record.cron.replace(/^CRON_TZ=\S+\s+/, ""),
        ...(record.tz ? { tz: record.tz } : {}),
      },
      { name: "fire", data, opts: { removeOnComplete: true, removeOnFail: true } },
    );
  }

  async #unschedule(tenant: string, scheduleId: string): Promise<void> {
    await this.#service.lanes
      .queue(SCHEDULE_LANE)
      .removeJobScheduler(this.#schedulerId(tenant, scheduleId));
  }

  /** A schedule record, or undefined. */
  async get(tenant: string, scheduleId: string): Promise<ScheduleRecord | undefined> {
    return this.#service.store.getRecord<ScheduleRecord>(tenant, "schedules", scheduleId);
  }

  /** A schedule record. @throws QStashServerError 404. */
  async require(tenant: string, scheduleId: string): Promise<ScheduleRecord> {
    const record = await this.get(tenant, scheduleId);
    if (!record) throw notFound(`schedule ${scheduleId} not found`);
    return record;
  }

  /** Every schedule of a tenant. */
  async list(tenant: string): Promise<ScheduleRecord[]> {
    const records = await this.#service.store.listRecords<ScheduleRecord>(tenant, "schedules");
    return records.sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Deletes a schedule; false when it did not exist. */
  async delete(tenant: string, scheduleId: string): Promise<boolean> {
    await this.#unschedule(tenant, scheduleId);
    await this.#service.store.deleteRecord(tenant, "schedule-runs", scheduleId);
    return this.#service.store.deleteRecord(tenant, "schedules", scheduleId);
  }

  /** Pauses (removes the job scheduler, keeps the record) or resumes a schedule. */
  async setPaused(tenant: string, scheduleId: string, paused: boolean): Promise<void> {
    const record = await this.require(tenant, scheduleId);
    await this.upsert(tenant, { ...record, isPaused: paused });
  }

  /** The Schedule shape the SDK reads. */
  async view(tenant: string, record: ScheduleRecord): Promise<Record<string, unknown>> {
    const scheduler = record.isPaused
      ? undefined
      : await this.#service.lanes
          .queue(SCHEDULE_LANE)
          .getJobScheduler(this.#schedulerId(tenant, record.scheduleId));
    const template = record.spec.template;
    const runs = await this.#service.store.getRecord<ScheduleRuns>(
      tenant,
      "schedule-runs",
      record.scheduleId,
    );
    return {
      scheduleId: record.scheduleId,
      cron: record.cron,
      createdAt: record.createdAt,
      destination: record.destination,
      method: template.method,
      header: template.header,
      ...bodyFields(template.bodyBase64),
      retries: template.maxRetries,
      delay: Math.round(record.spec.delayMs / 1000),
      callback: template.callback,
      failureCallback: template.failureCallback,
      callerIp: template.callerIp,
      isPaused: record.isPaused,
      queueName: record.spec.queueName,
      flowControlKey: template.flowControlKey,
      parallelism: template.parallelism,
      rate: template.rate,
      period: template.period,
      retryDelayExpression: template.retryDelayExpression,
      label: template.label,
      labels: template.labels,
      lastScheduleTime: runs?.lastScheduleTime,
      nextScheduleTime: scheduler?.next,
      lastScheduleStates: runs?.lastScheduleStates,
    };
  }

  /** Runs one firing of a schedule (the BullMQ job of its scheduler): publishes its message. */
  async fire(job: Job): Promise<void> {
    const { tenant, scheduleId } = job.data as ScheduleJobData;
    const record = await this.get(tenant, scheduleId);
    if (!record || record.isPaused) return;
    const policy = new DestinationPolicy(this.#service.options.allowedHosts);
    const published = await this.#service.publish(
      tenant,
      policy.parse(record.destination),
      record.spec,
      {
        queueName: record.spec.queueName,
        scheduleId,
      },
    );
    const ids = (Array.isArray(published) ? published : [published]).map((p) => p.messageId);
    const store = this.#service.store;
    // A delivery may already have recorded its state; it is kept.
    const known =
      (await store.getRecord<ScheduleRuns>(tenant, "schedule-runs", scheduleId))
        ?.lastScheduleStates ?? {};
    const runs: ScheduleRuns = {
      lastScheduleTime: this.#service.now(),
      lastScheduleStates: Object.fromEntries(ids.map((id) => [id, known[id] ?? "IN_PROGRESS"])),
    };
    await store.putRecord(tenant, "schedule-runs", scheduleId, runs);
  }
}
