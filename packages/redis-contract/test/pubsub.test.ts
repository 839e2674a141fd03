import { TRANSPORTS, openTestRedis, uniquePrefix } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HotpathRedis, RedisTransport } from "@hotpath/redis";

const clients = new Map<RedisTransport, HotpathRedis>();

function client(transport: RedisTransport): HotpathRedis {
  const redis = clients.get(transport);
  if (!redis) throw new Error(`no ${transport} client`);
  return redis;
}

beforeAll(() => {
  for (const transport of TRANSPORTS) clients.set(transport, openTestRedis(transport));
});

afterAll(async () => {
  await Promise.all([...clients.values()].map((redis) => redis.close()));
});

/** Resolves with the first `count` events the subscriber's listener reports (bounded by vitest's timeout). */
function collect<T>(register: (listener: (event: T) => void) => void, count: number): Promise<T[]> {
  return new Promise((resolve) => {
    const seen: T[] = [];
    register((event) => {
      seen.push(event);
      if (seen.length === count) resolve(seen);
    });
  });
}

/** Publishes until `receivers(n)` holds: PUBLISH answers how many subscribers got the message. */
async function publishUntil(
  redis: HotpathRedis,
  channel: string,
  message: unknown,
  wanted: (n: number) => boolean,
) {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const receivers = await redis.publish(channel, message);
    if (wanted(receivers)) return receivers;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`publish to ${channel} never reached the wanted number of receivers`);
}

async function pubSubScenario(transport: RedisTransport) {
  const redis = client(transport);
  const channel = `${uniquePrefix("chan")}:news`;
  const subscriber = redis.subscribe<unknown>([channel]);
  const subscribed = collect<number>((listener) => subscriber.on("subscribe", listener), 1);
  const messages = collect<{ channel: string; message: unknown }>(
    (listener) => subscriber.on("message", listener),
    3,
  );
  const confirmed = await subscribed;
  const firstReceivers = await redis.publish(channel, { hello: "world", n: 1 });
  await redis.publish(channel, "plain text with, commas 😀");
  await redis.publish(channel, 42);
  const received = await messages;
  await subscriber.unsubscribe();
  const afterUnsubscribe = await publishUntil(redis, channel, "bye", (n) => n === 0);

  const pattern = `${uniquePrefix("pat")}:*`;
  const psubscriber = redis.psubscribe<unknown>([pattern]);
  const psubscribed = collect<number>((listener) => psubscriber.on("psubscribe", listener), 1);
  const pmessages = collect<{ pattern: string; channel: string; message: unknown }>(
    (listener) => psubscriber.on("pmessage", listener),
    1,
  );
  await psubscribed;
  const target = pattern.replace("*", "room-1");
  await redis.publish(target, { in: "room" });
  const [pmessage] = await pmessages;
  await psubscriber.unsubscribe();
  return {
    confirmed,
    firstReceivers,
    received: received.map((event) => ({
      ...event,
      channel: event.channel === channel ? "<channel>" : event.channel,
    })),
    afterUnsubscribe,
    pmessage: pmessage && {
      pattern: pmessage.pattern === pattern ? "<pattern>" : pmessage.pattern,
      channel: pmessage.channel === target ? "<target>" : pmessage.channel,
      message: pmessage.message,
    },
  };
}

const EXPECTED = {
  confirmed: [1],
  firstReceivers: 1,
  received: [
    { channel: "<channel>", message: { hello: "world", n: 1 } },
    { channel: "<channel>", message: "plain text with, commas 😀" },
    { channel: "<channel>", message: 42 },
  ],
  afterUnsubscribe: 0,
  pmessage: { pattern: "<pattern>", channel: "<target>", message: { in: "room" } },
};

describe.each(TRANSPORTS)("publish + subscribe over %s", (transport) => {
  it("delivers messages in order, stops after unsubscribe; psubscribe gets pmessage", async () => {
    expect(await pubSubScenario(transport)).toEqual(EXPECTED);
  });
});

describe("publish + subscribe: TCP and REST agree", () => {
  it("same events on both", async () => {
    const [tcp, rest] = await Promise.all([pubSubScenario("tcp"), pubSubScenario("rest")]);
    expect(tcp).toStrictEqual(rest);
  });
});
