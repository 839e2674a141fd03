import type { UpstashRequest } from "@upstash/redis";
import { AutoPipelinedRedis, RestRequester } from "@hotpath/redis/internal";
import { testTargets, uniquePrefix } from "@hotpath/testing";
import { Command, Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

// Canaries: each checks one behaviour of an upstream library that @hotpath/redis relies on
// without a documented API for it, and fails with a clear message when an upgrade changes it.

describe("ioredis 5: sendCommand(command, stream) writes through the given stream", () => {
  let conn: IORedis;
  beforeAll(async () => {
    conn = new IORedis(testTargets().redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await conn.connect();
  });
  afterAll(async () => {
    await conn.quit();
  });

  it("the command's bytes go to stream.write and its reply comes back raw", async () => {
    const written: (string | Buffer)[] = [];
    const stream = {
      write: (chunk: string | Buffer) => {
        written.push(chunk);
        return conn.stream.write(chunk);
      },
    };
    const command = new Command("PING", [], { replyEncoding: null });
    const reply = await (conn.sendCommand(
      command,
      stream as unknown as Parameters<IORedis["sendCommand"]>[1],
    ) as Promise<unknown>);
    expect(
      written.length,
      "ioredis no longer writes a command through sendCommand's stream argument: the TCP transport's CoalescingWriter (packages/redis/src/coalescing-writer.ts) depends on it. Rework the writer, or move to enableAutoPipelining if its buffer replies work now (next canary).",
    ).toBe(1);
    expect(Buffer.isBuffer(reply) ? reply.toString() : reply).toBe("PONG");
  });
});

describe("ioredis 5: callBuffer under enableAutoPipelining", () => {
  it("still loses the command name (why the TCP transport keeps its own coalescing writer)", async () => {
    const conn = new IORedis(testTargets().redisUrl, {
      enableAutoPipelining: true,
      maxRetriesPerRequest: 1,
    });
    try {
      const outcome = await conn.callBuffer("GET", `${uniquePrefix("canary")}:absent`).then(
        (reply) => ({ ok: true as const, reply }),
        (error: unknown) => ({ ok: false as const, error: String(error) }),
      );
      expect(
        outcome.ok,
        "ioredis now carries callBuffer through auto-pipelining: benchmark enableAutoPipelining against the CoalescingWriter (pnpm --filter @hotpath/redis-contract bench) and switch to it if it is faster or within 5%.",
      ).toBe(false);
    } finally {
      conn.disconnect();
    }
  });
});

describe("@upstash/redis 1.39: the protected autoPipeline() of a Redis built on a Requester", () => {
  it("batches calls of one tick into one /pipeline request", async () => {
    const { gatewayUrl, gatewayToken } = testTargets();
    const inner = new RestRequester({ url: gatewayUrl, token: gatewayToken, timeoutMs: 5000 });
    const seen: UpstashRequest[] = [];
    const redis = new AutoPipelinedRedis({
      request: (req) => {
        seen.push(req);
        return inner.request(req);
      },
    });
    const key = `${uniquePrefix("canary")}:k`;
    await redis.set(key, "value");
    seen.length = 0;
    // Reads of one tick (the SDK batches reads and writes separately).
    const replies = await Promise.all([redis.get(key), redis.exists(key), redis.strlen(key)]);
    await redis.del(key);
    expect(replies).toEqual(["value", 1, 5]);
    seen.pop();
    expect(
      seen.map((req) => req.path ?? []),
      "@upstash/redis changed its protected autoPipeline(): AutoPipelinedRedis (packages/redis/src/sdk-client.ts) relies on it to batch REST calls.",
    ).toEqual([["pipeline"]]);
    expect(seen[0]?.body).toHaveLength(3);
  });
});
