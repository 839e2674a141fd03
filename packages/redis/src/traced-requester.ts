import { exists } from "@ioredis/commands";
import {
  SpanKind,
  context,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from "@opentelemetry/api";
import type { Requester, UpstashRequest, UpstashResponse } from "@upstash/redis";
import { failSpan, scriptNameOf } from "./tracing.ts";

/** Tracer of the Redis round trips (instrumentation scope `@hotpath/redis`). */
const tracer: Tracer = trace.getTracer("@hotpath/redis");

/** Command names listed on a pipeline span; a longer pipeline ends its list with `…`. */
const MAX_LISTED_COMMANDS = 64;
const SCRIPT_COMMANDS = new Set(["evalsha", "evalsha_ro", "eval", "eval_ro"]);

/**
 * The name of one command as traced: upper case when Redis's command table knows it, else
 * `UNKNOWN` (the first element is ours, but a name is never allowed to carry data), plus the
 * script's name for EVAL/EVALSHA when it was given one with `nameScript`.
 */
function commandLabel(command: unknown): string {
  if (!Array.isArray(command) || typeof command[0] !== "string") return "UNKNOWN";
  const name = command[0].toLowerCase();
  if (!exists(name)) return "UNKNOWN";
  const upper = name.toUpperCase();
  if (!SCRIPT_COMMANDS.has(name) || typeof command[1] !== "string") return upper;
  const script = scriptNameOf(command[1]);
  return script === undefined ? upper : `${upper} ${script}`;
}

function describe(req: UpstashRequest): { name: string; attributes: Attributes } {
  const endpoint = req.path?.[0] ?? "";
  if (endpoint === "") {
    const label = commandLabel(req.body);
    const space = label.indexOf(" ");
    return {
      name: label,
      attributes:
        space < 0
          ? { "db.operation.name": label }
          : {
              "db.operation.name": label.slice(0, space),
              "db.stored_procedure.name": label.slice(space + 1),
            },
    };
  }
  if ((endpoint === "pipeline" || endpoint === "multi-exec") && Array.isArray(req.body)) {
    const commands = req.body as unknown[];
    const labels = commands.slice(0, MAX_LISTED_COMMANDS).map(commandLabel);
    if (commands.length > MAX_LISTED_COMMANDS) labels.push("…");
    const name = endpoint === "pipeline" ? "PIPELINE" : "MULTI";
    return {
      name,
      attributes: {
        "db.operation.name": name,
        "db.operation.batch.size": commands.length,
        "hotpath.redis.commands": labels,
      },
    };
  }
  // Subscriptions: the channel or pattern is the caller's data, so only the endpoint is named.
  const name = endpoint === "subscribe" || endpoint === "psubscribe" ? endpoint : "unknown";
  return { name: name.toUpperCase(), attributes: { "db.operation.name": name.toUpperCase() } };
}

/**
 * A `Requester` that traces each round trip as a CLIENT span (`db.system.name: redis`) under the
 * active span: the command name (`GET`, `EVALSHA cache.read`), or for a pipeline or transaction
 * the list of command names — never a key, an argument or a reply. A round trip outside any
 * recorded trace (no SDK registered, background metric flushes) is sent as it is, no span.
 */
export class TracedRequester implements Requester {
  readonly #inner: Requester;
  readonly #base: Attributes;

  constructor(inner: Requester, base: { transport: string; url: string }) {
    this.#inner = inner;
    const url = new URL(base.url);
    const port = url.port === "" ? undefined : Number(url.port);
    this.#base = {
      "db.system.name": "redis",
      "hotpath.redis.transport": base.transport,
      "server.address": url.hostname,
      ...(port === undefined ? {} : { "server.port": port }),
    };
  }

  request<TResult = unknown>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
    const parent = trace.getActiveSpan();
    if (parent === undefined || !parent.isRecording()) return this.#inner.request<TResult>(req);
    const { name, attributes } = describe(req);
    const span = tracer.startSpan(name, {
      kind: SpanKind.CLIENT,
      attributes: { ...this.#base, ...attributes },
    });
    return context
      .with(trace.setSpan(context.active(), span), () => this.#inner.request<TResult>(req))
      .then(
        (response) => {
          recordItemErrors(span, response);
          span.end();
          return response;
        },
        (error: unknown) => {
          failSpan(span, error);
          span.end();
          throw error;
        },
      );
  }
}

/** A pipeline's commands that Redis refused (the first word of each error only, e.g. `NOSCRIPT`). */
function recordItemErrors(span: Span, response: unknown): void {
  if (!Array.isArray(response)) return;
  const errors: string[] = [];
  for (const item of response as { error?: unknown }[]) {
    if (typeof item?.error === "string") errors.push(/^[A-Z]+/.exec(item.error)?.[0] ?? "ERR");
  }
  if (errors.length > 0) span.setAttribute("hotpath.redis.item_errors", errors);
}
