import { badRequest, notFound } from "../errors.ts";
import { matchesFilter, parseFilter } from "../filters.ts";
import { decodeSegment, type Route } from "../http-context.ts";
import { messageView } from "../message.ts";

const CANCEL_FILTERS = [
  "messageIds",
  "callerIp",
  "label",
  "flowControlKey",
  "url",
  "topicName",
  "scheduleId",
  "queueName",
  "host",
  "path",
] as const;

/** GET/DELETE /v2/messages/{id}, DELETE /v2/messages?… (bulk cancel). */
export const messageRoutes: Route[] = [
  {
    methods: ["GET"],
    pattern: /^\/v2\/messages\/([^/]+)$/,
    handler: async (context, [raw = ""]) => {
      const id = decodeSegment(raw, "message id");
      const message = await context.service.store.getMessage(context.tenant.id, id);
      if (!message) throw notFound(`message ${id} not found`);
      return { json: messageView(message) };
    },
  },
  {
    methods: ["DELETE"],
    pattern: /^\/v2\/messages\/([^/]+)$/,
    handler: async (context, [raw = ""]) => {
      const id = decodeSegment(raw, "message id");
      if (!(await context.service.cancel(context.tenant.id, id))) {
        throw notFound(`message ${id} not found (already delivered, failed or cancelled)`);
      }
      return { status: 202, json: { cancelled: 1 } };
    },
  },
  {
    methods: ["DELETE"],
    pattern: /^\/v2\/messages\/?$/,
    handler: async (context) => {
      const filter = parseFilter(context.query, CANCEL_FILTERS, { maxCount: 100_000 });
      const tenant = context.tenant.id;
      const ids = filter.values.get("messageIds");
      if (ids !== undefined && ids.length === 0) throw badRequest("messageIds: empty");
      const candidates = ids ?? (await context.service.store.pendingIds(tenant));
      let cancelled = 0;
      for (const id of candidates) {
        if (filter.count !== undefined && cancelled >= filter.count) break;
        const message = await context.service.store.getMessage(tenant, id);
        if (!message) continue;
        const url = URL.canParse(message.url) ? new URL(message.url) : undefined;
        const subject = {
          messageIds: message.messageId,
          callerIp: message.callerIp,
          label: message.labels,
          flowControlKey: message.flowControlKey,
          url: message.url,
          topicName: message.topicName,
          scheduleId: message.scheduleId,
          queueName: message.queueName,
          host: url?.host,
          path: url?.pathname,
        };
        if (!matchesFilter(filter, subject, message.createdAt)) continue;
        if (await context.service.cancel(tenant, id)) cancelled += 1;
      }
      return { json: { cancelled } };
    },
  },
];
