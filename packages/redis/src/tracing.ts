// `@hotpath/redis/tracing`: the OpenTelemetry seams every Hotpath package shares. Only
// `@opentelemetry/api` (no SDK, no node:*): with no tracer provider registered every span is the
// API's no-op span, and the helpers below skip all attribute work for it.
import {
  ROOT_CONTEXT,
  SpanStatusCode,
  context,
  propagation,
  trace,
  type Context,
  type Span,
  type SpanOptions,
  type TextMapGetter,
  type Tracer,
} from "@opentelemetry/api";

const MAX_SCRIPT_NAMES = 1000;
const namesBySha = new Map<string, string>();
const namesBySource = new Map<string, string>();

/**
 * Names a Lua script for traces: its `EVALSHA` (and `EVAL`) round trips are shown as
 * `EVALSHA <name>` with `db.stored_procedure.name`. The SHA-1 is computed with Web Crypto, so the
 * name is known once the returned promise settles (call it where the script is defined). At most
 * 1000 scripts are remembered; a script never named is traced as a bare `EVALSHA`.
 */
export async function nameScript(source: string, name: string): Promise<void> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(source));
  if (namesBySha.size >= MAX_SCRIPT_NAMES) return;
  let sha = "";
  for (const byte of new Uint8Array(digest)) sha += byte.toString(16).padStart(2, "0");
  namesBySha.set(sha, name);
  namesBySource.set(source, name);
}

/** The name given to a script with {@link nameScript}, by its SHA-1 (lower-case hex) or its source. */
export function scriptNameOf(shaOrSource: string): string | undefined {
  return namesBySha.get(shaOrSource.toLowerCase()) ?? namesBySource.get(shaOrSource);
}

/**
 * The `error.type` of a failure: a typed error's stable `code` (`REDIS_TIMEOUT`,
 * `IDEMPOTENCY_IN_FLIGHT`…), else its class name. Never its message: a Redis error message can
 * quote the command with its keys and values.
 */
export function errorTypeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && code !== "") return code;
  return error instanceof Error ? error.name : "Error";
}

/** Marks a span failed with {@link errorTypeOf} as `error.type` and status message. */
export function failSpan(span: Span, error: unknown): void {
  const type = errorTypeOf(error);
  span.setAttribute("error.type", type);
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
}

/**
 * Runs `run` inside a new span made active (so spans started beneath become its children), ends
 * it when the promise settles and marks it failed on a rejection. `run` gets `undefined` instead
 * of the span when nothing records it (no SDK registered, or sampled out): it should then skip
 * computing attributes — that is the whole cost of tracing when it is off.
 */
export function withSpan<T>(
  tracer: Tracer,
  name: string,
  options: SpanOptions,
  run: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  const span = tracer.startSpan(name, options);
  if (!span.isRecording()) return run(undefined);
  let pending: Promise<T>;
  try {
    pending = context.with(trace.setSpan(context.active(), span), run, undefined, span);
  } catch (error) {
    failSpan(span, error);
    span.end();
    throw error;
  }
  return pending.then(
    (value) => {
      span.end();
      return value;
    },
    (error: unknown) => {
      failSpan(span, error);
      span.end();
      throw error;
    },
  );
}

/**
 * {@link withSpan} for an operation that only means something inside a trace (a cache read, a
 * rate-limit check, an idempotency claim): with no recording span active it calls `run(undefined)`
 * straight away — no span is started, not even a no-op one — so the hot path pays one
 * `getActiveSpan()` when tracing is off. Inside a recorded trace it is {@link withSpan}.
 */
export function withChildSpan<T>(
  tracer: Tracer,
  name: string,
  options: SpanOptions,
  run: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (trace.getActiveSpan()?.isRecording() !== true) return run(undefined);
  return withSpan(tracer, name, options, run);
}

/**
 * A `TextMapGetter` over the Fetch API's `Headers`, for `propagation.extract(ctx, headers,
 * fetchHeadersGetter)` (the API's default getter reads plain objects only).
 */
export const fetchHeadersGetter: TextMapGetter<Headers> = {
  keys: (headers) => [...headers.keys()],
  get: (headers, key) => headers.get(key) ?? undefined,
};

/**
 * The context a server-side span should start in: the active one when a span is already active
 * (an HTTP instrumentation continued the caller's trace), else the caller's `traceparent` from
 * `headers` (through the registered propagator; none registered: the active context unchanged).
 */
export function incomingContext(headers: Headers): Context {
  const active = context.active();
  return trace.getSpan(active) === undefined
    ? propagation.extract(active, headers, fetchHeadersGetter)
    : active;
}

/**
 * Runs `fn` with no active span, so background work a call merely starts — a batched metrics
 * flush, a timer, a long-lived subscription — is not traced as part of that call (nor keeps its
 * context alive). Without a context manager registered it is a plain call.
 */
export function outsideTraces<T>(fn: () => T): T {
  return context.with(ROOT_CONTEXT, fn);
}
