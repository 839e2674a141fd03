import { DestinationPolicy } from "../destination.ts";
import { badRequest, notFound } from "../errors.ts";
import { decodeSegment, parseJsonBody, type RequestContext, type Route } from "../http-context.ts";
import type { UrlGroupRecord } from "../service.ts";

const GROUP_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

function nameOf(raw: string): string {
  const name = decodeSegment(raw, "URL group name");
  if (!GROUP_NAME.test(name))
    throw badRequest(`URL group name: "${name}" must be 1-200 letters, digits, _ . -`);
  return name;
}

function endpointsOf(body: Buffer, requireUrl: boolean, policy?: DestinationPolicy) {
  const input = parseJsonBody(body, "endpoints");
  const list = (input as { endpoints?: unknown } | null)?.endpoints;
  if (!Array.isArray(list) || list.length === 0) {
    throw badRequest(
      'endpoints: body must be {"endpoints":[{"name"?,"url"}, …]} with at least one',
    );
  }
  return list.map((item: unknown, index) => {
    const { name, url } = (item ?? {}) as { name?: unknown; url?: unknown };
    if (name !== undefined && typeof name !== "string")
      throw badRequest(`endpoints[${index}].name: expected a string`);
    if (url === undefined && requireUrl) throw badRequest(`endpoints[${index}].url: required`);
    if (url !== undefined && typeof url !== "string")
      throw badRequest(`endpoints[${index}].url: expected a string`);
    if (url === undefined && name === undefined)
      throw badRequest(`endpoints[${index}]: give name or url`);
    if (typeof url === "string") policy?.checkUrl(url, `endpoints[${index}].url`);
    return { name: name ?? "", url: url ?? "" };
  });
}

async function requireGroup(context: RequestContext, name: string): Promise<UrlGroupRecord> {
  const group = await context.service.store.getRecord<UrlGroupRecord>(
    context.tenant.id,
    "topics",
    name,
  );
  if (!group) throw notFound(`URL group ${name} not found`);
  return group;
}

/** URL groups (topics): add/remove endpoints, list, get, delete. */
export const topicRoutes: Route[] = [
  {
    methods: ["POST"],
    pattern: /^\/v2\/topics\/([^/]+)\/endpoints$/,
    handler: async (context, [raw = ""]) => {
      const name = nameOf(raw);
      const policy = new DestinationPolicy(context.service.options.allowedHosts);
      const added = endpointsOf(await context.body(), true, policy);
      const now = context.service.now();
      const existing = await context.service.store.getRecord<UrlGroupRecord>(
        context.tenant.id,
        "topics",
        name,
      );
      const group: UrlGroupRecord = existing ?? {
        name,
        createdAt: now,
        updatedAt: now,
        endpoints: [],
      };
      for (const endpoint of added) {
        group.endpoints = group.endpoints.filter((e) => e.url !== endpoint.url);
        group.endpoints.push(endpoint);
      }
      group.updatedAt = now;
      await context.service.store.putRecord(context.tenant.id, "topics", name, group);
      return { json: {} };
    },
  },
  {
    methods: ["DELETE"],
    pattern: /^\/v2\/topics\/([^/]+)\/endpoints$/,
    handler: async (context, [raw = ""]) => {
      const group = await requireGroup(context, nameOf(raw));
      const removed = endpointsOf(await context.body(), false);
      group.endpoints = group.endpoints.filter(
        (e) =>
          !removed.some(
            (r) => (r.url !== "" && r.url === e.url) || (r.name !== "" && r.name === e.name),
          ),
      );
      group.updatedAt = context.service.now();
      await context.service.store.putRecord(context.tenant.id, "topics", group.name, group);
      return { json: {} };
    },
  },
  {
    methods: ["GET"],
    pattern: /^\/v2\/topics\/?$/,
    handler: async (context) => {
      const groups = await context.service.store.listRecords<UrlGroupRecord>(
        context.tenant.id,
        "topics",
      );
      return { json: groups.sort((a, b) => b.updatedAt - a.updatedAt) };
    },
  },
  {
    methods: ["GET"],
    pattern: /^\/v2\/topics\/([^/]+)$/,
    handler: async (context, [raw = ""]) => ({ json: await requireGroup(context, nameOf(raw)) }),
  },
  {
    methods: ["DELETE"],
    pattern: /^\/v2\/topics\/([^/]+)$/,
    handler: async (context, [raw = ""]) => {
      const name = nameOf(raw);
      await requireGroup(context, name);
      await context.service.store.deleteRecord(context.tenant.id, "topics", name);
      return { json: {} };
    },
  },
];
