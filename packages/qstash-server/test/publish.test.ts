import { freePort } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDestination, startTestServer, waitFor, type Destination } from "./helpers.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let destination: Destination;

beforeAll(async () => {
  server = await startTestServer();
  destination = await startDestination({
    respond: (request) => {
      const status = /status=(\d+)/.exec(request.path)?.[1];
      return { status: status ? Number(status) : 200, body: "ok" };
    },
  });
});
afterAll(async () => {
  await server?.close();
  await destination?.close();
});

const deliveriesOf = (messageId: string) =>
  destination.received.filter((r) => r.headers["upstash-message-id"] === messageId);

describe("publish → delivery", () => {
  it("delivers one verified message with QStash's headers, URL taken raw with its query", async () => {
    const { messageId } = await server.client.publishJSON({
      url: `${destination.url}/hook//a?x=1&y=%2F`,
      body: { hello: "world" },
      headers: { "Test-Header": "a, b" },
    });
    const [delivery] = await waitFor(
      () => deliveriesOf(messageId).length > 0 && deliveriesOf(messageId),
      "the delivery",
    );
    expect(delivery?.verified).toBe(true);
    expect(delivery?.method).toBe("POST");
    expect(delivery?.path).toBe("/hook//a?x=1&y=%2F");
    expect(JSON.parse(delivery?.body ?? "")).toEqual({ hello: "world" });
    expect(delivery?.headers["test-header"]).toBe("a, b");
    expect(delivery?.headers["content-type"]).toBe("application/json");
    expect(delivery?.headers["user-agent"]).toBe("Upstash-QStash");
    expect(delivery?.headers["upstash-retried"]).toBe("0");
    expect(delivery?.headers["upstash-telemetry-sdk"]).toBeUndefined();
  });

  it("forwards raw bodies and the method, and signs an empty body", async () => {
    const raw = await server.client.publish({
      url: `${destination.url}/raw`,
      body: "plain text",
      method: "PUT",
    });
    const empty = await server.client.publish({
      url: `${destination.url}/empty`,
      method: "DELETE",
    });
    const [a] = await waitFor(
      () => deliveriesOf(raw.messageId).length > 0 && deliveriesOf(raw.messageId),
      "raw",
    );
    const [b] = await waitFor(
      () => deliveriesOf(empty.messageId).length > 0 && deliveriesOf(empty.messageId),
      "empty",
    );
    expect([a?.method, a?.body, a?.verified]).toEqual(["PUT", "plain text", true]);
    expect([b?.method, b?.body, b?.verified]).toEqual(["DELETE", "", true]);
  });

  it("honours delay and not-before: never delivered before the time asked for", async () => {
    const sentAt = Date.now();
    const delayed = await server.client.publishJSON({
      url: `${destination.url}/delayed`,
      body: {},
      delay: 1,
    });
    const notBeforeSeconds = Math.ceil(Date.now() / 1000) + 1;
    const pinned = await server.client.publishJSON({
      url: `${destination.url}/not-before`,
      body: {},
      notBefore: notBeforeSeconds,
    });
    const pending = await server.client.messages.get(delayed.messageId);
    expect(pending.notBefore).toBeGreaterThanOrEqual(sentAt + 1000);
    const [d] = await waitFor(
      () => deliveriesOf(delayed.messageId).length > 0 && deliveriesOf(delayed.messageId),
      "delayed",
    );
    const [p] = await waitFor(
      () => deliveriesOf(pinned.messageId).length > 0 && deliveriesOf(pinned.messageId),
      "pinned",
    );
    expect(d?.at).toBeGreaterThanOrEqual(sentAt + 1000);
    expect(p?.at).toBeGreaterThanOrEqual(notBeforeSeconds * 1000);
  });

  it("retries a destination answering 500 then 200 and delivers once more only", async () => {
    let calls = 0;
    const flaky = await startDestination({
      respond: () => ({ status: ++calls === 1 ? 500 : 200 }),
    });
    try {
      const { messageId } = await server.client.publishJSON({
        url: `${flaky.url}/flaky`,
        body: { n: 1 },
      });
      await waitFor(() => flaky.received.length >= 2, "the retry");
      await waitFor(
        async () =>
          (await server.client.messages.get(messageId).catch(() => undefined)) === undefined,
        "completion",
      );
      expect(flaky.received.map((r) => r.headers["upstash-retried"])).toEqual(["0", "1"]);
      expect(flaky.received.every((r) => r.verified)).toBe(true);
      const events = await server.client.events({ filter: { messageId } });
      expect(events.events.map((e) => e.state).reverse()).toEqual([
        "CREATED",
        "ACTIVE",
        "ERROR",
        "RETRY",
        "ACTIVE",
        "DELIVERED",
      ]);
    } finally {
      await flaky.close();
    }
  });

  it("honours Retry-After from the destination (scaled like every delay)", async () => {
    let calls = 0;
    const limited = await startDestination({
      respond: () =>
        ++calls === 1 ? { status: 429, headers: { "Retry-After": "3000" } } : { status: 200 },
    });
    try {
      const { messageId } = await server.client.publishJSON({
        url: limited.url,
        body: {},
        retries: 1,
      });
      await waitFor(() => limited.received.length >= 2, "the retry");
      // scale 0.001: 3000 s → 3 s; the default first retry would be 12 ms.
      expect(
        (limited.received[1]?.at ?? 0) - (limited.received[0]?.at ?? 0),
      ).toBeGreaterThanOrEqual(2900);
      const events = await server.client.events({ filter: { messageId, state: "RETRY" } });
      expect(events.events).toHaveLength(1);
    } finally {
      await limited.close();
    }
  });

  it("deduplicates by id: a second publish answers the first id and delivers nothing", async () => {
    const first = await server.client.publishJSON({
      url: `${destination.url}/dedup`,
      body: { a: 1 },
      deduplicationId: "same-id",
    });
    const second = await server.client.publishJSON({
      url: `${destination.url}/dedup`,
      body: { a: 2 },
      deduplicationId: "same-id",
    });
    expect(second.messageId).toBe(first.messageId);
    expect(second.deduplicated).toBe(true);
    const byContent1 = await server.client.publishJSON({
      url: `${destination.url}/content`,
      body: { c: 1 },
      contentBasedDeduplication: true,
    });
    const byContent2 = await server.client.publishJSON({
      url: `${destination.url}/content`,
      body: { c: 1 },
      contentBasedDeduplication: true,
    });
    expect(byContent2).toMatchObject({ messageId: byContent1.messageId, deduplicated: true });
    await waitFor(
      () =>
        deliveriesOf(first.messageId).length === 1 &&
        deliveriesOf(byContent1.messageId).length === 1,
      "both deliveries",
    );
    const marker = await server.client.publishJSON({
      url: `${destination.url}/dedup-marker`,
      body: {},
    });
    await waitFor(() => deliveriesOf(marker.messageId).length === 1, "a later delivery");
    expect(
      destination.received.filter((r) => r.path === "/dedup" || r.path === "/content"),
    ).toHaveLength(2);
  });

  it("cancels a pending message: it is never delivered and get answers 404", async () => {
    const { messageId } = await server.client.publishJSON({
      url: `${destination.url}/cancel-me`,
      body: {},
      delay: 3600,
    });
    const message = await server.client.messages.get(messageId);
    expect(message).toMatchObject({
      messageId,
      url: `${destination.url}/cancel-me`,
      maxRetries: 3,
    });
    await expect(server.client.messages.cancel(messageId)).resolves.toEqual({ cancelled: 1 });
    await expect(server.client.messages.get(messageId)).rejects.toThrow(/not found/);
    await expect(server.client.messages.cancel(messageId)).rejects.toThrow(/not found/);
    const events = await server.client.events({ filter: { messageId } });
    expect(events.events[0]?.state).toBe("CANCELLED");
  });

  it("cancels in bulk: by ids, by filter with count, and all", async () => {
    const publish = (label: string) =>
      server.client.publishJSON({ url: `${destination.url}/bulk`, body: {}, delay: 3600, label });
    const a = await publish("bulk-a");
    const b = await publish("bulk-a");
    const c = await publish("bulk-b");
    const d = await publish("bulk-b");
    expect(await server.client.messages.cancel([a.messageId, "msg_unknown"])).toEqual({
      cancelled: 1,
    });
    expect(await server.client.messages.cancel({ filter: { label: "bulk-b" }, count: 1 })).toEqual({
      cancelled: 1,
    });
    const remaining = await server.client.messages.cancel({ all: true });
    expect(remaining.cancelled).toBeGreaterThanOrEqual(2);
    for (const id of [b, c, d].map((m) => m.messageId)) {
      await expect(server.client.messages.get(id)).rejects.toThrow(/not found/);
    }
  });

  it("delivers a batch of 100, each exactly once", async () => {
    const results = await server.client.batchJSON(
      Array.from({ length: 100 }, (_, i) => ({
        url: `${destination.url}/batch/${i}`,
        body: { i },
      })),
    );
    expect(results).toHaveLength(100);
    const ids = results.map((r) => (r as { messageId: string }).messageId);
    await waitFor(() => ids.every((id) => deliveriesOf(id).length >= 1), "100 deliveries", 30_000);
    expect(ids.map((id) => deliveriesOf(id).length)).toEqual(ids.map(() => 1));
    expect(ids.every((id) => deliveriesOf(id)[0]?.verified)).toBe(true);
  });

  it("sends the callback with the response, signed", async () => {
    const { messageId } = await server.client.publishJSON({
      url: `${destination.url}/with-callback`,
      body: { x: 1 },
      callback: `${destination.url}/callback`,
    });
    const callback = await waitFor(
      () => destination.received.find((r) => r.path === "/callback" && r.body.includes(messageId)),
      "the callback",
    );
    expect(callback.verified).toBe(true);
    const payload = JSON.parse(callback.body) as Record<string, unknown>;
    expect(payload).toMatchObject({
      status: 200,
      sourceMessageId: messageId,
      retried: 0,
      maxRetries: 3,
    });
    expect(Buffer.from(String(payload.body), "base64").toString()).toBe("ok");
    expect(Buffer.from(String(payload.sourceBody), "base64").toString()).toBe('{"x":1}');
  });

  it("fails fast on a refused connection: retries 0 reaches the DLQ and fires the failure callback", async () => {
    const closedPort = await freePort();
    const { messageId } = await server.client.publishJSON({
      url: `http://127.0.0.1:${closedPort}/nobody`,
      body: { y: 2 },
      retries: 0,
      failureCallback: `${destination.url}/failure`,
    });
    const failure = await waitFor(
      () => destination.received.find((r) => r.path === "/failure" && r.body.includes(messageId)),
      "the failure callback",
      10_000,
    );
    expect(failure.verified).toBe(true);
    const payload = JSON.parse(failure.body) as Record<string, unknown>;
    expect(payload).toMatchObject({ sourceMessageId: messageId, maxRetries: 0 });
    expect(typeof payload.dlqId).toBe("string");
    const dlq = await server.client.dlq.listMessages({ filter: { messageId } });
    expect(dlq.messages).toHaveLength(1);
    expect(dlq.messages[0]?.dlqId).toBe(payload.dlqId);
  });

  it("times out a slow destination with Upstash-Timeout", async () => {
    const { createServer } = await import("node:http");
    const hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, "127.0.0.1", resolve));
    const port = (hanging.address() as { port: number }).port;
    try {
      const { messageId } = await server.client.publishJSON({
        url: `http://127.0.0.1:${port}/hang`,
        body: {},
        retries: 0,
        timeout: 1,
      });
      const dlq = await waitFor(async () => {
        const list = await server.client.dlq.listMessages({ filter: { messageId } });
        return list.messages.length === 1 && list.messages;
      }, "the DLQ entry");
      expect(dlq[0]).toMatchObject({ messageId });
      const events = await server.client.events({ filter: { messageId, state: "FAILED" } });
      expect(events.events[0]?.error).toMatch(/timed out after 1000 ms/);
    } finally {
      hanging.closeAllConnections();
      hanging.close();
    }
  });
});
