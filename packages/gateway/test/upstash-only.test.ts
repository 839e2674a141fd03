import { testTargets, uniquePrefix } from "@hotpath/testing";
import { Redis } from "@upstash/redis";
import { describe, expect, it } from "vitest";
import { emulateUpstashOnly } from "../src/upstash-only.ts";
import { post } from "./http.ts";

async function scanAll(prefix: string, extra: (string | number)[]): Promise<string[]> {
  const found: string[] = [];
  let cursor = "0";
  for (let page = 0; page < 1000; page += 1) {
    const answer = await post(
      "/",
      ["scan", cursor, "match", `${prefix}*`, "count", 1000, ...extra],
      { base64: false },
    );
    expect(answer.status).toBe(200);
    const [next, items] = (answer.json as { result: [string, string[]] }).result;
    found.push(...items);
    cursor = next;
    if (cursor === "0") return found;
  }
  throw new Error("SCAN never finished");
}

describe("SCAN … WITHTYPE (Upstash-only, emulated)", () => {
  it("answers [cursor, [key, type, …]] over raw HTTP, also inside pipelines", async () => {
    const prefix = uniquePrefix("withtype");
    await post("/pipeline", [
      ["set", `${prefix}:s`, "v"],
      ["hset", `${prefix}:h`, "f", "v"],
      ["rpush", `${prefix}:l`, "a"],
      ["zadd", `${prefix}:z`, 1, "m"],
    ]);
    const flat = await scanAll(prefix, ["withtype"]);
    const pairs = new Map<string, string>();
    for (let i = 0; i < flat.length; i += 2) pairs.set(flat[i] as string, flat[i + 1] as string);
    expect(Object.fromEntries(pairs)).toEqual({
      [`${prefix}:s`]: "string",
      [`${prefix}:h`]: "hash",
      [`${prefix}:l`]: "list",
      [`${prefix}:z`]: "zset",
    });
    // Without WITHTYPE, plain SCAN is untouched.
    expect((await scanAll(prefix, [])).sort()).toEqual([
      `${prefix}:h`,
      `${prefix}:l`,
      `${prefix}:s`,
      `${prefix}:z`,
    ]);

    const piped = await post(
      "/pipeline",
      [["scan", "0", "match", `${prefix}:s`, "count", 100000, "withtype"]],
      { base64: false },
    );
    expect(piped.json).toEqual([{ result: ["0", [`${prefix}:s`, "string"]] }]);
    await post("/", ["del", `${prefix}:s`, `${prefix}:h`, `${prefix}:l`, `${prefix}:z`]);
  });

  it("works with the SDK's scan(cursor, { withType: true })", async () => {
    const prefix = uniquePrefix("sdk-withtype");
    const { gatewayUrl, gatewayToken } = testTargets();
    const redis = new Redis({ url: gatewayUrl, token: gatewayToken, enableTelemetry: false });
    await redis.set(`${prefix}:s`, "v");
    await redis.sadd(`${prefix}:set`, "m");
    const [cursor, keys] = await redis.scan(0, {
      match: `${prefix}*`,
      count: 100000,
      withType: true,
    });
    expect(String(cursor)).toBe("0");
    expect([...keys].sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: `${prefix}:s`, type: "string" },
      { key: `${prefix}:set`, type: "set" },
    ]);
    await redis.del(`${prefix}:s`, `${prefix}:set`);
  });

  it("leaves every other command as it is", () => {
    const command = ["scan", "0", "match", "a*"];
    expect(emulateUpstashOnly(command)).toBe(command);
    const get = ["get", "withtype"];
    expect(emulateUpstashOnly(get)).toBe(get);
    // A MATCH pattern spelled "withtype" is a value, not the flag.
    const tricky = ["SCAN", "0", "MATCH", "withtype"];
    expect(emulateUpstashOnly(tricky)).toBe(tricky);
  });
});
