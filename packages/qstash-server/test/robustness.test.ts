import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_CREDENTIALS } from "../src/index.ts";
import { startTestServer } from "./helpers.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;

beforeAll(async () => {
  server = await startTestServer({ maxBodyBytes: 64 * 1024 });
});
afterAll(async () => {
  await server?.close();
});

async function send(method: string, path: string, headers: Record<string, string>, body?: string) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { Authorization: `Bearer ${DEV_CREDENTIALS.token}`, ...headers },
    body,
  });
  const text = await response.text();
  return { status: response.status, text };
}

/** Every answer is JSON, and no input is a server error. */
function expectHandled(answer: { status: number; text: string }, input: unknown): void {
  expect(answer.status, JSON.stringify(input)).not.toBe(500);
  expect(() => JSON.parse(answer.text) as unknown, answer.text).not.toThrow();
}

const headerValue = fc.string({ maxLength: 40 }).map((s) => s.replace(/[^\x20-\x7e]/g, "").trim());
const upstashHeader = fc.constantFrom(
  "Upstash-Delay",
  "Upstash-Not-Before",
  "Upstash-Retries",
  "Upstash-Retry-Delay",
  "Upstash-Method",
  "Upstash-Timeout",
  "Upstash-Callback",
  "Upstash-Flow-Control-Key",
  "Upstash-Flow-Control-Value",
  "Upstash-Label",
  "Upstash-Redact-Fields",
  "Upstash-Deduplication-Id",
  "Upstash-Cron",
  "Upstash-Schedule-Id",
);

describe("no crash on any input", () => {
  it("publish and schedules with arbitrary Upstash-* headers and paths", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(upstashHeader, headerValue, { maxKeys: 4 }),
        fc.constantFrom("/v2/publish/", "/v2/schedules/", "/v2/enqueue/q/"),
        fc.string({ maxLength: 30 }).map((s) => encodeURI(s)),
        async (headers, prefix, tail) => {
          const answer = await send("POST", `${prefix}http://127.0.0.1:9/${tail}`, headers, "x");
          expectHandled(answer, { headers, prefix, tail });
        },
      ),
      { numRuns: 150 },
    );
    await server.client.messages.cancel({ all: true, count: 100_000 });
    for (const schedule of await server.client.schedules.list()) {
      await server.client.schedules.delete(schedule.scheduleId);
    }
  });

  it("JSON endpoints with arbitrary JSON bodies", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("/v2/batch", "/v2/queues", "/v2/topics/g/endpoints"),
        fc.jsonValue({ maxDepth: 3 }),
        async (path, value) => {
          const answer = await send(
            "POST",
            path,
            { "Content-Type": "application/json" },
            JSON.stringify(value),
          );
          expectHandled(answer, { path, value });
        },
      ),
      { numRuns: 150 },
    );
    await server.client.messages.cancel({ all: true, count: 100_000 });
  });

  it("arbitrary query strings on the filtered endpoints", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          ["GET", "/v2/dlq"],
          ["DELETE", "/v2/dlq"],
          ["POST", "/v2/dlq/retry"],
          ["GET", "/v2/events"],
          ["DELETE", "/v2/messages"],
        ),
        fc.dictionary(
          fc.constantFrom(
            "count",
            "cursor",
            "fromDate",
            "label",
            "url",
            "state",
            "responseStatus",
            "x",
          ),
          fc.string({ maxLength: 12 }),
          { maxKeys: 3 },
        ),
        async ([method, path], query) => {
          const answer = await send(method, `${path}?${new URLSearchParams(query).toString()}`, {});
          expectHandled(answer, { method, path, query });
        },
      ),
      { numRuns: 150 },
    );
    const keys = await send("GET", "/v2/keys", {});
    expect(keys.status).toBe(200);
  });
});
