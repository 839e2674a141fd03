import { request } from "node:http";
import { startRedisServer, type RedisServerHandle } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway } from "../src/index.ts";
import { post } from "./http.ts";

let server: RedisServerHandle;

beforeAll(async () => {
  server = await startRedisServer();
});

afterAll(async () => {
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
    const gateway = await startGateway({ redisUrl: server.url, port: 0 });
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
    // The whole request is on the wire; let the gateway accept and start it.
    await written;
    await new Promise((resolve) => setTimeout(resolve, 50));
    const closed = gateway.close();
    const answer = await slow;
    expect(answer).toEqual({ status: 200, body: '{"result":"done"}' });
    await closed;
    await expect(post("/", ["ping"], target)).rejects.toThrow();
  });
});
