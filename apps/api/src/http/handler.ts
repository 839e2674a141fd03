import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { MAX_BATCH_SIZE } from "../batch-limit.ts";
import { metricsDenial } from "../trpc/access.ts";
import { REQUEST_ID_HEADER, createContextInner, requestIdFrom } from "../trpc/context.ts";
import type { ApiDeps } from "../trpc/deps.ts";
import { appRouter } from "../trpc/router.ts";
import { checkDependencies } from "../trpc/routers/health.ts";
import { createHttpMetrics, type HttpMetrics, type MetricFamily } from "./prometheus.ts";

/** Per-request facts only the host knows (Node: socket address; edge: the platform's ctx). */
export interface RequestInfo {
  /** The peer address of the connection. */
  peerIp?: string | undefined;
  /** The platform's `waitUntil` (overrides the handler's default). */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
}

/** Options of {@link createFetchHandler}. */
export interface FetchHandlerOptions {
  deps: ApiDeps;
  /** Background work after the response (Node: the runtime tracks it until shutdown). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Request counters for `/metrics`. @default a new registry */
  metrics?: HttpMetrics;
  /** More families for `/metrics` (the packages' in-process counters). */
  collectors?: () => MetricFamily[];
  /** Most calls in one tRPC batch; larger batches get 400. @default {@link MAX_BATCH_SIZE} */
  maxBatchSize?: number;
}

/** The API as one portable function. */
export type FetchHandler = (request: Request, info?: RequestInfo) => Promise<Response>;

const PROCEDURES = new Set(Object.keys(appRouter._def.procedures));

function routeLabel(pathname: string): string {
  if (!pathname.startsWith("/trpc/")) return pathname;
  const path = pathname.slice("/trpc/".length);
  if (path.includes(",")) return "/trpc/(batch)";
  return PROCEDURES.has(path) ? `/trpc/${path}` : "/trpc/(unknown)";
}

function json(body: unknown, status: number, headers: HeadersInit = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

/**
 * The API as a fetch handler `(Request) => Promise<Response>`: `/trpc/*` (tRPC, batching on),
 * `/healthz` (liveness), `/readyz` (Redis and database answer), `/metrics` (Prometheus text;
 * the admin token unless `METRICS_PUBLIC=true`). Batches hold at most `maxBatchSize` calls.
 * Every response carries `x-request-id`. Runs unchanged on Node (src/main.ts) and edge runtimes.
 */
export function createFetchHandler(options: FetchHandlerOptions): FetchHandler {
  const { deps } = options;
  const metrics = options.metrics ?? createHttpMetrics();

  const route = async (
    request: Request,
    requestId: string,
    info: RequestInfo | undefined,
  ): Promise<Response> => {
    const url = new URL(request.url);
    if (url.pathname === "/healthz") return json({ ok: true }, 200);
    // QStash deliveries: verified, validated and run at most once by @hotpath/jobs.
    if (url.pathname === "/jobs/qstash" && deps.jobsWebhook) return deps.jobsWebhook(request);
    if (url.pathname === "/readyz") {
      const health = await checkDependencies(deps);
      return json(health, health.ok ? 200 : 503, health.ok ? {} : { "retry-after": "1" });
    }
    if (url.pathname === "/metrics") {
      const denied = metricsDenial(
        await createContextInner({ deps, headers: request.headers, requestId }).principal(),
        deps.settings,
      );
      if (denied) {
        return json(
          { error: denied.message },
          denied.httpStatus,
          denied.wwwAuthenticate ? { "www-authenticate": denied.wwwAuthenticate } : {},
        );
      }
      const health = await checkDependencies(deps);
      const text = metrics.render([
        {
          name: "hotpath_redis_up",
          help: "1 when Redis answers PING.",
          type: "gauge",
          samples: [{ labels: {}, value: health.redis.ok ? 1 : 0 }],
        },
        {
          name: "hotpath_db_up",
          help: "1 when the database answers.",
          type: "gauge",
          samples: [{ labels: {}, value: health.db.ok ? 1 : 0 }],
        },
        {
          name: "hotpath_dependency_latency_seconds",
          type: "gauge",
          help: "Latency of the last health probe.",
          samples: [
            { labels: { dependency: "redis" }, value: health.redis.latencyMs / 1000 },
            { labels: { dependency: "db" }, value: health.db.latencyMs / 1000 },
          ],
        },
        ...(options.collectors?.() ?? []),
      ]);
      return new Response(text, {
        headers: { "content-type": "text/plain; version=0.0.4", "cache-control": "no-store" },
      });
    }
    if (url.pathname === "/trpc" || url.pathname.startsWith("/trpc/")) {
      return fetchRequestHandler({
        endpoint: "/trpc",
        req: request,
        router: appRouter,
        maxBatchSize: options.maxBatchSize ?? MAX_BATCH_SIZE,
        createContext: ({ resHeaders }) =>
          createContextInner({
            deps,
            headers: request.headers,
            resHeaders,
            requestId,
            peerIp: info?.peerIp,
            secure:
              url.protocol === "https:" ||
              (deps.settings.trustedProxyCount > 0 &&
                request.headers.get("x-forwarded-proto") === "https"),
            ...((info?.waitUntil ?? options.waitUntil)
              ? { waitUntil: info?.waitUntil ?? options.waitUntil }
              : {}),
          }),
        responseMeta({ ctx, paths, type, errors }) {
          const headers = new Headers();
          const policy = ctx?.cachePolicy;
          const cacheable =
            request.method === "GET" &&
            type === "query" &&
            errors.length === 0 &&
            policy !== undefined &&
            policy.cachedCalls === (paths?.length ?? 0) &&
            Number.isFinite(policy.maxAgeSeconds);
          if (!ctx?.resHeaders.has("cache-control")) {
            headers.set(
              "cache-control",
              cacheable ? `${policy.scope}, max-age=${policy.maxAgeSeconds}` : "no-store",
            );
          }
          if (policy && policy.vary.size > 0) headers.set("vary", [...policy.vary].join(", "));
          return { headers };
        },
      });
    }
    return json({ error: "Not found", path: url.pathname }, 404);
  };

  return async (request, info) => {
    const started = performance.now();
    const requestId = requestIdFrom(request.headers);
    let response: Response;
    try {
      response = await route(request, requestId, info);
    } catch (error) {
      deps.logger.error("unhandled request error", { requestId, error: String(error) });
      response = json({ error: "Internal server error", requestId }, 500);
    }
    response.headers.set(REQUEST_ID_HEADER, requestId);
    metrics.observe(
      routeLabel(new URL(request.url).pathname),
      response.status,
      (performance.now() - started) / 1000,
    );
    return response;
  };
}
