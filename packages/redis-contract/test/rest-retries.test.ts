import { startTcpProxy, testTargets, uniquePrefix, type TcpProxy } from "@hotpath/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createRedis, type HotpathRedis } from "@hotpath/redis";

// The REST client talks to the test gateway through a proxy that can drop the gateway's answer
// after the request went through: the command ran, the client never heard back.
let proxy: TcpProxy;
let rest: HotpathRedis;
let direct: HotpathRedis;
const prefix = uniquePrefix("rest-retries");

beforeAll(async () => {
  const { gatewayUrl, gatewayToken, redisUrl } = testTargets();
  proxy = await startTcpProxy(Number(new URL(gatewayUrl).port));
  rest = createRedis({
    url: `http://127.0.0.1:${proxy.port}`,
    token: gatewayToken,
    timeoutMs: 5000,
    // Each test drops answers on purpose: no breaker between them.
    breaker: false,
  });
  direct = createRedis({ url: redisUrl, timeoutMs: 5000 });
});

afterEach(() => proxy.restore());

afterAll(async () => {
  const keys = await direct.keys(`${prefix}:*`);
  if (keys.length > 0) await direct.del(...keys);
  await Promise.all([rest.close(), direct.close()]);
  await proxy.close();
});

/** Runs `call` while every answer is dropped; returns what Redis holds afterwards. */
async function afterLostAnswers(call: () => Promise<unknown>, key: string): Promise<unknown> {
  proxy.dropReplies();
  await expect(call()).rejects.toThrow();
  proxy.restore();
  return direct.get(key);
}

describe("REST client: a write whose answer is lost is not sent again", () => {
  it("INCR counts once", async () => {
    const key = `${prefix}:incr`;
    expect(await afterLostAnswers(() => rest.incr(key), key)).toBe(1);
  });

  it("a script (EVAL) runs once", async () => {
    const key = `${prefix}:eval`;
    const run = () => rest.eval("return redis.call('INCR', KEYS[1])", [key], []);
    expect(await afterLostAnswers(run, key)).toBe(1);
  });

  it("a pipeline runs once", async () => {
    const key = `${prefix}:pipeline`;
    const run = () => rest.pipeline().incr(key).get(key).exec();
    expect(await afterLostAnswers(run, key)).toBe(1);
  });

  it("a transaction runs once", async () => {
    const key = `${prefix}:multi`;
    const run = () => rest.multi().incr(key).exec();
    expect(await afterLostAnswers(run, key)).toBe(1);
  });

  it("SET NX is sent once: the caller sees the failure, not its own claim as someone else's", async () => {
    const key = `${prefix}:claim`;
    proxy.dropReplies(1);
    await expect(rest.set(key, "me", { nx: true })).rejects.toMatchObject({
      code: "REDIS_UNAVAILABLE",
    });
    expect(await direct.get(key)).toBe("me");
  });
});

describe("REST client: reads may retry", () => {
  it("a GET whose first answer is lost is asked again and answers", async () => {
    const key = `${prefix}:read`;
    await direct.set(key, "value");
    proxy.dropReplies(1);
    expect(await rest.get(key)).toBe("value");
  });

  it("a pipeline of reads only is asked again", async () => {
    const key = `${prefix}:read-pipeline`;
    await direct.set(key, "v");
    proxy.dropReplies(1);
    expect(await rest.pipeline().get(key).exists(key).exec()).toEqual(["v", 1]);
  });
});
