import { failSpan, incomingContext } from "@hotpath/redis/tracing";
import { SpanKind, SpanStatusCode, context, trace } from "@opentelemetry/api";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { middleware } from "../init.ts";

/** Tracer of the API (instrumentation scope `@hotpath/api`). */
const tracer = trace.getTracer("@hotpath/api");

/**
 * The outermost middleware of every procedure: one SERVER span per tRPC call, named by the
 * procedure path (`tips.quick`), continuing the caller's trace (an active HTTP span, else the
 * request's `traceparent`); what the call does (rate limit, idempotency, cache, Redis round trips,
 * job publishes) nests under it. Attributes: `rpc.system` `trpc`, `rpc.method`, `trpc.type`,
 * `http.response.status_code` and, on failure, `trpc.error.code`; a 5xx marks the span failed.
 * Nothing is done beyond one no-op span when no tracer provider is registered.
 */
export const traced = middleware(({ ctx, path, type, next }) => {
  const parent = incomingContext(ctx.headers);
  const span = tracer.startSpan(
    path,
    {
      kind: SpanKind.SERVER,
      attributes: { "rpc.system": "trpc", "rpc.method": path, "trpc.type": type },
    },
    parent,
  );
  if (!span.isRecording()) return next();
  return context
    .with(trace.setSpan(parent, span), () => next())
    .then(
      (result) => {
        if (result.ok) span.setAttribute("http.response.status_code", 200);
        else {
          const status = getHTTPStatusCodeFromError(result.error);
          span.setAttributes({
            "http.response.status_code": status,
            "trpc.error.code": result.error.code,
          });
          if (status >= 500) {
            span.setAttribute("error.type", result.error.code);
            span.setStatus({ code: SpanStatusCode.ERROR, message: result.error.code });
          }
        }
        span.end();
        return result;
      },
      (error: unknown) => {
        failSpan(span, error);
        span.end();
        throw error;
      },
    );
});
