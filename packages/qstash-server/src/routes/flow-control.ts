import { badRequest, notFound } from "../errors.ts";
import { decodeSegment, type RequestContext, type Route } from "../http-context.ts";
import { flowLane, type FlowControlRecord } from "../service.ts";

const KEY = /^[A-Za-z0-9_.-]{1,200}$/;

async function requireKey(context: RequestContext, raw: string): Promise<FlowControlRecord> {
  const key = decodeSegment(raw, "flow-control key");
  if (!KEY.test(key))
    throw badRequest(`flow-control key: "${key}" must be 1-200 letters, digits, _ . -`);
  const record = await context.service.store.getRecord<FlowControlRecord>(
    context.tenant.id,
    "flow",
    key,
  );
  if (!record) throw notFound(`flow-control key ${key} not found`);
  return record;
}

function onlyParams(context: RequestContext, allowed: readonly string[]): void {
  for (const name of context.query.keys()) {
    if (!allowed.includes(name))
      throw badRequest(`unknown parameter "${name}"; accepted: ${allowed.join(", ") || "none"}`);
  }
}

function positiveInt(value: string | null, field: string): number | undefined {
  if (value === null) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1)
    throw badRequest(`${field}: "${value}" is not a positive whole number`);
  return Number(value);
}

function flag(value: string | null, field: string): boolean {
  if (value === null) return false;
  if (value !== "true" && value !== "false") throw badRequest(`${field}: true or false`);
  return value === "true";
}

async function view(context: RequestContext, record: FlowControlRecord) {
  const lane = context.service.lanes.queue(flowLane(context.tenant.id, record.flowControlKey));
  const counts = await lane.getJobCounts("waiting", "delayed", "prioritized", "active");
  const elapsed = context.service.now() - record.ratePeriodStart;
  const inPeriod = elapsed < record.ratePeriod * 1000;
  return {
    flowControlKey: record.flowControlKey,
    waitListSize: (counts.waiting ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
    parallelismMax: record.parallelismMax,
    parallelismCount: counts.active ?? 0,
    rateMax: record.rateMax,
    rateCount: inPeriod
      ? Number(
          (await context.service.store.getRecord<number>(
            context.tenant.id,
            "flow-rate",
            record.flowControlKey,
          )) ?? 0,
        )
      : 0,
    ratePeriod: record.ratePeriod,
    ratePeriodStart: record.ratePeriodStart,
    isPaused: record.isPaused,
    isPinnedParallelism: record.isPinnedParallelism,
    isPinnedRate: record.isPinnedRate,
  };
}

/** Flow-control keys: get, pause/resume, pin/unpin, resetRate; global parallelism. */
export const flowControlRoutes: Route[] = [
  {
    methods: ["GET"],
    pattern: /^\/v2\/flowControl\/?$/,
    handler: async (context) => {
      const records = await context.service.store.listRecords<FlowControlRecord>(
        context.tenant.id,
        "flow",
      );
      return { json: await Promise.all(records.map((r) => view(context, r))) };
    },
  },
  {
    methods: ["GET"],
    pattern: /^\/v2\/flowControl\/([^/]+)$/,
    handler: async (context, [raw = ""]) => ({
      json: await view(context, await requireKey(context, raw)),
    }),
  },
  {
    methods: ["POST"],
    pattern: /^\/v2\/flowControl\/([^/]+)\/(pause|resume|resetRate)$/,
    handler: async (context, [raw = "", action]) => {
      onlyParams(context, []);
      const record = await requireKey(context, raw);
      if (action === "resetRate") {
        record.ratePeriodStart = context.service.now();
        await context.service.store.putRecord(
          context.tenant.id,
          "flow-rate",
          record.flowControlKey,
          0,
        );
      } else record.isPaused = action === "pause";
      await context.service.applyFlowControl(context.tenant.id, record);
      return { json: {} };
    },
  },
  {
    methods: ["POST"],
    pattern: /^\/v2\/flowControl\/([^/]+)\/pin$/,
    handler: async (context, [raw = ""]) => {
      onlyParams(context, ["parallelism", "rate", "period"]);
      const record = await requireKey(context, raw);
      const parallelism = positiveInt(context.query.get("parallelism"), "parallelism");
      const rate = positiveInt(context.query.get("rate"), "rate");
      const period = positiveInt(context.query.get("period"), "period");
      if (parallelism === undefined && rate === undefined)
        throw badRequest("pin: give parallelism and/or rate");
      if (parallelism !== undefined) {
        record.parallelismMax = parallelism;
        record.isPinnedParallelism = true;
      }
      if (rate !== undefined) {
        record.rateMax = rate;
        record.ratePeriod = period ?? record.ratePeriod;
        record.isPinnedRate = true;
      }
      await context.service.applyFlowControl(context.tenant.id, record);
      return { json: {} };
    },
  },
  {
    methods: ["POST"],
    pattern: /^\/v2\/flowControl\/([^/]+)\/unpin$/,
    handler: async (context, [raw = ""]) => {
      onlyParams(context, ["parallelism", "rate"]);
      const record = await requireKey(context, raw);
      if (flag(context.query.get("parallelism"), "parallelism")) record.isPinnedParallelism = false;
      if (flag(context.query.get("rate"), "rate")) record.isPinnedRate = false;
      await context.service.applyFlowControl(context.tenant.id, record);
      return { json: {} };
    },
  },
  {
    methods: ["GET"],
    pattern: /^\/v2\/globalParallelism\/?$/,
    handler: async (context) => {
      const counts = await context.service.lanes.queue("deliver").getJobCounts("active");
      return {
        json: {
          parallelismMax: context.service.options.deliveryConcurrency,
          parallelismCount: counts.active ?? 0,
        },
      };
    },
  },
];
