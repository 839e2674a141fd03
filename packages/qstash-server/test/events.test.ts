import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDestination, startTestServer, waitFor, type Destination } from "./helpers.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let destination: Destination;

beforeAll(async () => {
  server = await startTestServer();
  destination = await startDestination({
    respond: (r) => ({ status: r.path.startsWith("/fail") ? 500 : 200 }),
  });
});
afterAll(async () => {
  await server?.close();
  await destination?.close();
});

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("events and labels", () => {
  it("logs CREATED → ACTIVE → DELIVERED with labels, filterable, paged without a final cursor", async () => {
    const { messageId } = await server.client.publishJSON({
      url: `${destination.url}/ok`,
      body: { hello: "events" },
      label: ["first", "second"],
    });
    await waitFor(async () => {
      const { events } = await server.client.events({ filter: { messageId, state: "DELIVERED" } });
      return events.length === 1;
    }, "DELIVERED");
    const { events, cursor } = await server.client.events({ filter: { messageId } });
    expect(cursor).toBeUndefined();
    expect(events.map((e) => e.state).reverse()).toEqual(["CREATED", "ACTIVE", "DELIVERED"]);
    expect(events[0]).toMatchObject({
      messageId,
      url: `${destination.url}/ok`,
      labels: ["first", "second"],
    });
    expect(Buffer.from(String(events[0]?.body), "base64").toString()).toBe('{"hello":"events"}');
    const byLabel = await server.client.events({ filter: { label: "second", state: "CREATED" } });
    expect(byLabel.events.map((e) => e.messageId)).toContain(messageId);
    const paged = await server.client.events({ filter: { messageId }, count: 2 });
    expect(paged.events).toHaveLength(2);
    expect(paged.cursor).toBeDefined();
    const rest = await server.client.events({
      filter: { messageId },
      count: 2,
      cursor: paged.cursor,
    });
    expect(rest.events).toHaveLength(1);
    expect(rest.cursor).toBeUndefined();
  });

  it("redacts the body and named headers in every event and in the DLQ", async () => {
    const { messageId } = await server.client.publishJSON({
      url: `${destination.url}/fail`,
      body: { secret: "s3cr3t" },
      headers: { Authorization: "Bearer hidden", "X-Visible": "shown" },
      retries: 0,
      redact: { body: true, header: ["Authorization"] },
    });
    const delivery = await waitFor(
      () => destination.received.find((r) => r.headers["upstash-message-id"] === messageId),
      "the delivery",
    );
    expect(delivery.body).toBe('{"secret":"s3cr3t"}'); // the destination still gets everything
    expect(delivery.headers.authorization).toBe("Bearer hidden");
    await waitFor(
      async () =>
        (await server.client.dlq.listMessages({ filter: { messageId } })).messages.length === 1,
      "the DLQ entry",
    );
    const { events } = await server.client.events({ filter: { messageId } });
    expect(events.map((e) => e.state).reverse()).toEqual(["CREATED", "ACTIVE", "FAILED"]);
    for (const event of events) {
      expect(Buffer.from(String(event.body), "base64").toString()).toBe(
        `REDACTED:${sha256('{"secret":"s3cr3t"}')}`,
      );
      expect(event.header?.Authorization).toEqual([`REDACTED:${sha256("Bearer hidden")}`]);
      expect(event.header?.["X-Visible"]).toEqual(["shown"]);
    }
    const [dead] = (await server.client.dlq.listMessages({ filter: { messageId } })).messages;
    expect(dead?.body).toBe(`REDACTED:${sha256('{"secret":"s3cr3t"}')}`);
    expect(dead?.header?.Authorization).toEqual([`REDACTED:${sha256("Bearer hidden")}`]);
  });
});
