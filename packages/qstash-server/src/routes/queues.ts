import { badRequest, notFound } from "../errors.ts";
import { decodeSegment, parseJsonBody, type RequestContext, type Route } from "../http-context.ts";
import { queueLane, type QueueRecord } from "../service.ts";

const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

function nameOf(raw: string): string {
  const name = decodeSegment(raw, "queue name");
  if (!QUEUE_NAME.test(name))
    throw badRequest(`queue name: "${name}" must be 1-200 letters, digits, _ . -`);
  return name;
}

async function view(context: RequestContext, record: QueueRecord) {
  const counts = await context.service.lanes
    .queue(queueLane(context.tenant.id, record.name))
    .getJobCounts("waiting", "delayed", "prioritized");
  const lag = Object.values(counts).reduce((sum, n) => sum + n, 0);
  return { ...record, lag };
}

async function requireQueue(context: RequestContext, name: string): Promise<QueueRecord> {
  const record = await context.service.store.getRecord<QueueRecord>(
    context.tenant.id,
    "queues",
    name,
  );
  if (!record) throw notFound(`queue ${name} not found`);
  return record;
}

/** Queues CRUD and pause/resume. */
export const queueRoutes: Route[] = [
  {
    methods: ["POST"],
    pattern: /^\/v2\/queues\/?$/,
    handler: async (context) => {
      const input = parseJsonBody(await context.body(), "queue");
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        throw badRequest("queue: body must be a JSON object {queueName, parallelism, paused}");
      }
      const {
        queueName,
        parallelism = 1,
        paused = false,
        ...rest
      } = input as Record<string, unknown>;
      const unknown = Object.keys(rest);
      if (unknown.length > 0) throw badRequest(`queue: unknown field ${unknown.join(", ")}`);
      if (typeof queueName !== "string" || !QUEUE_NAME.test(queueName)) {
        throw badRequest("queueName: required, 1-200 letters, digits, _ . -");
      }
      if (
        typeof parallelism !== "number" ||
        !Number.isInteger(parallelism) ||
        parallelism < 1 ||
        parallelism > 1000
      ) {
        throw badRequest("parallelism: a whole number from 1 to 1000");
      }
      if (typeof paused !== "boolean") throw badRequest("paused: true or false");
      await context.service.upsertQueue(context.tenant.id, queueName, { parallelism, paused });
      return { json: {} };
    },
  },
  {
    methods: ["GET"],
    pattern: /^\/v2\/queues\/?$/,
    handler: async (context) => {
      const records = await context.service.store.listRecords<QueueRecord>(
        context.tenant.id,
        "queues",
      );
      records.sort((a, b) => a.createdAt - b.createdAt);
      return { json: await Promise.all(records.map((record) => view(context, record))) };
    },
  },
  {
    methods: ["GET"],
    pattern: /^\/v2\/queues\/([^/]+)$/,
    handler: async (context, [raw = ""]) => ({
      json: await view(context, await requireQueue(context, nameOf(raw))),
    }),
  },
  {
    methods: ["DELETE"],
    pattern: /^\/v2\/queues\/([^/]+)$/,
    handler: async (context, [raw = ""]) => {
      const name = nameOf(raw);
      await requireQueue(context, name);
      const tenant = context.tenant.id;
      for (const id of await context.service.store.pendingIds(tenant)) {
        const message = await context.service.store.getMessage(tenant, id);
        if (message?.queueName === name) await context.service.cancel(tenant, id);
      }
      await context.service.lanes.drop(queueLane(tenant, name));
      await context.service.store.deleteRecord(tenant, "queues", name);
      return { json: {} };
    },
  },
  {
    methods: ["POST"],
    pattern: /^\/v2\/queues\/([^/]+)\/(pause|resume)$/,
    handler: async (context, [raw = "", action]) => {
      const record = await requireQueue(context, nameOf(raw));
      await context.service.upsertQueue(context.tenant.id, record.name, {
        parallelism: record.parallelism,
        paused: action === "pause",
      });
      return { json: {} };
    },
  },
];
