import { jobEnvelopeSchema } from "@hotpath/jobs";
import type { Client, Schedule } from "@upstash/qstash";
import { deleteDlqMessage, retryDlqMessage, type DlqRetryResult } from "./dlq-actions.ts";
import { callQStash } from "./qstash-call.ts";

/** State of one message a schedule produced (QStash's `lastScheduleStates` values). */
export type ScheduleRunState = "IN_PROGRESS" | "SUCCESS" | "FAIL";

/** One schedule as the Jobs view shows it. */
export interface ScheduleView {
  scheduleId: string;
  /** The job its messages run (`null`: not one of the API's job envelopes). */
  job: string | null;
  cron: string;
  paused: boolean;
  /** Last firing, ms epoch. */
  lastRunAt: number | null;
  /** Next firing, ms epoch (`null` while paused). */
  nextRunAt: number | null;
  /** Outcome of the last firing: FAIL if any of its messages failed, IN_PROGRESS while one runs. */
  lastState: ScheduleRunState | null;
}

/** One DLQ message as the Jobs view shows it (no headers: they may carry credentials). */
export interface DlqEntryView {
  dlqId: string;
  messageId: string;
  job: string | null;
  url: string;
  /** The message body, cut to {@link PREVIEW_CHARS} characters. */
  payload: string | null;
  createdAt: number;
  /** Status of the last failed delivery (`null`: no HTTP answer at all). */
  responseStatus: number | null;
  /** Body of that answer, cut to {@link PREVIEW_CHARS} characters. */
  responseBody: string | null;
  maxRetries: number | null;
  scheduleId: string | null;
}

/** Size of the DLQ, counted up to {@link DLQ_COUNT_LIMIT} messages. */
export interface DlqSize {
  size: number;
  /** True when more than `size` messages are waiting (counting stopped at the limit). */
  more: boolean;
}

/** The admin view of QStash: schedules and the DLQ, retry and delete. */
export interface JobsAdmin {
  schedules(): Promise<ScheduleView[]>;
  dlqSize(): Promise<DlqSize>;
  /** One page of the DLQ, oldest first; `cursor` is `null` on the last page. */
  listDlq(options: {
    cursor?: string | undefined;
    count: number;
  }): Promise<{ messages: DlqEntryView[]; cursor: string | null }>;
  retryDlq(dlqId: string): Promise<DlqRetryResult>;
  deleteDlq(dlqId: string): Promise<{ dlqId: string; deleted: true }>;
}

/** A DLQ message as the SDK returns it (the SDK does not export the type by name). */
type DlqMessage = Awaited<ReturnType<Client["dlq"]["listMessages"]>>["messages"][number];

/** Characters of a body shown in the DLQ list. */
export const PREVIEW_CHARS = 300;
/** The DLQ is counted page by page up to this many messages (the API has no count endpoint). */
export const DLQ_COUNT_LIMIT = 1000;
const DLQ_PAGE = 100;

/** The job name in a message body, when the body is one of the API's job envelopes. */
export function jobOfBody(body: string | undefined): string | null {
  if (body === undefined) return null;
  try {
    const envelope = jobEnvelopeSchema.safeParse(JSON.parse(body));
    return envelope.success ? envelope.data.job : null;
  } catch {
    return null;
  }
}

/** The state of a schedule's last firing from its per-message states. */
export function lastStateOf(
  states: Record<string, ScheduleRunState> | undefined,
): ScheduleRunState | null {
  const values = Object.values(states ?? {});
  if (values.length === 0) return null;
  if (values.includes("FAIL")) return "FAIL";
  if (values.includes("IN_PROGRESS")) return "IN_PROGRESS";
  return "SUCCESS";
}

function preview(text: string | undefined): string | null {
  if (text === undefined || text === "") return null;
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

function scheduleView(schedule: Schedule): ScheduleView {
  return {
    scheduleId: schedule.scheduleId,
    job: jobOfBody(schedule.body),
    cron: schedule.cron,
    paused: schedule.isPaused,
    lastRunAt: schedule.lastScheduleTime ?? null,
    nextRunAt: schedule.isPaused ? null : (schedule.nextScheduleTime ?? null),
    lastState: lastStateOf(schedule.lastScheduleStates),
  };
}

function dlqEntryView(message: DlqMessage): DlqEntryView {
  return {
    dlqId: message.dlqId,
    messageId: message.messageId,
    job: jobOfBody(message.body),
    url: message.url,
    payload: preview(message.body),
    createdAt: message.createdAt,
    responseStatus: message.responseStatus ?? null,
    responseBody: preview(message.responseBody),
    maxRetries: message.maxRetries ?? null,
    scheduleId: message.scheduleId ?? null,
  };
}

/** Builds the {@link JobsAdmin} on the public API of an `@upstash/qstash` Client. */
export function createJobsAdmin(client: Pick<Client, "dlq" | "schedules">): JobsAdmin {
  return {
    async schedules() {
      const schedules = await callQStash("schedules", () => client.schedules.list());
      return schedules.map(scheduleView).sort((a, b) => a.scheduleId.localeCompare(b.scheduleId));
    },
    async dlqSize() {
      let size = 0;
      let cursor: string | undefined;
      do {
        const page = await callQStash("DLQ", () =>
          client.dlq.listMessages({ count: DLQ_PAGE, ...(cursor ? { cursor } : {}) }),
        );
        size += page.messages.length;
        cursor = page.cursor || undefined;
      } while (cursor && size < DLQ_COUNT_LIMIT);
      return { size, more: cursor !== undefined };
    },
    async listDlq({ cursor, count }) {
      const page = await callQStash("DLQ", () =>
        client.dlq.listMessages({ count, ...(cursor ? { cursor } : {}) }),
      );
      return { messages: page.messages.map(dlqEntryView), cursor: page.cursor || null };
    },
    retryDlq: (dlqId) => retryDlqMessage(client, dlqId),
    deleteDlq: (dlqId) => deleteDlqMessage(client, dlqId),
  };
}
