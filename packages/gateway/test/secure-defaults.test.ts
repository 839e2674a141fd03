import { startRedisServer, type RedisServerHandle } from "@hotpath/testing";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCliArgs } from "../src/cli-options.ts";
import { parseGatewayOptions, startGateway, type RunningGateway } from "../src/index.ts";
import { post } from "./http.ts";

// An own redis-server: these tests change server state (FLUSHDB, CONFIG) on purpose.
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

const target = () => ({ url: gateway.url, token: gateway.token, base64: false });
const FLAG_NAMED = /--allow-admin-commands.*allowAdminCommands/;

describe("commands that give control of the server are refused by default", () => {
  it.each([
    [["config", "set", "maxmemory", "1mb"]],
    [["CONFIG", "GET", "maxmemory"]],
    [["debug", "sleep", "0"]],
    [["module", "list"]],
    [["shutdown", "nosave"]],
    [["save"]],
    [["bgsave"]],
    [["bgrewriteaof"]],
    [["acl", "setuser", "intruder", "on", ">pw", "+@all"]],
    [["replicaof", "127.0.0.1", "1"]],
    [["slaveof", "127.0.0.1", "1"]],
    [["failover"]],
    [["migrate", "127.0.0.1", "1", "k", "0", "100"]],
    [["cluster", "addslots", "1"]],
    [["cluster", "reset"]],
    [["swapdb", "0", "1"]],
    [["memory", "purge"]],
  ])("%j: 400 naming the flag that allows it", async (command) => {
    const answer = await post("/", command, target());
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: expect.stringMatching(FLAG_NAMED) as unknown });
  });

  it("nothing of the refused request ran: CONFIG SET left the server as it was", async () => {
    const before = await admin.config("GET", "maxmemory");
    await post("/", ["config", "set", "maxmemory", "1234567"], target());
    expect(await admin.config("GET", "maxmemory")).toEqual(before);
  });

  it("inside /pipeline: the whole request is refused before anything runs", async () => {
    await admin.del("sd:pipeline");
    const answer = await post(
      "/pipeline",
      [
        ["incr", "sd:pipeline"],
        ["config", "set", "maxmemory", "1mb"],
      ],
      target(),
    );
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: expect.stringMatching(FLAG_NAMED) as unknown });
    expect(await admin.get("sd:pipeline")).toBeNull();
  });

  it("inside /multi-exec: the whole transaction is refused before anything runs", async () => {
    await admin.del("sd:multi");
    const answer = await post("/multi-exec", [["incr", "sd:multi"], ["bgsave"]], target());
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: expect.stringMatching(FLAG_NAMED) as unknown });
    expect(await admin.get("sd:multi")).toBeNull();
  });

  it("a script cannot reach them either (Redis refuses CONFIG from Lua)", async () => {
    const before = await admin.config("GET", "maxmemory");
    const answer = await post(
      "/",
      ["eval", "return redis.call('config', 'set', 'maxmemory', '1mb')", "0"],
      target(),
    );
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      error: expect.stringMatching(/not allowed from script/i) as unknown,
    });
    expect(await admin.config("GET", "maxmemory")).toEqual(before);
  });

  it("the data commands Upstash offers stay allowed: FLUSHDB, SCRIPT FLUSH, CLUSTER INFO reaches Redis", async () => {
    await admin.set("sd:flush", "1");
    expect((await post("/", ["flushdb"], target())).json).toEqual({ result: "OK" });
    expect(await admin.exists("sd:flush")).toBe(0);
    expect((await post("/", ["script", "flush"], target())).json).toEqual({ result: "OK" });
    // A read form of CLUSTER is passed on (this server is not a cluster: Redis says so itself).
    const info = await post("/", ["cluster", "info"], target());
    expect(info.json).toEqual({
      error: expect.stringMatching(/cluster support disabled/) as unknown,
    });
  });
});

describe("MEMORY: measuring passes, purging is admin", () => {
  it("MEMORY USAGE answers bytes in a pipeline by default (the API's memory per key area)", async () => {
    await admin.set("sd:mem", "x".repeat(1000));
    const answer = await post(
      "/pipeline",
      [
        ["memory", "usage", "sd:mem"],
        ["MEMORY", "USAGE", "sd:missing"],
        ["memory", "stats"],
      ],
      target(),
    );
    expect(answer.status).toBe(200);
    const [usage, missing, stats] = answer.json as { result?: unknown; error?: string }[];
    expect(usage?.result).toBeGreaterThanOrEqual(1000);
    expect(missing).toEqual({ result: null });
    expect(stats?.error).toBeUndefined();
    await admin.del("sd:mem");
  });
});

describe("allowAdminCommands: true (--allow-admin-commands)", () => {
  it("passes them on", async () => {
    const open = await startGateway({ redisUrl: server.url, port: 0, allowAdminCommands: true });
    try {
      const answer = await post("/", ["config", "get", "maxmemory"], {
        url: open.url,
        token: open.token,
        base64: false,
      });
      expect(answer.status).toBe(200);
      expect(answer.json).toEqual({ result: ["maxmemory", expect.any(String)] });
    } finally {
      await open.close();
    }
  });

  it("the CLI flag sets the option", () => {
    const command = parseCliArgs(
      ["--redis", "redis://127.0.0.1:6379", "--allow-admin-commands"],
      {},
    );
    expect(command).toMatchObject({ kind: "start", options: { allowAdminCommands: true } });
    expect(parseCliArgs(["--redis", "redis://127.0.0.1:6379"], {})).toMatchObject({
      kind: "start",
      options: { allowAdminCommands: undefined },
    });
  });
});

describe("request body limit", () => {
  it("is 1 MiB by default: 413 above, naming the flag that raises it", async () => {
    const tooBig = await post("/", ["set", "sd:big", "x".repeat(1024 * 1024)], target());
    expect(tooBig.status).toBe(413);
    expect(tooBig.json).toEqual({
      error: expect.stringMatching(/limit of 1048576 bytes.*--max-body-bytes/) as unknown,
    });
    const fits = await post("/", ["set", "sd:big", "x".repeat(1000 * 1000)], target());
    expect(fits.json).toEqual({ result: "OK" });
  });
});

/** Opens an SSE subscription; resolves once the gateway answered (status and a closer). */
async function subscribe(
  gw: RunningGateway,
  channel: string,
): Promise<{ status: number; body: string; close: () => void }> {
  const controller = new AbortController();
  const res = await fetch(`${gw.url}/subscribe/${channel}`, {
    method: "POST",
    headers: { authorization: `Bearer ${gw.token}`, accept: "text/event-stream" },
    body: "[]",
    signal: controller.signal,
  });
  const body = res.status === 200 ? "" : await res.text();
  return { status: res.status, body, close: () => controller.abort() };
}

describe("SSE subscriptions per token", () => {
  it("are capped (maxSubscriptionsPerToken): 429 naming the option and flag; a closed one frees its place", async () => {
    const capped = await startGateway({
      redisUrl: server.url,
      port: 0,
      maxSubscriptionsPerToken: 2,
    });
    try {
      const first = await subscribe(capped, "sd-a");
      const second = await subscribe(capped, "sd-b");
      expect([first.status, second.status]).toEqual([200, 200]);
      const third = await subscribe(capped, "sd-c");
      expect(third.status).toBe(429);
      expect(JSON.parse(third.body)).toEqual({
        error: expect.stringMatching(
          /2 subscriptions.*--max-subscriptions-per-token.*maxSubscriptionsPerToken/,
        ) as unknown,
      });
      first.close();
      // The gateway frees the place once it sees the client go: wait for that, bounded.
      const deadline = Date.now() + 10_000;
      let again = await subscribe(capped, "sd-d");
      while (again.status === 429 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        again = await subscribe(capped, "sd-d");
      }
      expect(again.status).toBe(200);
      second.close();
      again.close();
    } finally {
      await capped.close();
    }
  });

  it("the CLI flag sets the cap; the default is 100", () => {
    expect(
      parseCliArgs(["--redis", "redis://x:1", "--max-subscriptions-per-token", "5"], {}),
    ).toMatchObject({ options: { maxSubscriptionsPerToken: 5 } });
    expect(() =>
      parseCliArgs(["--redis", "redis://x:1", "--max-subscriptions-per-token", "0"], {}),
    ).toThrow(/--max-subscriptions-per-token must be between 1 and/);
    expect(parseGatewayOptions({ redisUrl: "redis://x:1" })).toMatchObject({
      maxSubscriptionsPerToken: 100,
      maxBodyBytes: 1024 * 1024,
      allowAdminCommands: false,
    });
  });
});
