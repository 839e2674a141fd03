import { fingerprintPayload } from "./canonical-json.ts";
import { CacheError } from "./errors.ts";
import type { Execute, IdempotencyStore } from "./idempotency-types.ts";

/**
 * Builds `withIdempotency` (the fetch-style wrapper) on the store's claim-run-complete core:
 * fingerprints method + path + body, stores status, replay headers and body, replays them with
 * `Idempotent-Replayed: true`, and answers 400/409/422/503 as problem JSON itself.
 */
export function createWithIdempotency(
  execute: Execute,
  storeClientErrors: boolean,
): IdempotencyStore["withIdempotency"] {
  return async (request, handler, o) => {
    const header = request.headers.get("idempotency-key");
    if (header === null && o.optional) return handler(request, new AbortController().signal);
    const replayHeaders = o.replayHeaders ?? ["content-type", "location"];
    try {
      const body = request.body === null ? "" : await request.clone().text();
      const url = new URL(request.url);
      const fingerprint = await fingerprintPayload({
        method: request.method,
        path: url.pathname + url.search,
        body: parseMaybeJson(body),
      });
      const result = await execute<Response>(
        header ?? "",
        fingerprint,
        o.principal,
        async (signal) => {
          const response = await handler(request, signal);
          const storable = response.status < 400 || (storeClientErrors && response.status < 500);
          if (!storable) return { output: response, store: null };
          const text = await response.clone().text();
          const headers: [string, string][] = [];
          for (const name of replayHeaders) {
            const value = response.headers.get(name);
            if (value !== null) headers.push([name, value]);
          }
          return {
            output: response,
            store: {
              kind: "value",
              text: JSON.stringify({ status: response.status, headers, body: text }),
            },
          };
        },
        (stored) => {
          if (stored.kind === "error") return problem(stored.status, stored.message);
          const saved = JSON.parse(stored.text) as {
            status: number;
            headers: [string, string][];
            body: string;
          };
          const headers = new Headers(saved.headers);
          headers.set("idempotent-replayed", "true");
          return new Response(saved.status === 204 || saved.status === 304 ? null : saved.body, {
            status: saved.status,
            headers,
          });
        },
      );
      return result.value;
    } catch (error) {
      if (error instanceof CacheError && error.status !== undefined) {
        return problem(error.status, error.message, error.retryAfter);
      }
      throw error;
    }
  };
}

function parseMaybeJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function problem(status: number, message: string, retryAfter?: number): Response {
  const headers = new Headers({ "content-type": "application/json" });
  if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
  const error =
    status === 400
      ? "Bad Request"
      : status === 409
        ? "Conflict"
        : status === 422
          ? "Unprocessable Content"
          : status === 503
            ? "Service Unavailable"
            : "Error";
  return new Response(
    JSON.stringify({ error, message, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    { status, headers },
  );
}
