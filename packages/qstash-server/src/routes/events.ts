import { matchesFilter, page, parseFilter } from "../filters.ts";
import type { Route } from "../http-context.ts";

const EVENT_FILTERS = [
  "state",
  "messageId",
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

/** GET /v2/events (and /v2/logs): the events log, newest first, with filters and cursors. */
export const eventRoutes: Route[] = [
  {
    methods: ["GET"],
    pattern: /^\/v2\/(events|logs)\/?$/,
    handler: async (context) => {
      const filter = parseFilter(context.query, EVENT_FILTERS, { defaultCount: 100 });
      const events = await context.service.store.events(context.tenant.id);
      const selected = events.filter((event) => {
        const url = URL.canParse(event.url) ? new URL(event.url) : undefined;
        return matchesFilter(
          filter,
          {
            state: event.state,
            messageId: event.messageId,
            messageIds: event.messageId,
            callerIp: event.callerIp,
            label: event.labels,
            flowControlKey: event.flowControlKey,
            url: event.url,
            topicName: event.topicName,
            scheduleId: event.scheduleId,
            queueName: event.queueName,
            host: url?.host,
            path: url?.pathname,
          },
          event.time,
        );
      });
      const { items, next } = page(selected, filter, 100);
      return { json: { events: items, ...(next ? { cursor: next } : {}) } };
    },
  },
];
