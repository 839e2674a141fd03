import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDestination, startTestServer, waitFor, type Destination } from "./helpers.ts";

let server: Awaited<ReturnType<typeof startTestServer>>;
let destination: Destination;

beforeAll(async () => {
  server = await startTestServer();
  destination = await startDestination();
});
afterAll(async () => {
  await server?.close();
  await destination?.close();
});

describe("publish", () => {
  it("delivers one verified message with QStash's headers", async () => {
    const { messageId } = await server.client.publishJSON({
      url: `${destination.url}/hook?x=1&y=2`,
      body: { hello: "world" },
      headers: { "Test-Header": "a, b" },
    });
    const delivery = await waitFor(
      () => destination.received.find((r) => r.headers["upstash-message-id"] === messageId),
      "the delivery",
    );
    expect(delivery.verified).toBe(true);
    expect(delivery.method).toBe("POST");
    expect(delivery.path).toBe("/hook?x=1&y=2");
    expect(JSON.parse(delivery.body)).toEqual({ hello: "world" });
    expect(delivery.headers["test-header"]).toBe("a, b");
    expect(delivery.headers["content-type"]).toBe("application/json");
    expect(delivery.headers["user-agent"]).toBe("Upstash-QStash");
    expect(delivery.headers["upstash-retried"]).toBe("0");
  });
});
