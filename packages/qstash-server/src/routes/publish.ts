import { DestinationPolicy } from "../destination.ts";
import { badRequest, QStashServerError } from "../errors.ts";
import { parseJsonBody, type RequestContext, type Route } from "../http-context.ts";
import { parsePublishSpec, type HeaderLists } from "../publish-spec.ts";

const QUEUE_NAME = /^[A-Za-z0-9_.-]{1,200}$/;

function policyOf(context: RequestContext): DestinationPolicy {
  return new DestinationPolicy(context.service.options.allowedHosts);
}

/** The destination as the SDK sends it: the raw path after the prefix plus the raw query. */
function rawDestination(context: RequestContext, tail: string): string {
  return context.rawQuery === "" ? tail : `${tail}?${context.rawQuery}`;
}

async function publishTo(context: RequestContext, tail: string, queueName?: string) {
  const policy = policyOf(context);
  const destination = policy.parse(rawDestination(context, tail));
  const spec = parsePublishSpec(context.headers, await context.body(), {
    callerIp: context.callerIp,
    destinations: policy,
  });
  return context.service.publish(context.tenant.id, destination, spec, { queueName });
}

function batchItemHeaders(value: unknown, index: number): HeaderLists {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) {
    throw badRequest(`batch[${index}].headers: expected an object of header strings`);
  }
  const headers: HeaderLists = {};
  for (const [name, raw] of Object.entries(value)) {
    if (typeof raw !== "string")
      throw badRequest(`batch[${index}].headers.${name}: expected a string`);
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      throw badRequest(`batch[${index}].headers: "${name}" is not a header name`);
    }
    headers[name.toLowerCase()] = [raw];
  }
  return headers;
}

/** POST /v2/publish/{destination}, POST /v2/enqueue/{queue}/{destination}, POST /v2/batch. */
export const publishRoutes: Route[] = [
  {
    methods: ["POST"],
    pattern: /^\/v2\/publish\/(.*)$/,
    handler: async (context, [tail = ""]) => ({ json: await publishTo(context, tail) }),
  },
  {
    methods: ["POST"],
    pattern: /^\/v2\/enqueue\/([^/]*)\/(.*)$/,
    handler: async (context, [queueName = "", tail = ""]) => {
      if (!QUEUE_NAME.test(queueName)) {
        throw badRequest(`queue name: "${queueName}" must be 1-200 letters, digits, _ . -`);
      }
      return { json: await publishTo(context, tail, queueName) };
    },
  },
  {
    methods: ["POST"],
    pattern: /^\/v2\/batch$/,
    handler: async (context) => {
      const items = parseJsonBody(await context.body(), "batch");
      if (!Array.isArray(items) || items.length === 0) {
        throw badRequest("batch: body must be a non-empty JSON array of messages");
      }
      if (items.length > 1000) throw badRequest("batch: at most 1000 messages per batch");
      const policy = policyOf(context);
      // Check every item before publishing any, so a bad item publishes nothing.
      const prepared = items.map((item: unknown, index) => {
        if (typeof item !== "object" || item === null || Array.isArray(item)) {
          throw badRequest(`batch[${index}]: expected an object`);
        }
        const { destination, headers, body, queue } = item as Record<string, unknown>;
        if (typeof destination !== "string")
          throw badRequest(`batch[${index}].destination: expected a string`);
        if (body !== undefined && typeof body !== "string")
          throw badRequest(`batch[${index}].body: expected a string`);
        if (queue !== undefined && (typeof queue !== "string" || !QUEUE_NAME.test(queue))) {
          throw badRequest(`batch[${index}].queue: 1-200 letters, digits, _ . -`);
        }
        let spec;
        let target;
        try {
          target = policy.parse(destination);
          spec = parsePublishSpec(
            batchItemHeaders(headers, index),
            Buffer.from(body ?? "", "utf8"),
            {
              callerIp: context.callerIp,
              destinations: policy,
            },
          );
        } catch (error) {
          if (!(error instanceof QStashServerError)) throw error;
          throw new QStashServerError(error.code, `batch[${index}]: ${error.message}`, {
            cause: error,
          });
        }
        return { target, spec, queue };
      });
      const results = [];
      for (const { target, spec, queue } of prepared) {
        results.push(
          await context.service.publish(context.tenant.id, target, spec, { queueName: queue }),
        );
      }
      return { json: results };
    },
  },
];
