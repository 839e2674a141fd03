import type { Job } from "bullmq";
import { compileRetryDelay, defaultRetryDelayMs } from "./backoff.ts";
import { Deliverer, type DeliveryResult } from "./delivery.ts";
import type { Destination } from "./destination.ts";
import type { TenantCredentials } from "./dev-credentials.ts";
import { notFound } from "./errors.ts";
import { newId, sha256Hex } from "./ids.ts";
import type { KeyLayout } from "./key-layout.ts";
import { DEFAULT_LANE, Lanes, type DeliveryJobData } from "./lanes.ts";
import type { DlqRecord, MessageRecord } from "./message.ts";
import type { ResolvedQStashServerOptions } from "./options.ts";
import type { PublishSpec } from "./publish-spec.ts";
import type { EventRecord, Store } from "./store.ts";
import { redactMessage } from "./redaction.ts";

/** One tenant: its id (derived from the token) and its credentials. */
export interface Tenant extends TenantCredentials {
  id: string;
}

/** What publish answers for one message. */
export interface PublishResult {
  messageId: string;
  url: string;
  deduplicated?: boolean;
}

/** A URL group as stored. */
export interface UrlGroupRecord {
  name: string;
  createdAt: number;
  updatedAt: number;
  endpoints: { name: string; url: string }[];
}

/** A QStash queue as stored. */
export interface QueueRecord {
  name: string;
  createdAt: number;
  updatedAt: number;
  parallelism: number;
  paused: boolean;
}

/** The last firing of a schedule: when, and the state of each message it published. */
export interface ScheduleRuns {
  lastScheduleTime: number;
  lastScheduleStates: Record<string, string>;
}

/** A flow-control key as stored. */
export interface FlowControlRecord {
  flowControlKey: string;
  parallelismMax: number;
  rateMax: number;
  ratePeriod: number;
  isPaused: boolean;
  isPinnedParallelism: boolean;
  isPinnedRate: boolean;
  ratePeriodStart: number;
}

class RetryLater extends Error {
  override name = "RetryLater";
  readonly delayMs: number;
  constructor(message: string, delayMs: number) {
    super(message);
    this.delayMs = delayMs;
  }
}

/** The lane (BullMQ queue name) of a QStash queue. */
export function queueLane(tenant: string, queueName: string): string {
  return `q-${tenant}-${queueName}`;
}

/** The lane (BullMQ queue name) of a flow-control key. */
export function flowLane(tenant: string, key: string): string {
  return `fc-${tenant}-${key}`;
}

/**
 * The QStash engine: creates messages, runs deliveries on BullMQ lanes, retries, DLQ, callbacks.
 * HTTP routes call it; it never sees HTTP requests itself.
 */
export class QStashService {
  readonly options: ResolvedQStashServerOptions;
  readonly store: Store;
  readonly lanes: Lanes;
  readonly #tenants: Map<string, Tenant>;
  readonly #onSchedule: (job: Job) => Promise<void>;
  readonly #deliverer = new Deliverer();

  constructor(input: {
    options: ResolvedQStashServerOptions;
    store: Store;
    layout: KeyLayout;
    tenants: Map<string, Tenant>;
    onSchedule: (job: Job) => Promise<void>;
  }) {
    this.options = input.options;
    this.store = input.store;
    this.#tenants = input.tenants;
    this.#onSchedule = input.onSchedule;
    this.lanes = new Lanes({
      redisUrl: input.options.redisUrl,
      layout: input.layout,
      concurrency: input.options.deliveryConcurrency,
      processor: (job) =>
        job.queueName === "schedules" ? this.#onSchedule(job) : this.#process(job),
    });
  }

  /** Current time of the server's clock, ms. */
  now(): number {
    return this.options.now();
  }

  /** Logs an event for a message. */
  async event(
    tenant: string,
    message: MessageRecord,
    state: string,
    extra: Partial<EventRecord> = {},
  ): Promise<void> {
    await this.store.addEvent(tenant, this.eventOf(message, state, extra));
  }

  /** The events-log entry of a message in a state (redacted as the message asks). */
  eventOf(message: MessageRecord, state: string, extra: Partial<EventRecord> = {}): EventRecord {
    const shown = redactMessage(message);
    return {
      time: this.now(),
      state,
      messageId: message.messageId,
      url: message.url,
      topicName: message.topicName,
      endpointName: message.endpointName,
      queueName: message.queueName,
      scheduleId: message.scheduleId,
      flowControlKey: message.flowControlKey,
      label: message.label,
      labels: message.labels,
      header: shown.header,
      body: shown.bodyBase64,
      callerIp: message.callerIp,
      ...extra,
    };
  }

  /** The lane a message runs on: its queue, else its flow-control key, else the default lane. */
  async laneFor(tenant: string, message: MessageRecord): Promise<string> {
    if (message.queueName !== undefined) {
      if (!this.lanes.has(queueLane(tenant, message.queueName))) {
        await this.ensureQueue(tenant, message.queueName);
      }
      return queueLane(tenant, message.queueName);
    }
    if (message.flowControlKey !== undefined) {
      await this.ensureFlowControl(tenant, message);
      return flowLane(tenant, message.flowControlKey);
    }
    return DEFAULT_LANE;
  }

  /** Creates the queue with parallelism 1 if it does not exist yet. */
  async ensureQueue(tenant: string, name: string): Promise<QueueRecord> {
    const existing = await this.store.getRecord<QueueRecord>(tenant, "queues", name);
    if (existing) {
      await this.lanes.ensure(queueLane(tenant, name), existing.parallelism);
      return existing;
    }
    return this.upsertQueue(tenant, name, { parallelism: 1, paused: false });
  }

  /** Creates or updates a queue, applying parallelism and pause to its lane (shared in Redis). */
  async upsertQueue(
    tenant: string,
    name: string,
    input: { parallelism: number; paused: boolean },
  ): Promise<QueueRecord> {
    const now = this.now();
    const existing = await this.store.getRecord<QueueRecord>(tenant, "queues", name);
    const record: QueueRecord = {
      name,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
      parallelism: input.parallelism,
      paused: input.paused,
    };
    const queue = await this.lanes.ensure(queueLane(tenant, name), input.parallelism);
    await queue.setGlobalConcurrency(input.parallelism);
    if (input.paused) await queue.pause();
    else await queue.resume();
    await this.store.putRecord(tenant, "queues", name, record);
    return record;
  }

  /** Creates the flow-control key from a message's settings (pinned values win). */
  async ensureFlowControl(tenant: string, message: MessageRecord): Promise<void> {
    const key = message.flowControlKey as string;
    const existing = await this.store.getRecord<FlowControlRecord>(tenant, "flow", key);
    const record: FlowControlRecord = existing
      ? { ...existing }
      : {
          flowControlKey: key,
          parallelismMax: 0,
          rateMax: 0,
          ratePeriod: 1,
          isPaused: false,
          isPinnedParallelism: false,
          isPinnedRate: false,
          ratePeriodStart: this.now(),
        };
    if (!record.isPinnedParallelism && message.parallelism !== undefined) {
      record.parallelismMax = message.parallelism;
    }
    if (!record.isPinnedRate && message.rate !== undefined) {
      record.rateMax = message.rate;
      record.ratePeriod = message.period ?? 1;
    }
    const unchanged = existing !== undefined && JSON.stringify(existing) === JSON.stringify(record);
    if (unchanged && this.lanes.has(flowLane(tenant, key))) return;
    await this.applyFlowControl(tenant, record);
  }

  /** Stores a flow-control record and applies it to its lane. */
  async applyFlowControl(tenant: string, record: FlowControlRecord): Promise<void> {
    const queue = await this.lanes.ensure(flowLane(tenant, record.flowControlKey));
    if (record.parallelismMax > 0) await queue.setGlobalConcurrency(record.parallelismMax);
    else await queue.removeGlobalConcurrency();
    if (record.rateMax > 0)
      await queue.setGlobalRateLimit(record.rateMax, record.ratePeriod * 1000);
    else await queue.removeGlobalRateLimit();
    if (record.isPaused) await queue.pause();
    else await queue.resume();
    await this.store.putRecord(tenant, "flow", record.flowControlKey, record);
  }

  /**
   * Publishes to a URL or URL group: dedup, one message per endpoint, CREATED events, BullMQ jobs.
   * @throws QStashServerError 404 when the URL group does not exist.
   */
  async publish(
    tenant: string,
    destination: Destination,
    spec: PublishSpec,
    extra: {
      queueName?: string;
      scheduleId?: string;
      callbackOf?: MessageRecord["callbackOf"];
    } = {},
  ): Promise<PublishResult | PublishResult[]> {
    const now = this.now();
    const notBefore = spec.notBeforeMs ?? now + spec.delayMs;
    const targets: { url: string; topicName?: string; endpointName?: string }[] = [];
    if (destination.kind === "url") targets.push({ url: destination.url });
    else {
      const group = await this.store.getRecord<UrlGroupRecord>(tenant, "topics", destination.name);
      if (!group || group.endpoints.length === 0) {
        throw notFound(`URL group ${destination.name} not found or has no endpoints`);
      }
      for (const endpoint of group.endpoints) {
        targets.push({
          url: endpoint.url,
          topicName: group.name,
          endpointName: endpoint.name || undefined,
        });
      }
    }
    const results: PublishResult[] = [];
    for (const target of targets) {
      const messageId = newId("msg");
      const dedupKey =
        spec.deduplicationId !== undefined
          ? `id-${sha256Hex(`${target.url}\n${spec.deduplicationId}`)}`
          : spec.contentBasedDeduplication
            ? `body-${sha256Hex(`${target.url}\n${spec.template.bodyBase64}\n${JSON.stringify(spec.template.header)}`)}`
            : undefined;
      if (dedupKey !== undefined) {
        const holder = await this.store.claimDeduplication(
          tenant,
          dedupKey,
          messageId,
          this.options.deduplicationWindowMs,
        );
        if (holder !== undefined) {
          results.push({ messageId: holder, url: target.url, deduplicated: true });
          continue;
        }
      }
      const message: MessageRecord = {
        ...spec.template,
        messageId,
        url: target.url,
        topicName: target.topicName,
        endpointName: target.endpointName,
        createdAt: now,
        notBefore,
        queueName: extra.queueName ?? spec.template.queueName,
        scheduleId: extra.scheduleId,
        callbackOf: extra.callbackOf,
      };
      await this.enqueue(tenant, message, Math.max(0, notBefore - now));
      results.push({ messageId, url: target.url });
    }
    if (destination.kind === "url") return results[0] as PublishResult;
    return results;
  }

  /** Stores a message, logs CREATED and adds its BullMQ job. */
  async enqueue(tenant: string, message: MessageRecord, delayMs: number): Promise<void> {
    const lane = await this.laneFor(tenant, message);
    // The message is stored before its job exists, so the job always finds it.
    await this.store.putMessage(tenant, message, this.eventOf(message, "CREATED"));
    const data: DeliveryJobData = { tenant, messageId: message.messageId };
    await this.lanes.queue(lane).add("deliver", data, {
      jobId: message.messageId,
      delay: delayMs,
      attempts: message.maxRetries + 1,
      backoff: { type: "qstash" },
      removeOnComplete: true,
      removeOnFail: true,
    });
  }

  /** Cancels a pending message; false when it is gone (delivered, failed or never existed). */
  async cancel(tenant: string, messageId: string): Promise<boolean> {
    const message = await this.store.getMessage(tenant, messageId);
    if (!message) return false;
    if (!(await this.store.deleteMessage(tenant, messageId))) return false;
    const lane = message.queueName
      ? queueLane(tenant, message.queueName)
      : message.flowControlKey
        ? flowLane(tenant, message.flowControlKey)
        : DEFAULT_LANE;
    await this.lanes
      .queue(lane)
      .remove(messageId)
      .catch(() => 0);
    await this.event(tenant, message, "CANCELLED");
    return true;
  }

  /** The delay before retry number `retried` of a message (after the destination's wishes). */
  retryDelayMs(message: MessageRecord, retried: number, result: DeliveryResult): number {
    const base =
      result.retryAfterMs ??
      (message.retryDelayExpression !== undefined
        ? compileRetryDelay(message.retryDelayExpression)(retried)
        : defaultRetryDelayMs(retried));
    return Math.round(base * this.options.retryDelayScale);
  }

  async #process(job: Job): Promise<void> {
    const { tenant: tenantId, messageId } = job.data as DeliveryJobData;
    const tenant = this.#tenants.get(tenantId);
    const message = await this.store.getMessage(tenantId, messageId);
    if (!tenant || !message) return; // cancelled, or its tenant was removed from the config
    const retried = job.attemptsMade;
    const active = this.eventOf(message, "ACTIVE");
    const result = await this.#deliverer.deliver(message, {
      retried,
      signingKey: tenant.currentSigningKey,
      timeoutMs: message.timeoutMs ?? this.options.defaultTimeoutMs,
      nowMs: this.now(),
    });
    const response = {
      responseStatus: result.status,
      responseHeader: result.header,
      responseBody: result.bodyBase64,
      error: result.error,
    };
    if (result.ok) {
      const delivered = this.eventOf(message, "DELIVERED", response);
      if (!(await this.store.finishMessage(tenantId, messageId, [active, delivered]))) return;
      await this.#recordScheduleState(tenantId, message, "SUCCESS");
      if (message.callback !== undefined) {
        await this.#sendCallback(tenantId, message, message.callback, result, retried);
      }
      return;
    }
    if (result.nonRetryable === true || retried >= message.maxRetries) {
      const failed = this.eventOf(message, "FAILED", response);
      if (!(await this.store.finishMessage(tenantId, messageId, [active, failed]))) return;
      await this.#recordScheduleState(tenantId, message, "FAIL");
      const dlqId = newId("dlq");
      if (message.callbackOf === undefined) {
        const entry: DlqRecord = {
          dlqId,
          message,
          responseStatus: result.status,
          responseHeader: result.header,
          responseBodyBase64: result.bodyBase64,
          time: this.now(),
          error: result.error,
        };
        await this.store.putDlq(tenantId, entry);
      }
      if (message.failureCallback !== undefined) {
        await this.#sendCallback(
          tenantId,
          message,
          message.failureCallback,
          result,
          retried,
          dlqId,
        );
      }
      return;
    }
    const delayMs = this.retryDelayMs(message, retried + 1, result);
    await this.store.addEvents(tenantId, [
      active,
      this.eventOf(message, "ERROR", response),
      this.eventOf(message, "RETRY", { nextDeliveryTime: this.now() + delayMs }),
    ]);
    throw new RetryLater(result.error ?? `destination answered ${String(result.status)}`, delayMs);
  }

  /** Marks a scheduled message's outcome in its schedule's `lastScheduleStates`. */
  async #recordScheduleState(
    tenant: string,
    message: MessageRecord,
    state: "SUCCESS" | "FAIL",
  ): Promise<void> {
    if (message.scheduleId === undefined) return;
    // Kept apart from the schedule record, so this never writes back a stale schedule.
    const runs = (await this.store.getRecord<ScheduleRuns>(
      tenant,
      "schedule-runs",
      message.scheduleId,
    )) ?? { lastScheduleTime: message.createdAt, lastScheduleStates: {} };
    runs.lastScheduleStates = { ...runs.lastScheduleStates, [message.messageId]: state };
    await this.store.putRecord(tenant, "schedule-runs", message.scheduleId, runs);
  }

  async #sendCallback(
    tenant: string,
    source: MessageRecord,
    url: string,
    result: DeliveryResult,
    retried: number,
    dlqId?: string,
  ): Promise<void> {
    const payload = {
      status: result.status ?? 0,
      header: result.header ?? {},
      body: result.bodyBase64 ?? "",
      retried,
      maxRetries: source.maxRetries,
      sourceMessageId: source.messageId,
      topicName: source.topicName,
      endpointName: source.endpointName,
      url: source.url,
      method: source.method,
      sourceHeader: source.header,
      sourceBody: source.bodyBase64,
      notBefore: source.notBefore,
      createdAt: source.createdAt,
      scheduleId: source.scheduleId,
      callerIP: source.callerIp,
      ...(dlqId === undefined ? {} : { dlqId }),
      ...(result.error === undefined ? {} : { error: result.error }),
    };
    const isFailure = dlqId !== undefined;
    const extraHeader = (isFailure ? source.failureCallbackHeader : source.callbackHeader) ?? {};
    await this.publish(
      tenant,
      { kind: "url", url },
      {
        template: {
          method: "POST",
          header: { ...extraHeader, "Content-Type": ["application/json"] },
          bodyBase64: Buffer.from(JSON.stringify(payload)).toString("base64"),
          maxRetries: 3,
          callerIp: source.callerIp,
        },
        delayMs: 0,
        contentBasedDeduplication: false,
      },
      { callbackOf: isFailure ? "failureCallback" : "callback" },
    );
  }

  /** Starts the lanes' workers. */
  async start(): Promise<void> {
    await this.lanes.start();
  }

  /** Stops the workers and closes their connections. */
  async close(): Promise<void> {
    await this.lanes.close(this.options.closeTimeoutMs);
    this.#deliverer.close();
  }
}
