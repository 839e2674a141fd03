import { testTargets, uniquePrefix } from "@hotpath/testing";
import { Redis } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { b64, post } from "./http.ts";

describe("base64 encoding (Upstash-Encoding: base64)", () => {
  it("sends a top-level OK raw and encodes every other string", async () => {
    const key = `${uniquePrefix("b64")}:k`;
    expect((await post("/", ["set", key, "value"])).json).toEqual({ result: "OK" });
    expect((await post("/", ["get", key])).json).toEqual({ result: b64("value") });
    expect((await post("/", ["get", `${key}:missing`])).json).toEqual({ result: null });
    await post("/", ["del", key]);
  });

  it("encodes PONG and other simple strings", async () => {
    expect((await post("/", ["ping"])).json).toEqual({ result: b64("PONG") });
    const key = `${uniquePrefix("type")}:k`;
    await post("/", ["set", key, "x"]);
    expect((await post("/", ["type", key])).json).toEqual({ result: b64("string") });
    await post("/", ["del", key]);
  });

  it("encodes an OK inside an array (mget) and keeps a stored OK raw only at the top level", async () => {
    const key = `${uniquePrefix("ok")}:k`;
    await post("/", ["set", key, "OK"]);
    expect((await post("/", ["mget", key, `${key}:missing`])).json).toEqual({
      result: ["T0s=", null],
    });
    expect((await post("/", ["get", key])).json).toEqual({ result: "OK" });
    await post("/", ["del", key]);
  });

  it("keeps each pipeline item's top-level OK raw and encodes the rest", async () => {
    const key = `${uniquePrefix("pipe")}:k`;
    const answer = await post("/pipeline", [
      ["set", key, "OK"],
      ["get", key],
      ["mget", key],
      ["ping"],
      ["del", key],
    ]);
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual([
      { result: "OK" },
      { result: "OK" },
      { result: ["T0s="] },
      { result: b64("PONG") },
      { result: 1 },
    ]);
  });

  it("returns plain UTF-8 strings without the header", async () => {
    const key = `${uniquePrefix("plain")}:k`;
    await post("/", ["set", key, "héllo 😀"], { base64: false });
    expect((await post("/", ["get", key], { base64: false })).json).toEqual({ result: "héllo 😀" });
    expect((await post("/", ["ping"], { base64: false })).json).toEqual({ result: "PONG" });
    await post("/", ["del", key]);
  });

  it("round-trips UTF-8, emoji and invalid UTF-8 bytes exactly in base64 mode", async () => {
    const key = `${uniquePrefix("bytes")}:k`;
    await post("/", ["set", `${key}:emoji`, "naïve 😀 日本"]);
    expect((await post("/", ["get", `${key}:emoji`])).json).toEqual({
      result: b64("naïve 😀 日本"),
    });
    // Bytes that are not UTF-8 can only be made inside Redis.
    await post("/", [
      "eval",
      "redis.call('SET', KEYS[1], string.char(255, 0, 128, 10, 237, 160, 128)) return 1",
      1,
      `${key}:bin`,
    ]);
    const raw = (await post("/", ["get", `${key}:bin`])).json as { result: string };
    expect([...Buffer.from(raw.result, "base64")]).toEqual([255, 0, 128, 10, 237, 160, 128]);
    expect((await post("/", ["strlen", `${key}:bin`])).json).toEqual({ result: 7 });
    // Without base64 invalid bytes become U+FFFD (lossy, as documented by Upstash).
    const plain = (await post("/", ["get", `${key}:bin`], { base64: false })).json as {
      result: string;
    };
    expect(plain.result.startsWith("\uFFFD\u0000\uFFFD\n")).toBe(true);
    await post("/", ["del", `${key}:emoji`, `${key}:bin`]);
  });

  it("keeps integers exact, nil as null and nested arrays from EVAL", async () => {
    const script = "return {1, {2, 'x', false, {3}}, 'OK', redis.status_reply('OK'), -7}";
    expect((await post("/", ["eval", script, 0])).json).toEqual({
      result: [1, [2, b64("x"), null, [3]], "T0s=", "T0s=", -7],
    });
    expect((await post("/", ["eval", "return redis.status_reply('OK')", 0])).json).toEqual({
      result: "OK",
    });
    const key = `${uniquePrefix("big")}:k`;
    const answer = await post("/", ["incrby", key, "9007199254740993"]);
    expect(answer.text).toBe('{"result":9007199254740993}');
    await post("/", ["del", key]);
  });

  it("sends hgetall as a flat array", async () => {
    const key = `${uniquePrefix("hash")}:k`;
    await post("/", ["hset", key, "a", "1", "b", "two"]);
    const { result } = (await post("/", ["hgetall", key], { base64: false })).json as {
      result: string[];
    };
    expect(result).toHaveLength(4);
    const pairs = new Map([
      [result[0], result[1]],
      [result[2], result[3]],
    ]);
    expect(Object.fromEntries(pairs)).toEqual({ a: "1", b: "two" });
    await post("/", ["del", key]);
  });

  it("accepts numbers and booleans as arguments", async () => {
    const key = `${uniquePrefix("args")}:k`;
    expect((await post("/", ["set", key, 12.5, "ex", 60])).json).toEqual({ result: "OK" });
    expect((await post("/", ["get", key], { base64: false })).json).toEqual({ result: "12.5" });
    await post("/", ["set", key, true]);
    expect((await post("/", ["get", key], { base64: false })).json).toEqual({ result: "true" });
    await post("/", ["del", key]);
  });
});

describe("upstash-sync-token", () => {
  it("is a non-empty value that differs on every response, including concurrent ones", async () => {
    const key = `${uniquePrefix("sync")}:k`;
    const answers = [
      await post("/", ["set", key, "1"]),
      await post("/pipeline", [
        ["incr", key],
        ["get", key],
      ]),
      await post("/multi-exec", [["incr", key]]),
      await post("/", ["eval", "return 1", 0]),
      ...(await Promise.all([
        post("/", ["get", key]),
        post("/", ["get", key]),
        post("/", ["get", key]),
      ])),
      await post("/", ["del", key]),
    ];
    const tokens = answers.map((answer) => answer.headers.get("upstash-sync-token"));
    for (const token of tokens) expect(token).toMatch(/\S/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});

describe("pipelines and transactions", () => {
  it("reports a failing pipeline item with only an error key and runs the others", async () => {
    const key = `${uniquePrefix("pipe-err")}:k`;
    const answer = await post("/pipeline", [
      ["set", key, "v"],
      ["lpush", key, "x"],
      ["get", key],
      ["evalsha", "0".repeat(40), 0],
    ]);
    expect(answer.status).toBe(200);
    const items = answer.json as Record<string, unknown>[];
    expect(items[0]).toEqual({ result: "OK" });
    expect(Object.keys(items[1] ?? {})).toEqual(["error"]);
    expect(items[1]?.error).toMatch(/^WRONGTYPE/);
    expect(items[2]).toEqual({ result: b64("v") });
    expect(items[3]).toEqual({ error: "NOSCRIPT No matching script. Please use EVAL." });
    await post("/", ["del", key]);
  });

  it("turns a command the REST API does not offer into that item's error", async () => {
    const key = `${uniquePrefix("pipe-rej")}:k`;
    const answer = await post("/pipeline", [
      ["set", key, "v"],
      ["blpop", key, 0],
      ["select", 1],
      ["get", key],
    ]);
    expect(answer.status).toBe(200);
    const items = answer.json as Record<string, unknown>[];
    expect(items[0]).toEqual({ result: "OK" });
    expect(items[1]?.error).toMatch(/BLPOP: blocking commands are not supported/);
    expect(items[2]?.error).toMatch(/SELECT: connection-state commands are not supported/);
    expect(items[3]).toEqual({ result: b64("v") });
    await post("/", ["del", key]);
  });

  it("runs /multi-exec atomically: concurrent transactions never interleave", async () => {
    const key = `${uniquePrefix("multi")}:k`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        post("/multi-exec", [
          ["incr", key],
          ["incr", key],
          ["incr", key],
        ]),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      const [a, b, c] = (answer.json as { result: number }[]).map((item) => item.result);
      expect([b, c]).toEqual([(a ?? 0) + 1, (a ?? 0) + 2]);
    }
    expect((await post("/", ["get", key], { base64: false })).json).toEqual({ result: "60" });
    await post("/", ["del", key]);
  });

  it("reports a runtime error of one transaction command as that item's error", async () => {
    const key = `${uniquePrefix("multi-err")}:k`;
    const answer = await post("/multi-exec", [
      ["set", key, "v"],
      ["lpush", key, "x"],
      ["get", key],
    ]);
    expect(answer.status).toBe(200);
    const items = answer.json as Record<string, unknown>[];
    expect(items[0]).toEqual({ result: "OK" });
    expect(Object.keys(items[1] ?? {})).toEqual(["error"]);
    expect(items[1]?.error).toMatch(/^WRONGTYPE/);
    expect(items[2]).toEqual({ result: b64("v") });
    await post("/", ["del", key]);
  });

  it("answers 400 with a single EXECABORT error when Redis discards the transaction", async () => {
    const key = `${uniquePrefix("execabort")}:k`;
    const answer = await post("/multi-exec", [
      ["set", key, "v"],
      ["nosuchcommand", "x"],
    ]);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: expect.stringMatching(/^EXECABORT/) as unknown });
    expect((await post("/", ["exists", key])).json).toEqual({ result: 0 });
  });

  it("answers 400 for a transaction with a command the REST API does not offer, running nothing", async () => {
    const key = `${uniquePrefix("multi-rej")}:k`;
    const answer = await post("/multi-exec", [
      ["set", key, "v"],
      ["watch", key],
    ]);
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({
      error: expect.stringMatching(/WATCH: use the \/multi-exec endpoint/) as unknown,
    });
    expect((await post("/", ["exists", key])).json).toEqual({ result: 0 });
  });
});

describe("concurrent requests", () => {
  it("answer independently when they are merged into one Redis write (good, refused and failing commands mixed)", async () => {
    const key = `${uniquePrefix("mixed")}:k`;
    await post("/", ["set", `${key}:str`, "v"]);
    const requests = Array.from({ length: 40 }, (_, i) => {
      switch (i % 5) {
        case 0:
          return post("/", ["incr", `${key}:n`]).then((answer) => ({ i, kind: "incr", answer }));
        case 1:
          return post("/", ["lpush", `${key}:str`, "x"]).then((answer) => ({
            i,
            kind: "wrongtype",
            answer,
          }));
        case 2:
          return post("/", ["blpop", `${key}:list`, 0]).then((answer) => ({
            i,
            kind: "rejected",
            answer,
          }));
        case 3:
          return post("/", ["set", `${key}:bad`, ["nested"]]).then((answer) => ({
            i,
            kind: "bad",
            answer,
          }));
        default:
          return post("/pipeline", [
            ["get", `${key}:str`],
            ["echo", `item-${i}`],
          ]).then((answer) => ({ i, kind: "pipeline", answer }));
      }
    });
    const answers = await Promise.all(requests);
    const increments: number[] = [];
    for (const { i, kind, answer } of answers) {
      switch (kind) {
        case "incr":
          expect(answer.status).toBe(200);
          increments.push((answer.json as { result: number }).result);
          break;
        case "wrongtype":
          expect(answer.status).toBe(400);
          expect(answer.json).toEqual({ error: expect.stringMatching(/^WRONGTYPE/) as unknown });
          break;
        case "rejected":
          expect(answer.status).toBe(400);
          expect(answer.json).toEqual({
            error: expect.stringMatching(/BLPOP: blocking/) as unknown,
          });
          break;
        case "bad":
          expect(answer.status).toBe(400);
          expect(answer.json).toEqual({ error: expect.stringMatching(/argument 2/) as unknown });
          break;
        default:
          expect(answer.status).toBe(200);
          expect(answer.json).toEqual([{ result: b64("v") }, { result: b64(`item-${i}`) }]);
      }
    }
    expect(increments.sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    await post("/", ["del", `${key}:str`, `${key}:n`]);
  });
});

describe("through the unmodified @upstash/redis SDK", () => {
  it("round-trips UTF-8, emoji, JSON values and reads invalid UTF-8 as U+FFFD", async () => {
    const { gatewayUrl, gatewayToken } = testTargets();
    const redis = new Redis({ url: gatewayUrl, token: gatewayToken, enableTelemetry: false });
    const key = `${uniquePrefix("sdk-utf8")}:k`;
    await redis.set(`${key}:emoji`, "naïve 😀 日本 \u0000 end");
    expect(await redis.get(`${key}:emoji`)).toBe("naïve 😀 日本 \u0000 end");
    await redis.set(`${key}:json`, { nested: { list: [1, "two", null] }, ok: "OK" });
    expect(await redis.get(`${key}:json`)).toEqual({
      nested: { list: [1, "two", null] },
      ok: "OK",
    });
    await redis.set(`${key}:ok`, "OK");
    expect(await redis.mget(`${key}:ok`, `${key}:emoji`, `${key}:missing`)).toEqual([
      "OK",
      "naïve 😀 日本 \u0000 end",
      null,
    ]);
    await redis.eval(
      "redis.call('SET', KEYS[1], string.char(104, 105, 255, 33)) return 1",
      [`${key}:bin`],
      [],
    );
    expect(await redis.get(`${key}:bin`)).toBe("hi\uFFFD!");
    expect(await redis.strlen(`${key}:bin`)).toBe(4);
    await redis.del(`${key}:emoji`, `${key}:json`, `${key}:ok`, `${key}:bin`);
  });
});
