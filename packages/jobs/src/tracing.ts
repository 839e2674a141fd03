import { incomingContext, withSpan } from "@hotpath/redis/tracing";
import {
  SpanKind,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Attributes,
} from "@opentelemetry/api";

/** Tracer of the jobs (instrumentation scope `@hotpath/jobs`). */
const tracer = trace.getTracer("@hotpath/jobs");

/**
 * The W3C trace context of the active span as headers (`traceparent`, `tracestate`) for a
 * message: the QStash SDK sends them as `Upstash-Forward-*`, so the delivery carries them.
 * Undefined when nothing is traced (no propagator registered, or no active span).
 */
export function traceHeaders(): Record<string, string> | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent === undefined ? undefined : carrier;
}

/** Runs `publish` in a PRODUCER span `publish <job>` (messaging attributes, the message id). */
export function tracedPublish<T extends { messageId: string }>(
  job: string,
  publish: () => Promise<T>,
): Promise<T> {
  return withSpan(
    tracer,
    `publish ${job}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        "messaging.system": "qstash",
        "messaging.operation.name": "publish",
        "messaging.operation.type": "send",
        "messaging.destination.name": job,
      },
    },
    async (span) => {
      const published = await publish();
      span?.setAttribute("messaging.message.id", published.messageId);
      return published;
    },
  );
}

/**
 * Runs a verified delivery in a CONSUMER span `process <job>` that continues the publisher's
 * trace (its parent is the publish span, from the forwarded `traceparent`), with the message id,
 * the retry count and the answer's status; a 5xx answer marks it failed.
 */
export function tracedDelivery(
  request: Request,
  job: string,
  attributes: Attributes,
  deliver: () => Promise<Response>,
): Promise<Response> {
  return context.with(incomingContext(request.headers), () =>
    withSpan(
      tracer,
      `process ${job}`,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          "messaging.system": "qstash",
          "messaging.operation.name": "process",
          "messaging.operation.type": "process",
          "messaging.destination.name": job,
          ...attributes,
        },
      },
      async (span) => {
        const response = await deliver();
        if (span) {
          span.setAttribute("http.response.status_code", response.status);
          if (response.status >= 500) {
            span.setAttribute("error.type", String(response.status));
            span.setStatus({ code: SpanStatusCode.ERROR, message: `HTTP ${response.status}` });
          }
        }
        return response;
      },
    ),
  );
}
