import type { TRPCRouterRecord } from "@trpc/server";
import type { Logger } from "../../logger.ts";
import { bareProcedure, publicProcedure } from "../procedures.ts";

/**
 * Health of the API's dependencies (Redis and the database) with latency. The raw error text of a
 * failing probe (hosts, ports, driver messages) goes to the log, never into the answer.
 */
export async function checkDependencies(deps: {
  redis: {
    health(): Promise<{ ok: boolean; latencyMs: number; error?: string }>;
    transport: string;
  };
  db: { health(): Promise<{ ok: boolean; latencyMs: number; error?: string; kind: string }> };
  logger: Pick<Logger, "warn">;
}) {
  const [redis, db] = await Promise.all([deps.redis.health(), deps.db.health()]);
  if (redis.error !== undefined || db.error !== undefined) {
    deps.logger.warn("dependency check failed", { redis: redis.error, db: db.error });
  }
  return {
    ok: redis.ok && db.ok,
    redis: { ok: redis.ok, transport: deps.redis.transport, latencyMs: round(redis.latencyMs) },
    db: { ok: db.ok, kind: db.kind, latencyMs: round(db.latencyMs) },
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** `health.ping` (no middleware, no I/O: the benchmark baseline) and `health.check`. */
export const healthRouter = {
  ping: bareProcedure.query(() => ({ ok: true as const, time: Date.now() })),
  check: publicProcedure.query(({ ctx }) => checkDependencies(ctx.deps)),
} satisfies TRPCRouterRecord;
