import { QStashServerError } from "../errors.ts";
import type { Route } from "../http-context.ts";

function notImplemented(what: string) {
  return () =>
    Promise.reject(
      new QStashServerError(
        "QSTASH_NOT_IMPLEMENTED",
        `${what} is not provided by this local server: it needs Upstash's cloud`,
      ),
    );
}

/** GET /v2/keys, and 501 answers for the workflow and LLM endpoints. */
export const keyRoutes: Route[] = [
  {
    methods: ["GET"],
    pattern: /^\/v2\/keys$/,
    handler: (context) =>
      Promise.resolve({
        json: { current: context.tenant.currentSigningKey, next: context.tenant.nextSigningKey },
      }),
  },
  {
    methods: ["GET", "POST", "DELETE", "PUT", "PATCH"],
    pattern: /^\/v2\/workflows(\/.*)?$/,
    handler: notImplemented("the workflow API (/v2/workflows)"),
  },
  {
    methods: ["GET", "POST"],
    pattern: /^\/llm\/.*$/,
    handler: notImplemented("the LLM API (/llm/v1/chat/completions)"),
  },
];
