import { notFound } from "../errors.ts";
import { newId } from "../ids.ts";
import { matchesFilter, page, parseFilter, type Filter } from "../filters.ts";
import { decodeSegment, type RequestContext, type Route } from "../http-context.ts";
import { bodyFields, messageView, type DlqRecord } from "../message.ts";
import { redactMessage } from "../redaction.ts";

const DLQ_FILTERS = [
  "dlqIds",
  "messageId",
  "responseStatus",
  "callerIp",
  "label",
  "flowControlKey",
  "url",
  "topicName",
  "scheduleId",
  "queueName",
] as const;

function dlqView(entry: DlqRecord): Record<string, unknown> {
  const shown = redactMessage(entry.message);
  const response = bodyFields(entry.responseBodyBase64);
  return {
    ...messageView({ ...entry.message, header: shown.header, bodyBase64: shown.bodyBase64 }),
    dlqId: entry.dlqId,
    responseStatus: entry.responseStatus,
    responseHeader: entry.responseHeader,
    responseBody: response.body,
    responseBodyBase64: response.bodyBase64,
    ...(entry.error === undefined ? {} : { error: entry.error }),
  };
}

async function select(context: RequestContext, filter: Filter): Promise<DlqRecord[]> {
  const entries = await context.service.store.dlqEntries(context.tenant.id);
  return entries.filter((entry) =>
    matchesFilter(
      filter,
      {
        dlqIds: entry.dlqId,
        messageId: entry.message.messageId,
        responseStatus: entry.responseStatus,
        callerIp: entry.message.callerIp,
        label: entry.message.labels,
        flowControlKey: entry.message.flowControlKey,
        url: entry.message.url,
        topicName: entry.message.topicName,
        scheduleId: entry.message.scheduleId,
        queueName: entry.message.queueName,
      },
      entry.time,
    ),
  );
}

async function retry(context: RequestContext, entries: DlqRecord[]) {
  const responses = [];
  for (const entry of entries) {
    const now = context.service.now();
    const messageId = newId("msg");
    const message = { ...entry.message, messageId, createdAt: now, notBefore: now };
    await context.service.enqueue(context.tenant.id, message, 0);
    await context.service.store.deleteDlq(context.tenant.id, [entry.dlqId]);
    responses.push({ messageId });
  }
  return responses;
}

/** DLQ list, delete (single and bulk) and retry. */
export const dlqRoutes: Route[] = [
  {
    methods: ["GET"],
    pattern: /^\/v2\/dlq\/?$/,
    handler: async (context) => {
      const filter = parseFilter(context.query, DLQ_FILTERS, { defaultCount: 100 });
      const { items, next } = page(await select(context, filter), filter, 100);
      return { json: { messages: items.map(dlqView), ...(next ? { cursor: next } : {}) } };
    },
  },
  {
    methods: ["GET"],
    pattern: /^\/v2\/dlq\/([^/]+)$/,
    handler: async (context, [raw = ""]) => {
      const id = decodeSegment(raw, "dlq id");
      const entry = (await context.service.store.dlqEntries(context.tenant.id)).find(
        (e) => e.dlqId === id,
      );
      if (!entry) throw notFound(`DLQ message ${id} not found`);
      return { json: dlqView(entry) };
    },
  },
  {
    methods: ["DELETE"],
    pattern: /^\/v2\/dlq\/([^/]+)$/,
    handler: async (context, [raw = ""]) => {
      const id = decodeSegment(raw, "dlq id");
      if ((await context.service.store.deleteDlq(context.tenant.id, [id])) === 0) {
        throw notFound(`DLQ message ${id} not found`);
      }
      return { json: {} };
    },
  },
  {
    methods: ["DELETE"],
    pattern: /^\/v2\/dlq\/?$/,
    handler: async (context) => {
      const filter = parseFilter(context.query, DLQ_FILTERS, { defaultCount: 100 });
      const { items, next } = page(
        await select(context, filter),
        { ...filter, cursor: undefined },
        100,
      );
      const deleted = await context.service.store.deleteDlq(
        context.tenant.id,
        items.map((e) => e.dlqId),
      );
      return { json: { deleted, ...(next ? { cursor: "0" } : {}) } };
    },
  },
  {
    methods: ["POST"],
    pattern: /^\/v2\/dlq\/retry\/?$/,
    handler: async (context) => {
      const filter = parseFilter(context.query, DLQ_FILTERS, { defaultCount: 100 });
      const { items, next } = page(
        await select(context, filter),
        { ...filter, cursor: undefined },
        100,
      );
      const responses = await retry(context, items);
      return { json: { responses, ...(next ? { cursor: "0" } : {}) } };
    },
  },
  {
    methods: ["POST"],
    pattern: /^\/v2\/dlq\/retry\/([^/]+)$/,
    handler: async (context, [raw = ""]) => {
      const id = decodeSegment(raw, "dlq id");
      const entry = (await context.service.store.dlqEntries(context.tenant.id)).find(
        (e) => e.dlqId === id,
      );
      if (!entry) throw notFound(`DLQ message ${id} not found`);
      const [response] = await retry(context, [entry]);
      return { json: response };
    },
  },
];
