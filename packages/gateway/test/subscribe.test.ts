import { startRedisServer, type RedisServerHandle } from "@hotpath/testing";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type RunningGateway } from "../src/index.ts";
import { post } from "./http.ts";

// An own redis-server, so CLIENT LIST and PUBSUB counts only see this file's connections.
let server: RedisServerHandle;
let gateway: RunningGateway;
let admin: IORedis;

beforeAll(async () => {
  server = await startRedisServer();
  gateway = await startGateway({ redisUrl: server.url, port: 0 });
  admin = new IORedis(server.url, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  admin.disconnect();
  await gateway.close();
  await server.stop();
});

/** An open SSE stream: reads `data:` lines one by one. */
interface SseStream {
  status: number;
  contentType: string | null;
  next(): Promise<string>;
  abort(): void;
}

async function openStream(path: string, token = gateway.token): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: {
      authorization: `Bearer ${token}`,
      accept: "text/event-stream",
      "content-type": "application/json",
    },
    body: "[]",
    signal: controller.signal,
  });
  const reader = res.body?.getReader();
  if (!reader) throw new Error("no body");
  const decoder = new TextDecoder();
  let buffer = "";
  const lines: string[] = [];
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    async next() {
      while (lines.length === 0) {
        const { value, done } = await reader.read();
        if (done) throw new Error("stream ended");
        buffer += decoder.decode(value, { stream: true });
        const parts = buffer.split("\n");
        buffer = parts.pop() ?? "";
        lines.push(
          ...parts.filter((line) => line.startsWith("data: ")).map((line) => line.slice(6)),
        );
      }
      return lines.shift() as string;
    },
    abort: () => controller.abort(),
  };
}

async function gatewaySubscriberCount(): Promise<number> {
  const list = await admin.client("LIST");
  return String(list)
    .split("\n")
    .filter(
      (line) => / name=hotpath-gateway:sub /.test(line) && / sub=[1-9]| psub=[1-9]/.test(line),
    ).length;
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}

describe("SSE /subscribe and /psubscribe", () => {
  it("confirms the subscription, delivers messages raw, and releases the subscriber on abort", async () => {
    const stream = await openStream("/subscribe/news");
    expect(stream.status).toBe(200);
    expect(stream.contentType).toBe("text/event-stream");
    expect(await stream.next()).toBe("subscribe,news,1");
    expect(await admin.pubsub("NUMSUB", "news")).toEqual(["news", 1]);
    expect(await gatewaySubscriberCount()).toBe(1);

    const target = { url: gateway.url, token: gateway.token };
    expect((await post("/", ["publish", "news", '{"hello":"world"}'], target)).json).toEqual({
      result: 1,
    });
    expect(await stream.next()).toBe('message,news,{"hello":"world"}');
    await post("/", ["publish", "news", "with, commas 😀"], target);
    expect(await stream.next()).toBe("message,news,with, commas 😀");

    stream.abort();
    await eventually(
      async () => (await admin.pubsub("NUMSUB", "news"))[1] === 0,
      "NUMSUB news drops to 0",
    );
    await eventually(
      async () => (await gatewaySubscriberCount()) === 0,
      "the subscriber connection closes",
    );
  });

  it("delivers pmessage lines with pattern, channel and payload, and cleans up on abort", async () => {
    const stream = await openStream("/psubscribe/events:*");
    expect(await stream.next()).toBe("psubscribe,events:*,1");
    expect(Number(await admin.pubsub("NUMPAT"))).toBe(1);
    await admin.publish("events:signup", "user-1");
    expect(await stream.next()).toBe("pmessage,events:*,events:signup,user-1");
    stream.abort();
    await eventually(async () => Number(await admin.pubsub("NUMPAT")) === 0, "NUMPAT drops to 0");
    await eventually(
      async () => (await gatewaySubscriberCount()) === 0,
      "the subscriber connection closes",
    );
  });

  it("decodes a URL-encoded channel and keeps independent streams apart", async () => {
    const a = await openStream("/subscribe/room%3A1");
    const b = await openStream("/subscribe/room:2");
    expect(await a.next()).toBe("subscribe,room:1,1");
    expect(await b.next()).toBe("subscribe,room:2,1");
    await admin.publish("room:2", "for b");
    await admin.publish("room:1", "for a");
    expect(await a.next()).toBe("message,room:1,for a");
    expect(await b.next()).toBe("message,room:2,for b");
    a.abort();
    b.abort();
    await eventually(async () => (await gatewaySubscriberCount()) === 0, "both subscribers close");
  });

  it("answers 401 JSON for a wrong token and 400 for a missing channel, without subscribing", async () => {
    const unauthorized = await post("/subscribe/news", [], {
      url: gateway.url,
      token: "wrong-token-123",
    });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.json).toEqual({ error: "Unauthorized" });
    const empty = await post("/subscribe/", [], { url: gateway.url, token: gateway.token });
    expect(empty.status).toBe(400);
    expect(empty.json).toEqual({ error: expect.stringMatching(/needs a channel/) as unknown });
    expect(await gatewaySubscriberCount()).toBe(0);
  });

  it("ends the stream of a client that does not read, instead of buffering without bound", async () => {
    const stream = await openStream("/subscribe/flood");
    expect(await stream.next()).toBe("subscribe,flood,1");
    // The test stops reading here; 1 MiB messages pile up until the gateway gives up on it.
    const payload = "x".repeat(1024 * 1024);
    for (let sent = 0; sent < 64; sent += 1) {
      if ((await admin.publish("flood", payload)) === 0) break;
    }
    await eventually(
      async () => (await admin.pubsub("NUMSUB", "flood"))[1] === 0,
      "the slow subscriber is dropped",
    );
    await eventually(async () => (await gatewaySubscriberCount()) === 0, "its connection closes");
    stream.abort();
  });

  it("ends open streams when the gateway closes", async () => {
    const own = await startGateway({ redisUrl: server.url, port: 0 });
    const res = await fetch(`${own.url}/subscribe/closing`, {
      method: "POST",
      headers: { authorization: `Bearer ${own.token}` },
      body: "[]",
    });
    const reader = res.body?.getReader();
    const first = await reader?.read();
    expect(new TextDecoder().decode(first?.value)).toContain("data: subscribe,closing,1");
    await own.close();
    let done = false;
    while (!done) done = (await reader?.read())?.done ?? true;
    expect(done).toBe(true);
    await eventually(
      async () => (await admin.pubsub("NUMSUB", "closing"))[1] === 0,
      "NUMSUB closing drops to 0",
    );
  });
});
