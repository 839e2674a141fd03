import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDestination, startTestServer, waitFor, type Destination } from "./helpers.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let destination: Destination;
let failing = true;

beforeAll(async () => {
  server = await startTestServer();
  destination = await startDestination({
    respond: () =>
      failing
        ? { status: 503, headers: { "X-Why": "down for test" }, body: "try later" }
        : { status: 200 },
  });
});
afterAll(async () => {
  await server?.close();
  await destination?.close();
});

async function failInto(label: string, count: number, retries = 1): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const { messageId } = await server.client.publishJSON({
      url: `${destination.url}/dlq/${label}/${i}`,
      body: { i },
      retries,
      label,
    });
    ids.push(messageId);
  }
  await waitFor(async () => {
    const list = await server.client.dlq.listMessages({ filter: { label }, count: 1000 });
    return list.messages.length === count;
  }, `${count} DLQ entries for ${label}`);
  return ids;
}

describe("dead-letter queue", () => {
  it("keeps an exhausted message with the last response, after every retry", async () => {
    const [messageId] = await failInto("exhausted", 1, 2);
    const attempts = destination.received.filter(
      (r) => r.headers["upstash-message-id"] === messageId,
    );
    expect(attempts.map((r) => r.headers["upstash-retried"])).toEqual(["0", "1", "2"]);
    const { messages, cursor } = await server.client.dlq.listMessages({ filter: { messageId } });
    expect(cursor).toBeUndefined();
    expect(messages[0]).toMatchObject({
      messageId,
      responseStatus: 503,
      responseBody: "try later",
      maxRetries: 2,
      labels: ["exhausted"],
      body: '{"i":0}',
    });
    expect(messages[0]?.responseHeader?.["X-Why"]).toEqual(["down for test"]);
    await expect(server.client.messages.get(messageId as string)).rejects.toThrow(/not found/);
  });

  it("fails at once, without a retry, on 489 with Upstash-NonRetryable-Error: true", async () => {
    const refusing = await startDestination({
      respond: () => ({
        status: 489,
        headers: { "Upstash-NonRetryable-Error": "true" },
        body: "payload can never succeed",
      }),
    });
    try {
      const { messageId } = await server.client.publishJSON({
        url: `${refusing.url}/never`,
        body: { bad: true },
        retries: 3,
      });
      await waitFor(async () => {
        const list = await server.client.dlq.listMessages({ filter: { messageId } });
        return list.messages.length === 1;
      }, "the non-retryable message in the DLQ");
      const { messages } = await server.client.dlq.listMessages({ filter: { messageId } });
      expect(messages[0]).toMatchObject({ messageId, responseStatus: 489, maxRetries: 3 });
      const attempts = refusing.received.filter(
        (r) => r.headers["upstash-message-id"] === messageId,
      );
      expect(attempts.map((r) => r.headers["upstash-retried"])).toEqual(["0"]);
    } finally {
      await refusing.close();
    }
  });

  it("pages with count and cursor, and filters by status and URL", async () => {
    await failInto("paged", 5, 0);
    const first = await server.client.dlq.listMessages({ filter: { label: "paged" }, count: 2 });
    expect(first.messages).toHaveLength(2);
    expect(first.cursor).toBeDefined();
    const second = await server.client.dlq.listMessages({
      filter: { label: "paged" },
      count: 2,
      cursor: first.cursor,
    });
    const third = await server.client.dlq.listMessages({
      filter: { label: "paged" },
      count: 2,
      cursor: second.cursor,
    });
    expect(third.messages).toHaveLength(1);
    expect(third.cursor).toBeUndefined();
    const all = new Set(
      [...first.messages, ...second.messages, ...third.messages].map((m) => m.dlqId),
    );
    expect(all.size).toBe(5);
    const byStatus = await server.client.dlq.listMessages({
      filter: { label: "paged", responseStatus: [500, 503] },
    });
    expect(byStatus.messages).toHaveLength(5);
    const none = await server.client.dlq.listMessages({
      filter: { label: "paged", responseStatus: 404 },
    });
    expect(none.messages).toHaveLength(0);
    const byUrl = await server.client.dlq.listMessages({
      filter: { url: `${destination.url}/dlq/paged/3` },
    });
    expect(byUrl.messages.map((m) => m.url)).toEqual([`${destination.url}/dlq/paged/3`]);
  });

  it("retries from the DLQ: delivered, and gone from the DLQ", async () => {
    const [messageId] = await failInto("retry-me", 1, 0);
    const { messages } = await server.client.dlq.listMessages({ filter: { messageId } });
    failing = false;
    try {
      const { responses } = await server.client.dlq.retry(messages[0]?.dlqId as string);
      expect(responses).toHaveLength(1);
      const retriedId = responses[0]?.messageId as string;
      const delivered = await waitFor(
        () => destination.received.find((r) => r.headers["upstash-message-id"] === retriedId),
        "the retried delivery",
      );
      expect(delivered.verified).toBe(true);
      expect(delivered.path).toBe("/dlq/retry-me/0");
      expect(
        (await server.client.dlq.listMessages({ filter: { messageId } })).messages,
      ).toHaveLength(0);
    } finally {
      failing = true;
    }
  });

  it("deletes one (404 when missing), many by id, and by filter", async () => {
    await failInto("delete-me", 4, 0);
    const { messages } = await server.client.dlq.listMessages({ filter: { label: "delete-me" } });
    const [a, b, c] = messages.map((m) => m.dlqId);
    await expect(server.client.dlq.delete(a as string)).resolves.toEqual({ deleted: 1 });
    await expect(server.client.dlq.delete(a as string)).rejects.toThrow(/not found/);
    await expect(server.client.dlq.delete([b as string, c as string])).resolves.toEqual({
      deleted: 2,
    });
    const rest = await server.client.dlq.delete({ filter: { label: "delete-me" } });
    expect(rest).toEqual({ deleted: 1 });
    expect("cursor" in rest).toBe(false);
  });

  it("deletes and retries all in count-sized steps until the cursor ends", async () => {
    await failInto("loop", 3, 0);
    let cursor: string | undefined;
    let deleted = 0;
    let rounds = 0;
    do {
      const result = await server.client.dlq.delete({
        filter: { label: "loop" },
        count: 2,
        cursor,
      });
      deleted += result.deleted;
      cursor = result.cursor;
      rounds += 1;
    } while (cursor && rounds < 10);
    expect([deleted, rounds]).toEqual([3, 2]);
  });

  it("rejects unknown filter parameters and answers an empty retry for no match", async () => {
    await expect(
      server.client.dlq.delete({ filter: { labeel: "x" } as unknown as { label: string } }),
    ).rejects.toThrow(/unknown parameter.*labeel/);
    const result = await server.client.dlq.retry({
      filter: { responseStatus: 999, fromDate: Date.now() - 1000, toDate: Date.now() },
    });
    expect(result).toEqual({ responses: [] });
  });
});
