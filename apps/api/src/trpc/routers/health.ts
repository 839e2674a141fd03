import type { TRPCRouterRecord } from "@trpc/server";
import { bareProcedure, publicProcedure } from "../procedures.ts";

/** Health of the API's dependencies (Redis and the database) with latency. */
export async function checkDependencies(deps: {
  redis: {
    health(): Promise<{ ok: boolean; latencyMs: number; error?: string }>;
    transport: string;
  };
  db: { health(): Promise<{ ok: boolean; latencyMs: number; error?: string; kind: string }> };
}) {
  const [redis, db] = await Promise.all([deps.redis.health(), deps.db.health()]);
  return {
    ok: redis.ok && db.ok,
    redis: { ...redis, transport: deps.redis.transport, latencyMs: round(redis.latencyMs) },
    db: { ...db, latencyMs: round(db.latencyMs) },
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
