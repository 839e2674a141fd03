import { createLatencyRecorder, type LatencyHistogram } from "@hotpath/cache";
import { latencySeries, type LatencyKind, type RedisOperationGroup } from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import type { ApiLatency } from "../trpc/deps.ts";
import { CallTimer, createCallScope, type CallScope } from "./call-timing.ts";

/** Options of {@link createApiLatency}. */
export interface ApiLatencyOptions {
  redis: Redis;
  app: string;
  /** Flush interval of the histograms (ms), as the counters'. @default 1000 */
  flushIntervalMs?: number;
  /** Called when a flush fails (that flush's counts are dropped). */
  onFlushError?: (error: unknown) => void;
}

/** The API's latency recorder plus what the composition root and `/metrics` need of it. */
export interface ApiLatencyRuntime extends ApiLatency {
  /** The current call's scope: wrap the shared Redis and database clients with it. */
  scope: CallScope;
  /** In-process cumulative histograms per series since start (for `/metrics`). */
  snapshot(): Map<string, LatencyHistogram>;
  /** Flushes and stops the timer. */
  close(): Promise<void>;
}

/**
 * Latency of the API's calls in the shared per-minute histograms (`@hotpath/cache`
 * `createLatencyRecorder`): each call's duration and its waits on Redis and the database, and
 * the Redis operation groups. Recording does no I/O; one pipelined flush per interval writes it.
 */
export function createApiLatency(options: ApiLatencyOptions): ApiLatencyRuntime {
  const recorder = createLatencyRecorder({
    redis: options.redis,
    app: options.app,
    flushIntervalMs: options.flushIntervalMs ?? 1000,
    ...(options.onFlushError ? { onFlushError: options.onFlushError } : {}),
  });
  const scope = createCallScope();
  // Series labels interned per name: no string building per call.
  const labels = new Map<string, string>();
  const label = (kind: LatencyKind, name: string): string => {
    const key = `${kind} ${name}`;
    let found = labels.get(key);
    if (found === undefined) labels.set(key, (found = latencySeries(kind, name)));
    return found;
  };
  return {
    scope,
    async call(procedure, run) {
      const timer = new CallTimer();
      const started = performance.now();
      try {
        return await scope.run(timer, run);
      } finally {
        timer.end();
        recorder.observe(label("procedure", procedure), performance.now() - started);
        recorder.observe(label("procedure_redis", procedure), timer.redisMs);
        recorder.observe(label("procedure_db", procedure), timer.dbMs);
      }
    },
    operation(group: RedisOperationGroup, durationMs: number) {
      recorder.observe(label("redis", group), durationMs);
    },
    snapshot: () => recorder.snapshot(),
    close: () => recorder.close(),
  };
}

/**
 * Times one Redis operation group (`cache_read`, `ratelimit_check`, `idempotency_claim`,
 * `job_delivery`): from now until `run` calls `done` (e.g. when a cache read hands over to the
 * loader, or a claimed idempotency key to the handler), or else until it settles. Without a
 * recorder it only runs `run`.
 */
export async function measureOperation<T>(
  latency: Pick<ApiLatency, "operation"> | undefined,
  group: RedisOperationGroup,
  run: (done: () => void) => Promise<T>,
): Promise<T> {
  if (!latency) return run(() => undefined);
  const started = performance.now();
  let durationMs: number | undefined;
  const done = () => {
    durationMs ??= performance.now() - started;
  };
  try {
    return await run(done);
  } finally {
    done();
    latency.operation(group, durationMs ?? 0);
  }
}
