import { DestinationPolicy } from "../destination.ts";
import { badRequest } from "../errors.ts";
import { newId } from "../ids.ts";
import { decodeSegment, type Route } from "../http-context.ts";
import { parsePublishSpec } from "../publish-spec.ts";
import { parseCron, type Schedules } from "../schedules.ts";

const SCHEDULE_ID = /^[A-Za-z0-9_.-]{1,200}$/;

function scheduleIdOf(raw: string): string {
  const id = decodeSegment(raw, "schedule id");
  if (!SCHEDULE_ID.test(id))
    throw badRequest(`schedule id: "${id}" must be 1-200 letters, digits, _ . -`);
  return id;
}

/** Schedules CRUD and pause/resume (PATCH as the SDK sends, POST as the docs say). */
export function scheduleRoutes(schedules: Schedules): Route[] {
  return [
    {
      methods: ["POST"],
      pattern: /^\/v2\/schedules\/(https?:\/\/.*|[^/]+)$/,
      handler: async (context, [tail = ""]) => {
        const cronHeader = context.headers["upstash-cron"]?.[0];
        if (cronHeader === undefined) throw badRequest("Upstash-Cron: required");
        const { tz } = parseCron(cronHeader);
        const policy = new DestinationPolicy(context.service.options.allowedHosts);
        const destination = context.rawQuery === "" ? tail : `${tail}?${context.rawQuery}`;
        policy.parse(destination);
        const spec = parsePublishSpec(context.headers, await context.body(), {
          callerIp: context.callerIp,
          destinations: policy,
        });
        if (spec.notBeforeMs !== undefined)
          throw badRequest("Upstash-Not-Before: not allowed on schedules");
        const requestedId = context.headers["upstash-schedule-id"]?.[0];
        if (requestedId !== undefined && !SCHEDULE_ID.test(requestedId)) {
          throw badRequest(
            `Upstash-Schedule-Id: "${requestedId}" must be 1-200 letters, digits, _ . -`,
          );
        }
        const scheduleId = requestedId ?? newId("scd");
        await schedules.upsert(context.tenant.id, {
          scheduleId,
          cron: cronHeader.trim(),
          tz,
          destination,
          createdAt: context.service.now(),
          isPaused: false,
          spec,
        });
        return { json: { scheduleId } };
      },
    },
    {
      methods: ["GET"],
      pattern: /^\/v2\/schedules\/?$/,
      handler: async (context) => {
        const records = await schedules.list(context.tenant.id);
        return {
          json: await Promise.all(records.map((r) => schedules.view(context.tenant.id, r))),
        };
      },
    },
    {
      methods: ["GET"],
      pattern: /^\/v2\/schedules\/([^/]+)$/,
      handler: async (context, [raw = ""]) => {
        const record = await schedules.require(context.tenant.id, scheduleIdOf(raw));
        return { json: await schedules.view(context.tenant.id, record) };
      },
    },
    {
      methods: ["DELETE"],
      pattern: /^\/v2\/schedules\/([^/]+)$/,
      handler: async (context, [raw = ""]) => {
        await schedules.delete(context.tenant.id, scheduleIdOf(raw));
        return { json: {} };
      },
    },
    {
      methods: ["PATCH", "POST"],
      pattern: /^\/v2\/schedules\/([^/]+)\/(pause|resume)$/,
      handler: async (context, [raw = "", action]) => {
        await schedules.setPaused(context.tenant.id, scheduleIdOf(raw), action === "pause");
        return { json: {} };
      },
    },
  ];
}
