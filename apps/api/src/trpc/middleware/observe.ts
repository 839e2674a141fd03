import { middleware } from "../init.ts";
import { retryAfterFor, toTRPCError } from "../errors.ts";

/**
 * The outermost middleware of every procedure: maps package errors to tRPC codes (one map,
 * ../errors.ts), sets `Retry-After` when the error says when to retry, and logs one structured
 * line per call with its duration.
 */
export const observe = middleware(async ({ ctx, path, type, next }) => {
  const started = performance.now();
  const result = await next();
  const durationMs = Math.round((performance.now() - started) * 100) / 100;
  if (result.ok) {
    ctx.deps.logger.info("call", { requestId: ctx.requestId, path, type, durationMs, ok: true });
    return result;
  }
  const error = toTRPCError(result.error);
  const retryAfter = retryAfterFor(error);
  if (retryAfter !== undefined) ctx.resHeaders.set("Retry-After", String(retryAfter));
  const serverSide = error.code === "INTERNAL_SERVER_ERROR" || error.code === "SERVICE_UNAVAILABLE";
  ctx.deps.logger[serverSide ? "error" : "info"]("call", {
    requestId: ctx.requestId,
    path,
    type,
    durationMs,
    ok: false,
    code: error.code,
    error: serverSide ? String(error.cause ?? error.message) : error.message,
  });
  return { ...result, error };
});
