import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { sampleKeyDistribution } from "../../adapters/keyspace.ts";
import { buildLatencyReport, type LatencyReport } from "../../latency/report.ts";
import {
  adminProcedure,
  cached,
  metricsProcedure,
  publicProcedure,
  rateLimited,
} from "../procedures.ts";
import { checkDependencies } from "./health.ts";

const windowInput = z.object({
  minutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60)
    .default(30),
});
const topIdentifiersInput = windowInput.extend({ n: z.number().int().min(1).max(100).default(10) });
const distributionInput = z.object({
  /** Upper bound of keys examined (SCAN sampling), so the cost is bounded on any keyspace. */
  sample: z.number().int().min(100).max(20_000).default(5_000),
});

/**
 * The dashboard's read model. Read-only; the series need the admin token unless
 * `METRICS_PUBLIC=true`, identifiers and key groups always do.
 */
export const metricsRouter = {
  /** Cache, rate-limit and idempotency time series + leaderboards + health, in one call. */
  overview: metricsProcedure
    .use(rateLimited("metrics:read"))
    .input(windowInput)
    .query(async ({ ctx, input }) => {
      const [cache, rateLimit, idempotency, creators, tippers, health] = await Promise.all([
        ctx.deps.metrics.cache(input.minutes),
        ctx.deps.metrics.rateLimit(input.minutes),
        ctx.deps.metrics.idempotency(input.minutes),
        ctx.deps.projections.top("creators", "daily", 10).catch(() => []),
        ctx.deps.projections.top("tippers", "daily", 10).catch(() => []),
        checkDependencies(ctx.deps),
      ]);
      return {
        minutes: input.minutes,
        cache,
        rateLimit,
        idempotency,
        leaderboards: { creators, tippers },
        health,
      };
    }),

  /** Cache hit/miss/stale per namespace over time. */
  cache: metricsProcedure
    .use(rateLimited("metrics:read"))
    .input(windowInput)
    .query(async ({ ctx, input }) => ({
      minutes: input.minutes,
      series: await ctx.deps.metrics.cache(input.minutes),
    })),

  /** Rate-limit allowed/blocked per policy over time. */
  rateLimit: metricsProcedure
    .use(rateLimited("metrics:read"))
    .input(windowInput)
    .query(async ({ ctx, input }) => ({
      minutes: input.minutes,
      series: await ctx.deps.metrics.rateLimit(input.minutes),
    })),

  /**
   * Latency over the last `minutes`, all API instances added up: per procedure p50/p95/p99 and
   * mean, per-minute series, its share of time waiting on Redis vs the database, slowest first;
   * and the Redis operation groups (cache read, rate-limit check, idempotency claim, job delivery).
   */
  latency: metricsProcedure
    .use(rateLimited("metrics:read"))
    .input(windowInput)
    .query(async ({ ctx, input }): Promise<LatencyReport> => {
      const { rows, sinceMs, untilMs } = await ctx.deps.metrics.latency(input.minutes);
      return buildLatencyReport(rows, { minutes: input.minutes, sinceMs, untilMs });
    }),

  /** Idempotency first/replay/conflict/mismatch counts. */
  idempotency: metricsProcedure
    .use(rateLimited("metrics:read"))
    .input(windowInput)
    .query(async ({ ctx, input }) => ({
      minutes: input.minutes,
      stores: await ctx.deps.metrics.idempotency(input.minutes),
    })),

  /**
   * Identifiers with the most blocked requests (admin only), each with the known user (or the
   * admin token) it belongs to, resolved here: the mapping never reaches anyone else.
   */
  topIdentifiers: adminProcedure.input(topIdentifiersInput).query(async ({ ctx, input }) => {
    const identifiers = await ctx.deps.metrics.topIdentifiers(input.minutes, input.n);
    const known = await ctx.deps.identities.resolve(identifiers.map((row) => row.identifier));
    return {
      minutes: input.minutes,
      identifiers: identifiers.map((row) => ({
        ...row,
        principal: known.get(row.identifier) ?? null,
      })),
    };
  }),

  /**
   * Keys by area from a bounded SCAN sample, with memory per area measured by `MEMORY USAGE` on a
   * sample of each area (or "not available" where the transport refuses it). Cached 30 s; admin
   * only: key groups are internal.
   */
  keyDistribution: adminProcedure
    .input(distributionInput)
    .use(cached({ namespace: "metrics", ttl: 30, lock: true }))
    .query(({ ctx, input }) =>
      ctx.cached(() =>
        sampleKeyDistribution(ctx.deps.redis, ctx.deps.settings.app, { sample: input.sample }),
      ),
    ),

  /** Redis and database health with latency. */
  health: publicProcedure.query(({ ctx }) => checkDependencies(ctx.deps)),
} satisfies TRPCRouterRecord;
