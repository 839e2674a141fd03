import { TRANSPORTS, deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HotpathRedis, RedisTransport } from "@hotpath/redis";
import { SCENARIOS, type KeyOf } from "./scenarios.ts";

const NAMES = Object.keys(SCENARIOS);

function scenario(name: string) {
  const found = SCENARIOS[name];
  if (!found) throw new Error(`unknown scenario ${name}`);
  return found;
}

// Keys are `<prefix>:<name>`; a result that mentions a key is compared without its prefix.
function keysOf(prefix: string): KeyOf {
  return (name) => `${prefix}:${name}`;
}

const clients = new Map<RedisTransport, HotpathRedis>();
const prefixes: string[] = [];

function client(transport: RedisTransport): HotpathRedis {
  const redis = clients.get(transport);
  if (!redis) throw new Error(`no ${transport} client`);
  return redis;
}

async function runOn(transport: RedisTransport, name: string): Promise<unknown> {
  const prefix = uniquePrefix(`contract-${transport}`);
  prefixes.push(prefix);
  return scenario(name).run(client(transport), keysOf(prefix), prefix);
}

beforeAll(() => {
  for (const transport of TRANSPORTS) clients.set(transport, openTestRedis(transport));
});

afterAll(async () => {
  const tcp = clients.get("tcp");
  if (tcp) for (const prefix of prefixes) await deletePrefix(tcp, prefix);
  await Promise.all([...clients.values()].map((redis) => redis.close()));
});

describe.each(TRANSPORTS)("contract over %s", (transport) => {
  it("reports its transport", () => {
    expect(client(transport).transport).toBe(transport);
  });

  it.each(NAMES)("%s", async (name) => {
    expect(await runOn(transport, name)).toEqual(scenario(name).expected);
  });
});

describe("TCP and REST give identical results", () => {
  it.each(NAMES)("%s", async (name) => {
    const [tcp, rest] = await Promise.all([runOn("tcp", name), runOn("rest", name)]);
    expect(tcp).toStrictEqual(rest);
  });
});
