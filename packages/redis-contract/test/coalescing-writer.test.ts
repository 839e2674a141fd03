import { CoalescingWriter } from "@hotpath/redis/internal";
import { testTargets, uniquePrefix } from "@hotpath/testing";
import { Command, Redis as IORedis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";

const opened: IORedis[] = [];
const connect = (options: { lazyConnect?: boolean } = {}): IORedis => {
  const conn = new IORedis(testTargets().redisUrl, { maxRetriesPerRequest: 1, ...options });
  opened.push(conn);
  return conn;
};
const get = (key: string) => new Command("get", [key], { replyEncoding: null });
const text = (reply: unknown) => (Buffer.isBuffer(reply) ? reply.toString() : reply);

afterEach(() => {
  for (const conn of opened.splice(0)) conn.disconnect();
});

describe("the TCP transport's coalescing writer keeps every reply with its command", () => {
  it("a command ioredis writes itself in the same tick (as its ready check's INFO) does not take a batched command's reply", async () => {
    const conn = connect();
    const key = `${uniquePrefix("coalesce")}:own`;
    await conn.set(key, "mine");
    const writer = new CoalescingWriter(conn);
    const batched = [writer.send(get(key)), writer.send(get(`${key}:absent`))];
    // ioredis writes this one to the socket at once, before the writer's end-of-tick batch.
    const direct = conn.ping();
    expect((await Promise.all(batched)).map(text)).toEqual(["mine", null]);
    expect(await direct).toBe("PONG");
  });

  it("commands handed over before the connection is ready wait in ioredis's offline queue and are answered in order once it is", async () => {
    const conn = connect({ lazyConnect: true });
    const prefix = uniquePrefix("coalesce");
    const writer = new CoalescingWriter(conn);
    const keys = Array.from({ length: 20 }, (_, i) => `${prefix}:${i}`);
    const sets = keys.map((key, i) => writer.send(new Command("set", [key, `v${i}`])));
    const gets = keys.map((key) => writer.send(get(key)));
    const direct = conn.ping();
    expect((await Promise.all(sets)).map(text)).toEqual(keys.map(() => "OK"));
    expect((await Promise.all(gets)).map(text)).toEqual(keys.map((_, i) => `v${i}`));
    expect(await direct).toBe("PONG");
  });
});
