import { connect } from "node:net";
import { testTargets, uniquePrefix } from "@hotpath/testing";
import { Redis, errors } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGateway, type RunningGateway } from "../src/index.ts";
import { post } from "./http.ts";

const errorShape = { error: expect.any(String) as unknown };

describe("authentication", () => {
  it("answers 401 JSON without a token, with a wrong token and with another scheme", async () => {
    for (const answer of [
      await post("/", ["ping"], { token: null }),
      await post("/", ["ping"], { token: "wrong-token-123" }),
      await post("/pipeline", [["ping"]], { token: "wrong-token-123" }),
      await post("/", ["ping"], {
        token: null,
        headers: { authorization: `Basic ${testTargets().gatewayToken}` },
      }),
    ]) {
      expect(answer.status).toBe(401);
      expect(answer.json).toEqual({ error: "Unauthorized" });
    }
  });

  it("maps several tokens to their own Redis database", async () => {
    const { redisUrl } = testTargets();
    const gateway = await startGateway({
      port: 0,
      tokens: { "token-db-zero-1234": `${redisUrl}/0`, "token-db-three-123": `${redisUrl}/3` },
    });
    try {
      const key = `${uniquePrefix("tokens")}:k`;
      const db0 = { url: gateway.url, token: "token-db-zero-1234" };
      const db3 = { url: gateway.url, token: "token-db-three-123" };
      expect((await post("/", ["set", key, "zero"], db0)).status).toBe(200);
      expect((await post("/", ["set", key, "three"], db3)).status).toBe(200);
      expect((await post("/", ["get", key], { ...db0, base64: false })).json).toEqual({
        result: "zero",
      });
      expect((await post("/", ["get", key], { ...db3, base64: false })).json).toEqual({
        result: "three",
      });
      expect((await post("/", ["get", key], { ...db0, token: "token-db-one-12345" })).status).toBe(
        401,
      );
      await post("/", ["del", key], db0);
      await post("/", ["del", key], db3);
    } finally {
      await gateway.close();
    }
  });
});

describe("request errors are JSON with the documented status", () => {
  it.each([
    ["malformed JSON", "/", '["get", "k"', /not valid JSON/],
    ["a non-array body", "/", '{"command":"get"}', /must be a JSON array/],
    ["an empty command", "/", "[]", /non-empty JSON array/],
    ["an empty command name", "/", '[""]', /name must not be empty/],
    [
      "a nested array argument",
      "/",
      '["set","k",["v"]]',
      /argument 2 must be a string, a finite number or a boolean \(got object\)/,
    ],
    ["an object argument", "/", '["set","k",{"a":1}]', /argument 2/],
    ["a null argument", "/", '["set","k",null]', /\(got null\)/],
    ["an empty pipeline", "/pipeline", "[]", /pipeline is empty/],
    [
      "a pipeline item that is not an array",
      "/pipeline",
      '[["ping"],"get"]',
      /pipeline item 1 must be a JSON array/,
    ],
    ["a pipeline body that is not an array", "/pipeline", '{"a":1}', /array of commands/],
    ["an empty transaction", "/multi-exec", "[]", /empty/],
  ])("400 for %s", async (_label, path, body, message) => {
    const answer = await post(path, body);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: expect.stringMatching(message) as unknown });
  });

  it("404 for an unknown path", async () => {
    const answer = await post("/get/key", ["get", "k"]);
    expect(answer.status).toBe(404);
    expect(answer.json).toEqual({
      error: expect.stringMatching(/unknown endpoint \/get\/key/) as unknown,
    });
  });

  it("405 for a method other than POST", async () => {
    for (const method of ["GET", "PUT", "DELETE"]) {
      const answer = await post("/", ["ping"], { method });
      expect(answer.status).toBe(405);
      expect(answer.headers.get("allow")).toBe("POST");
      expect(answer.json).toEqual(errorShape);
    }
  });

  it("400 for a Redis error of a single command, which the SDK reports with the command", async () => {
    const key = `${uniquePrefix("wrongtype")}:k`;
    await post("/", ["set", key, "v"]);
    const answer = await post("/", ["lpush", key, "x"]);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      error: expect.stringMatching(
        /^WRONGTYPE Operation against a key holding the wrong kind of value/,
      ) as unknown,
    });

    const { gatewayUrl, gatewayToken } = testTargets();
    const sdk = new Redis({
      url: gatewayUrl,
      token: gatewayToken,
      enableAutoPipelining: false,
      enableTelemetry: false,
    });
    const failure = await sdk.lpush(key, "x").catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(errors.UpstashError);
    expect((failure as Error).message).toBe(
      `WRONGTYPE Operation against a key holding the wrong kind of value, command was: ${JSON.stringify(["lpush", key, "x"])}`,
    );
    await post("/", ["del", key]);
  });

  it.each([
    ["blpop", ["blpop", "k", 0], /BLPOP: blocking commands are not supported/],
    ["xread block", ["xread", "BLOCK", 0, "STREAMS", "s", "$"], /XREAD BLOCK: blocking/],
    ["select", ["select", 1], /SELECT: connection-state commands/],
    ["multi", ["multi"], /MULTI: use the \/multi-exec endpoint/],
    ["subscribe", ["subscribe", "c"], /SUBSCRIBE: use the \/subscribe and \/psubscribe endpoints/],
    ["client", ["client", "kill", "id", 1], /CLIENT: connection-state commands/],
  ])("400 with a clear message for %s", async (_label, command, message) => {
    const answer = await post("/", command);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: expect.stringMatching(message) as unknown });
  });

  it("400 JSON for a request that is not HTTP at all", async () => {
    const { port, hostname } = new URL(testTargets().gatewayUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write("NOT HTTP\r\n\r\n"));
      let text = "";
      socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))).toEqual({
      error: "ERR malformed HTTP request",
    });
  });

  it("400 for an unsupported Upstash-Response-Format", async () => {
    const answer = await post("/", ["ping"], { headers: { "upstash-response-format": "resp2" } });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: expect.stringMatching(/only json/) as unknown });
  });
});

describe("body size limit", () => {
  let gateway: RunningGateway;

  beforeAll(async () => {
    gateway = await startGateway({ redisUrl: testTargets().redisUrl, port: 0, maxBodyBytes: 1024 });
  });
  afterAll(async () => {
    await gateway.close();
  });

  it("413 JSON above the configured limit, and the gateway keeps serving", async () => {
    const key = `${uniquePrefix("big")}:k`;
    const target = { url: gateway.url, token: gateway.token };
    const tooBig = await post("/", ["set", key, "x".repeat(2000)], target);
    expect(tooBig.status).toBe(413);
    expect(tooBig.json).toEqual({
      error: expect.stringMatching(/larger than the limit of 1024 bytes/) as unknown,
    });
    const pipeline = await post(
      "/pipeline",
      [
        ["set", key, "y".repeat(600)],
        ["set", key, "z".repeat(600)],
      ],
      target,
    );
    expect(pipeline.status).toBe(413);
    expect((await post("/", ["exists", key], target)).json).toEqual({ result: 0 });
    const fits = await post("/", ["set", key, "x".repeat(900)], target);
    expect(fits.json).toEqual({ result: "OK" });
    await post("/", ["del", key], target);
  });

  it("413 for a chunked body without Content-Length", async () => {
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 4; i += 1)
          controller.enqueue(new TextEncoder().encode(`["${"a".repeat(400)}",`));
        controller.enqueue(new TextEncoder().encode('"x"]'));
        controller.close();
      },
    });
    const res = await fetch(gateway.url, {
      method: "POST",
      headers: { authorization: `Bearer ${gateway.token}` },
      body: chunks,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual(errorShape);
  });
});
