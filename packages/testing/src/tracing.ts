// `@hotpath/testing/tracing`: the OpenTelemetry SDK with its in-memory exporter, registered the
// way an application would register it, so tests see the spans the packages produce.
import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
} from "@opentelemetry/sdk-trace-base";

export type { ReadableSpan } from "@opentelemetry/sdk-trace-base";

/** What {@link recordSpans} registered: the finished spans, and how to unregister. */
export interface SpanRecorder {
  /** Every span ended since the start (or the last `reset`), in the order they ended. */
  spans(): ReadableSpan[];
  /** The ended spans of one trace. */
  trace(traceId: string): ReadableSpan[];
  /** The ended spans whose parent is `parent`. */
  children(parent: ReadableSpan): ReadableSpan[];
  /** Forgets the spans recorded so far. */
  reset(): void;
  /** Unregisters the provider, the context manager and the propagator. */
  stop(): Promise<void>;
}

/** Options of {@link recordSpans}. */
export interface RecordSpansOptions {
  /**
   * Share of new traces recorded (0..1; a child follows its parent's decision), as a production
   * sampler would (benchmarks). @default 1 (every trace)
   */
  ratio?: number;
}

/**
 * Registers a tracer provider exporting to memory, the AsyncLocalStorage context manager and the
 * W3C trace-context propagator as the globals of `@opentelemetry/api` (call it before the code
 * under test starts its first span; one recorder per test file).
 */
export function recordSpans(options: RecordSpansOptions = {}): SpanRecorder {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    ...(options.ratio === undefined
      ? {}
      : { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.ratio) }) }),
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const spans = () => exporter.getFinishedSpans();
  return {
    spans,
    trace: (traceId) => spans().filter((span) => span.spanContext().traceId === traceId),
    children: (parent) =>
      spans().filter(
        (span) =>
          span.parentSpanContext?.spanId === parent.spanContext().spanId &&
          span.spanContext().traceId === parent.spanContext().traceId,
      ),
    reset: () => exporter.reset(),
    async stop() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
