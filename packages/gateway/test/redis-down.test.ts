import { startRedisServer, type RedisServerHandle } from "@hotpath/testing";
import { Redis, errors } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type RunningGateway } from "../src/index.ts";
import { post } from "./http.ts";

// Fault tests run on their own redis-server, never the shared one.
let server: RedisServerHandle;
let gateway: RunningGateway;

beforeAll(async () => {
  server = await startRedisServer();
  gateway = await startGateway({ redisUrl: server.url, port: 0, commandTimeoutMs: 2000 });
});

afterAll(async () => {
  await gateway.close();
  await server.stop();
});

const target = () => ({ url: gateway.url, token: gateway.token });

async function untilStatus(path: string, body: unknown, status: number): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt += 1) {
    if ((await post(path, body, target())).status === status) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${path} never answered ${status}`);
}

describe("while Redis is down", () => {
  it("answers JSON 5xx on every endpoint, does not crash, and recovers when Redis is back", async () => {
    expect((await post("/", ["set", "fault:k", "before"], target())).json).toEqual({
      result: "OK",
    });

    await server.stop({ hard: true });
    for (const [path, body] of [
      ["/", ["get", "fault:k"]],
      ["/pipeline", [["get", "fault:k"], ["ping"]]],
      ["/multi-exec", [["incr", "fault:n"]]],
      ["/subscribe/fault", []],
    ] as const) {
      const answer = await post(path, body, target());
      expect(answer.status, path).toBeGreaterThanOrEqual(500);
      expect(answer.status, path).toBeLessThan(600);
      expect(answer.json, path).toEqual({
        error: expect.stringMatching(/Redis is unavailable/) as unknown,
      });
    }
    // Auth and request checks still answer while Redis is down.
    expect((await post("/", ["get", "k"], { ...target(), token: "wrong-token-123" })).status).toBe(
      401,
    );
    expect((await post("/", "[", target())).status).toBe(400);

    // The SDK surfaces the JSON error (5xx is not retried by it).
    const sdk = new Redis({ ...target(), enableAutoPipelining: false, enableTelemetry: false });
    const failure = await sdk.get("fault:k").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(errors.UpstashError);
    expect((failure as Error).message).toMatch(/Redis is unavailable/);

    await server.start();
    await untilStatus("/", ["ping"], 200);
    await untilStatus("/multi-exec", [["ping"]], 200);
    // A fresh server (no persistence): the old key is gone, writes work again.
    expect((await post("/", ["set", "fault:k", "after"], target())).json).toEqual({ result: "OK" });
    expect(await sdk.get("fault:k")).toBe("after");
    expect(
      (await post("/pipeline", [["get", "fault:k"]], { ...target(), base64: false })).json,
    ).toEqual([{ result: "after" }]);
  });

  it("starts while Redis is down, answers 503 JSON, and serves once Redis comes up", async () => {
    const later = await startRedisServer();
    await later.stop();
    const own = await startGateway({ redisUrl: later.url, port: 0, connectTimeoutMs: 200 });
    try {
      const answer = await post("/", ["ping"], { url: own.url, token: own.token });
      expect(answer.status).toBe(503);
      expect(answer.json).toEqual({
        error: expect.stringMatching(/Redis is unavailable/) as unknown,
      });
      await later.start();
      for (let attempt = 0; attempt < 300; attempt += 1) {
        if ((await post("/", ["ping"], { url: own.url, token: own.token })).status === 200) break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(
        (await post("/", ["ping"], { url: own.url, token: own.token, base64: false })).json,
      ).toEqual({ result: "PONG" });
    } finally {
      await own.close();
      await later.stop();
    }
  });

  it("keeps an open SSE stream across a Redis restart (the subscriber reconnects and subscribes again)", async () => {
    const res = await fetch(`${gateway.url}/subscribe/restart`, {
      method: "POST",
      headers: { authorization: `Bearer ${gateway.token}` },
      body: "[]",
    });
    const reader = res.body?.getReader();
    if (!reader) throw new Error("no body");
    const decoder = new TextDecoder();
    let text = "";
    const readUntil = async (needle: string) => {
      while (!text.includes(needle)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${needle}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    await readUntil("data: subscribe,restart,1\n");
    await server.stop();
    await server.start();
    // Publish until the resubscribed connection receives it.
    for (let attempt = 0; attempt < 300; attempt += 1) {
      const answer = await post("/", ["publish", "restart", "after-restart"], target());
      if (answer.status === 200 && (answer.json as { result: number }).result === 1) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await readUntil("data: message,restart,after-restart\n");
    await reader.cancel();
  });
});
