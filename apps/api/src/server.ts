import { createRuntime, type ApiRuntime, type CreateRuntimeOptions } from "./deps.ts";
import { withDashboardAssets } from "./http/dashboard-assets.ts";
import { createFetchHandler, type FetchHandler } from "./http/handler.ts";
import { serveNode, type NodeServer } from "./http/node-server.ts";

/** A running API: runtime (deps), fetch handler and Node server. */
export interface RunningApi {
  runtime: ApiRuntime;
  handler: FetchHandler;
  server: NodeServer;
  /** Graceful stop: drain requests, then close Redis and the database. */
  stop(graceMs?: number): Promise<void>;
}

/** Builds the runtime and serves the fetch handler on `env.HOST:env.PORT` (tests pass PORT 0). */
export async function startApi(options: CreateRuntimeOptions): Promise<RunningApi> {
  const runtime = await createRuntime(options);
  const handler = withDashboardAssets(
    createFetchHandler({
      deps: runtime.deps,
      waitUntil: runtime.waitUntil,
      collectors: runtime.collectors,
    }),
    options.env.DASHBOARD_DIR,
  );
  let server: NodeServer;
  try {
    server = await serveNode({
      handler,
      port: options.env.PORT,
      host: options.env.HOST,
      onError: (error) =>
        runtime.deps.logger.error("response write failed", { error: String(error) }),
    });
  } catch (error) {
    await runtime.close();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    runtime,
    handler,
    server,
    stop(graceMs = options.env.SHUTDOWN_GRACE_SECONDS * 1000) {
      stopping ??= (async () => {
        await server.close(graceMs);
        await runtime.close();
      })();
      return stopping;
    },
  };
}
