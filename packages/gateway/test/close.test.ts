import { request } from "node:http";
import {
  startRedisServer,
  startTcpProxy,
  type RedisServerHandle,
  type TcpProxy,
} from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../src/index.ts";
import { post } from "./http.ts";

let server: RedisServerHandle;
// Between the gateway and Redis: shows when the gateway has sent the request's command on.
let proxy: TcpProxy;

beforeAll(async () => {
  server = await startRedisServer();
  proxy = await startTcpProxy(server.port);
});

afterAll(async () => {
  await proxy.close();
  await server.stop();
});

// Busy-waits inside Redis for ARGV[1] ms: a request that is still in flight when close() starts.
const SLOW_SCRIPT = `local start = redis.call('TIME')
local startMs = start[1] * 1000 + math.floor(start[2] / 1000)
repeat
  local now = redis.call('TIME')
until now[1] * 1000 + math.floor(now[2] / 1000) - startMs >= tonumber(ARGV[1])
return 'done'`;

describe("graceful close", () => {
  it("lets in-flight requests finish, then refuses new connections", async () => {
    const gateway = await startGateway({ redisUrl: proxy.url, port: 0 });
    const before = proxy.bytesFromClients;
    const target = { url: gateway.url, token: gateway.token, base64: false };
    let sent!: () => void;
    const written = new Promise<void>((resolve) => (sent = resolve));
    const slow = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        gateway.url,
        { method: "POST", headers: { authorization: `Bearer ${gateway.token}` } },
        (res) => {
          let body = "";
          res.on("data", (chunk: Buffer) => (body += chunk.toString()));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("error", reject);
      req.on("finish", sent);
      req.end(JSON.stringify(["eval", SLOW_SCRIPT, 0, 400]));
    });
    // The gateway is serving it once its command reached Redis's side of the proxy.
    await written;
    const deadline = Date.now() + 10_000;
    while (proxy.bytesFromClients === before) {
      if (Date.now() > deadline) throw new Error("the gateway never sent the request on to Redis");
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const closed = gateway.close();
    const answer = await slow;
    expect(answer).toEqual({ status: 200, body: '{"result":"done"}' });
    await closed;
    await expect(post("/", ["ping"], target)).rejects.toThrow();
  });
});
