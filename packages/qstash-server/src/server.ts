import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { QStashServerError } from "./errors.ts";
import { readBody, sendJson, type RequestContext, type Route } from "./http-context.ts";
import { tenantIdOf } from "./ids.ts";
import { allTenants, parseQStashServerOptions, type QStashServerOptions } from "./options.ts";
import { KeyLayout } from "./key-layout.ts";
import { isClusterRedisUrl, openRedis } from "./redis-connection.ts";
import { allRoutes } from "./routes/index.ts";
import { Schedules } from "./schedules.ts";
import { QStashService, type Tenant } from "./service.ts";
import { Store } from "./store.ts";

/** A running QStash-compatible server. */
export interface RunningQStashServer {
  /** Base URL for `new Client({ baseUrl: url, token })`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** Every tenant (token and signing keys) the server accepts; the dev user first when enabled. */
  readonly tenants: readonly Tenant[];
  /** Stops listening, waits for in-flight requests and deliveries, closes Redis. Idempotent. */
  close(): Promise<void>;
}

function bearerToken(request: IncomingMessage): string | undefined {
  const header = request.headers.authorization;
  const match = header === undefined ? null : /^Bearer\s+(\S+)$/i.exec(header);
  return match?.[1];
}

/**
 * Starts a QStash-compatible server (the v2 REST API of `@upstash/qstash`) whose delivery engine
 * is BullMQ on `options.redisUrl`. Resolves once it is listening.
 * @throws QStashServerError QSTASH_CONFIG for bad options, QSTASH_LISTEN when the port cannot be bound.
 */
export async function startQStashServer(input: QStashServerOptions): Promise<RunningQStashServer> {
  const options = parseQStashServerOptions(input);
  const tenants = allTenants(options).map((credentials) => ({
    ...credentials,
    id: tenantIdOf(credentials.token),
  }));
  const byToken = new Map(tenants.map((tenant) => [tenant.token, tenant]));
  const byId = new Map(tenants.map((tenant) => [tenant.id, tenant]));
  const redis = openRedis(options.redisUrl, {
    node: { maxRetriesPerRequest: 2, retryStrategy: (times) => Math.min(1000, 50 * times) },
    // Commands of concurrent requests and deliveries go out in one socket write per tick.
    autoPipelining: true,
  });
  const layout = new KeyLayout(options.prefix, isClusterRedisUrl(options.redisUrl));
  const store = new Store(redis, layout, options.maxEvents);
  const service: QStashService = new QStashService({
    options,
    store,
    layout,
    tenants: byId,
    // Jobs only arrive after service.start(), when `schedules` is set.
    onSchedule: (job): Promise<void> => schedules.fire(job),
  });
  const schedules: Schedules = new Schedules(service);
  await service.start();
  const routes: Route[] = allRoutes(schedules);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const target = request.url ?? "/";
    const queryAt = target.indexOf("?");
    const path = queryAt === -1 ? target : target.slice(0, queryAt);
    const rawQuery = queryAt === -1 ? "" : target.slice(queryAt + 1);
    const token = bearerToken(request);
    const tenant = token === undefined ? undefined : byToken.get(token);
    if (!tenant) {
      request.resume();
      response.setHeader("WWW-Authenticate", 'Bearer realm="qstash"');
      throw new QStashServerError(
        "QSTASH_UNAUTHORIZED",
        token === undefined
          ? "Unauthorized: missing Authorization: Bearer <token>"
          : "Unauthorized: unknown token",
      );
    }
    const method = (request.method ?? "GET").toUpperCase();
    let pathMatched = false;
    for (const route of routes) {
      const match = route.pattern.exec(path);
      if (!match) continue;
      pathMatched = true;
      if (!route.methods.includes(method)) continue;
      let bodyRead: Promise<Buffer> | undefined;
      const context: RequestContext = {
        tenant,
        service,
        request,
        path,
        rawQuery,
        query: new URLSearchParams(rawQuery),
        headers: request.headersDistinct,
        callerIp: request.socket.remoteAddress ?? "",
        body: () => (bodyRead ??= readBody(request, options.maxBodyBytes)),
      };
      const answer = await route.handler(context, match.slice(1));
      if (bodyRead === undefined) request.resume();
      sendJson(response, answer.status ?? 200, answer.json ?? {});
      return;
    }
    request.resume();
    if (pathMatched) {
      response.setHeader(
        "Allow",
        routes
          .filter((r) => r.pattern.test(path))
          .flatMap((r) => r.methods)
          .join(", "),
      );
      sendJson(response, 405, { error: `method ${method} is not allowed on ${path}` });
      return;
    }
    throw new QStashServerError("QSTASH_NOT_FOUND", `unknown endpoint ${method} ${path}`);
  };

  const inFlight = new Set<Promise<void>>();
  const server: Server = createServer((request, response) => {
    const work = handle(request, response)
      .catch((error: unknown) => {
        if (response.headersSent) {
          response.destroy();
          return;
        }
        if (error instanceof QStashServerError && error.status < 500) {
          sendJson(response, error.status, { error: error.message });
        } else if (error instanceof QStashServerError && error.status === 501) {
          sendJson(response, 501, { error: error.message });
        } else {
          sendJson(response, 500, { error: `internal error: ${(error as Error).message}` });
        }
      })
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  });
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await service.close();
    redis.disconnect();
    throw new QStashServerError(
      "QSTASH_LISTEN",
      `cannot listen on ${options.host}:${options.port}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const port = (server.address() as AddressInfo).port;
  const hostForUrl = options.host.includes(":") ? `[${options.host}]` : options.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${hostForUrl}:${port}`,
    port,
    host: options.host,
    tenants,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise((resolve) => setTimeout(resolve, options.closeTimeoutMs).unref()),
        ]);
        for (const socket of sockets) socket.destroy();
        await closed;
        await service.close();
        await redis.quit().catch(() => redis.disconnect());
      })()),
  };
}
