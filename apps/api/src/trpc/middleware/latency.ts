import { middleware } from "../init.ts";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Times every call into the latency histograms (`ctx.deps.latency`): its duration, and how long
 * it waited on Redis and on the database. Recording does no I/O (flushed in batches off the
 * request path), so a call sends the same Redis commands with or without it. Also applies the
 * test-only `TEST_PROCEDURE_DELAY` (never set in production), inside the timed span.
 */
export const timed = middleware(({ ctx, path, next }) => {
  const delayMs = ctx.deps.settings.procedureDelays?.get(path);
  const run =
    delayMs === undefined
      ? () => next()
      : async () => {
          await sleep(delayMs);
          return next();
        };
  const latency = ctx.deps.latency;
  return latency ? latency.call(path, run) : run();
});
