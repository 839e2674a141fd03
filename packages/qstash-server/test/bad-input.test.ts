import { Client } from "@upstash/qstash";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_CREDENTIALS, DEV_TEST_USERS } from "../src/index.ts";
import { startDestination, startTestServer, waitFor, type Destination } from "./helpers.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let destination: Destination;
const other = DEV_TEST_USERS[0] as (typeof DEV_TEST_USERS)[number];

beforeAll(async () => {
  server = await startTestServer({
    tenants: [other],
    maxBodyBytes: 4096,
    allowedHosts: ["allowed.invalid"],
  });
  destination = await startDestination();
});
afterAll(async () => {
  await server?.close();
  await destination?.close();
});

/** A raw request, for inputs the SDK cannot produce. */
async function raw(
  method: string,
  path: string,
  init: { headers?: Record<string, string>; body?: string; token?: string | null } = {},
): Promise<{ status: number; json: Record<string, unknown> }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.token !== null) headers.Authorization = `Bearer ${init.token ?? DEV_CREDENTIALS.token}`;
  const response = await fetch(`${server.url}${path}`, { method, headers, body: init.body });
  const text = await response.text();
  return { status: response.status, json: JSON.parse(text) as Record<string, unknown> };
}

const expectError = (
  answer: { status: number; json: Record<string, unknown> },
  status: number,
  pattern: RegExp,
) => {
  expect(answer.status).toBe(status);
  expect(String(answer.json.error)).toMatch(pattern);
};

describe("auth", () => {
  it("answers 401 JSON for a missing, unknown or non-Bearer token on every endpoint", async () => {
    for (const path of ["/v2/keys", "/v2/publish/http://127.0.0.1:1/x", "/v2/dlq", "/nope"]) {
      expectError(await raw("GET", path, { token: null }), 401, /Unauthorized/);
      expectError(await raw("GET", path, { token: "not-a-known-token" }), 401, /Unauthorized/);
      expectError(
        await raw("GET", path, {
          token: null,
          headers: { Authorization: `Basic ${DEV_CREDENTIALS.token}` },
        }),
        401,
        /Unauthorized/,
      );
    }
    const wrong = new Client({
      baseUrl: server.url,
      token: "wrong-token-123",
      enableTelemetry: false,
    });
    await expect(wrong.publishJSON({ url: `${destination.url}/x`, body: {} })).rejects.toThrow(
      /Unauthorized/,
    );
  });

  it("serves the dev keys to the dev token and each tenant's own keys to it", async () => {
    expect((await raw("GET", "/v2/keys")).json).toEqual({
      current: DEV_CREDENTIALS.currentSigningKey,
      next: DEV_CREDENTIALS.nextSigningKey,
    });
    expect((await raw("GET", "/v2/keys", { token: other.token })).json).toEqual({
      current: other.currentSigningKey,
      next: other.nextSigningKey,
    });
  });

  it("isolates tenants: their messages, DLQ, queues and signing keys are their own", async () => {
    const second = new Client({ baseUrl: server.url, token: other.token, enableTelemetry: false });
    const mine = await server.client.publishJSON({
      url: `${destination.url}/iso`,
      body: {},
      delay: 3600,
    });
    await expect(second.messages.get(mine.messageId)).rejects.toThrow(/not found/);
    await expect(second.messages.cancel(mine.messageId)).rejects.toThrow(/not found/);
    expect(await second.messages.cancel({ all: true })).toEqual({ cancelled: 0 });
    await expect(server.client.messages.get(mine.messageId)).resolves.toMatchObject({
      messageId: mine.messageId,
    });
    await server.client.queue({ queueName: "only-mine" }).upsert({ parallelism: 1 });
    expect((await second.queue().list()).map((q) => q.name)).not.toContain("only-mine");
    const otherDestination = await startDestination({
      keys: { current: other.currentSigningKey, next: other.nextSigningKey },
    });
    try {
      const theirs = await second.publishJSON({ url: `${otherDestination.url}/theirs`, body: {} });
      const delivery = await waitFor(
        () =>
          otherDestination.received.find(
            (r) => r.headers["upstash-message-id"] === theirs.messageId,
          ),
        "the other tenant's delivery",
      );
      expect(delivery.verified).toBe(true);
    } finally {
      await otherDestination.close();
      await server.client.messages.cancel(mine.messageId);
    }
  });
});

describe("bad input answers 4xx JSON naming the problem", () => {
  it("publish: destinations", async () => {
    const base = { headers: { "Content-Type": "application/json" }, body: "{}" };
    expectError(await raw("POST", "/v2/publish/", base), 400, /destination/);
    expectError(await raw("POST", "/v2/publish/ftp://127.0.0.1/x", base), 400, /destination/);
    expectError(await raw("POST", "/v2/publish/http://", base), 400, /not an http\(s\) URL/);
    expectError(
      await raw("POST", "/v2/publish/https://example.com/x", base),
      400,
      /host example.com is not allowed/,
    );
    expectError(await raw("POST", "/v2/publish/http://10.0.0.1/x", base), 400, /not allowed/);
    expectError(
      await raw("POST", "/v2/publish/http://169.254.169.254/latest", base),
      400,
      /not allowed/,
    );
    expectError(await raw("POST", "/v2/publish/no%20such group", base), 400, /destination/);
    expectError(
      await raw("POST", "/v2/publish/missing-group", base),
      404,
      /URL group missing-group/,
    );
    expectError(await raw("POST", "/v2/publish/api/llm", base), 501, /LLM API/);
    const allowed = await raw("POST", "/v2/publish/http://allowed.invalid/x", {
      ...base,
      headers: { ...base.headers, "Upstash-Retries": "0" },
    });
    expect(allowed.status).toBe(200);
    await expect(
      server.client.publishJSON({ url: "https://example.com/x", body: {} }),
    ).rejects.toThrow(/not allowed/);
  });

  it("publish: headers and body", async () => {
    const url = `/v2/publish/${destination.url}/bad`;
    const cases: [Record<string, string>, RegExp][] = [
      [{ "Upstash-Delay": "soon" }, /Upstash-Delay/],
      [{ "Upstash-Retries": "-1" }, /Upstash-Retries/],
      [{ "Upstash-Retries": "1000" }, /Upstash-Retries/],
      [{ "Upstash-Method": "FETCH" }, /Upstash-Method/],
      [{ "Upstash-Not-Before": "tomorrow" }, /Upstash-Not-Before/],
      [{ "Upstash-Timeout": "0s" }, /Upstash-Timeout/],
      [{ "Upstash-Retry-Delay": "pow(2," }, /Upstash-Retry-Delay/],
      [{ "Upstash-Callback": "not a url" }, /Upstash-Callback/],
      [
        { "Upstash-Failure-Callback": "https://example.com/cb" },
        /Upstash-Failure-Callback.*not allowed/,
      ],
      [
        { "Upstash-Flow-Control-Key": "k", "Upstash-Flow-Control-Value": "speed=3" },
        /Upstash-Flow-Control-Value/,
      ],
      [{ "Upstash-Flow-Control-Value": "parallelism=3" }, /needs Upstash-Flow-Control-Key/],
      [{ "Upstash-Flow-Control-Key": "bad key!" }, /Upstash-Flow-Control-Key/],
      [{ "Upstash-Redact-Fields": "everything" }, /Upstash-Redact-Fields/],
      [{ "Upstash-Content-Based-Deduplication": "yes" }, /Upstash-Content-Based-Deduplication/],
      [{ "Upstash-Label": "," }, /Upstash-Label/],
    ];
    for (const [headers, pattern] of cases) {
      expectError(await raw("POST", url, { headers, body: "x" }), 400, pattern);
    }
    expectError(
      await raw("POST", url, { body: "x".repeat(5000) }),
      413,
      /larger than the limit of 4096 bytes/,
    );
    await expect(
      server.client.publish({ url: `${destination.url}/bad`, body: "x", delay: "later" as "1s" }),
    ).rejects.toThrow(/Upstash-Delay/);
  });

  it("batch and enqueue", async () => {
    expectError(await raw("POST", "/v2/batch", { body: "not json" }), 400, /not valid JSON/);
    expectError(await raw("POST", "/v2/batch", { body: "{}" }), 400, /non-empty JSON array/);
    expectError(await raw("POST", "/v2/batch", { body: "[]" }), 400, /non-empty JSON array/);
    expectError(
      await raw("POST", "/v2/batch", { body: '[{"headers":{}}]' }),
      400,
      /batch\[0\].destination/,
    );
    expectError(
      await raw("POST", "/v2/batch", {
        body: JSON.stringify([
          { destination: `${destination.url}/b`, headers: {} },
          { destination: `${destination.url}/b`, headers: { "upstash-retries": "many" } },
        ]),
      }),
      400,
      /batch\[1\].*Upstash-Retries/,
    );
    expect(destination.received.filter((r) => r.path === "/b")).toHaveLength(0);
    expectError(
      await raw("POST", `/v2/enqueue/bad:name/${destination.url}/e`, { body: "x" }),
      400,
      /queue name/,
    );
  });

  it("messages, DLQ and events filters", async () => {
    expectError(await raw("DELETE", "/v2/messages?labell=x"), 400, /unknown parameter.*labell/);
    expectError(await raw("GET", "/v2/dlq?count=zero"), 400, /count/);
    expectError(await raw("GET", "/v2/dlq?cursor=abc"), 400, /cursor/);
    expectError(await raw("GET", "/v2/dlq?fromDate=yesterday"), 400, /fromDate/);
    expectError(await raw("GET", "/v2/events?colour=red"), 400, /unknown parameter.*colour/);
    await expect(server.client.messages.get("msg_missing")).rejects.toMatchObject({ status: 404 });
    await expect(server.client.dlq.listMessages({ filter: { nope: 1 } as never })).rejects.toThrow(
      /unknown parameter/,
    );
  });

  it("schedules, queues, URL groups, flow control", async () => {
    expectError(
      await raw("POST", `/v2/schedules/${destination.url}/s`, {}),
      400,
      /Upstash-Cron: required/,
    );
    expectError(
      await raw("POST", `/v2/schedules/${destination.url}/s`, {
        headers: { "Upstash-Cron": "* * * *" },
      }),
      400,
      /4 fields/,
    );
    expectError(
      await raw("POST", `/v2/schedules/${destination.url}/s`, {
        headers: { "Upstash-Cron": "* * * * *", "Upstash-Schedule-Id": "a:b" },
      }),
      400,
      /Upstash-Schedule-Id/,
    );
    await expect(server.client.schedules.get("none-such")).rejects.toThrow(
      /schedule none-such not found/,
    );
    await expect(server.client.schedules.pause({ schedule: "none-such" })).rejects.toThrow(
      /not found/,
    );
    expectError(await raw("POST", "/v2/queues", { body: "[]" }), 400, /JSON object/);
    expectError(
      await raw("POST", "/v2/queues", { body: '{"queueName":"q","parallelism":0}' }),
      400,
      /parallelism/,
    );
    expectError(
      await raw("POST", "/v2/queues", { body: '{"queueName":"q","speed":1}' }),
      400,
      /unknown field speed/,
    );
    await expect(
      server.client.queue({ queueName: "a b" }).upsert({ parallelism: 1 }),
    ).rejects.toThrow(/queueName/);
    expectError(
      await raw("POST", "/v2/topics/g/endpoints", { body: '{"endpoints":[]}' }),
      400,
      /at least one/,
    );
    expectError(
      await raw("POST", "/v2/topics/g/endpoints", { body: '{"endpoints":[{"url":"nope"}]}' }),
      400,
      /endpoints\[0\].url/,
    );
    await expect(server.client.flowControl.pin("none", { parallelism: 2 })).rejects.toThrow(
      /flow-control key none not found/,
    );
    expectError(await raw("POST", "/v2/flowControl/none/pin?speed=2"), 400, /unknown parameter/);
  });

  it("unknown endpoints, wrong methods, workflow and LLM APIs", async () => {
    expectError(await raw("GET", "/v2/nothing-here"), 404, /unknown endpoint/);
    expectError(await raw("PUT", "/v2/keys"), 405, /not allowed/);
    await expect(server.client.workflow.cancel("wfr_1")).rejects.toThrow(/workflow API/);
    expectError(await raw("POST", "/llm/v1/chat/completions", { body: "{}" }), 501, /LLM API/);
  });
});
