import type { Route } from "../http-context.ts";
import type { Schedules } from "../schedules.ts";
import { dlqRoutes } from "./dlq.ts";
import { eventRoutes } from "./events.ts";
import { flowControlRoutes } from "./flow-control.ts";
import { keyRoutes } from "./keys.ts";
import { messageRoutes } from "./messages.ts";
import { publishRoutes } from "./publish.ts";
import { queueRoutes } from "./queues.ts";
import { scheduleRoutes } from "./schedules.ts";
import { topicRoutes } from "./topics.ts";

/** Every route of the server, in match order. */
export function allRoutes(schedules: Schedules): Route[] {
  return [
    ...keyRoutes,
    ...publishRoutes,
    ...messageRoutes,
    ...dlqRoutes,
    ...eventRoutes,
    ...scheduleRoutes(schedules),
    ...queueRoutes,
    ...topicRoutes,
    ...flowControlRoutes,
  ];
}
