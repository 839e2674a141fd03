import { describe, expect, it } from "vitest";
import { BlockCache } from "../src/block-cache.ts";
import { resolvePolicy } from "../src/policies.ts";
import { multiPolicyOutcomes } from "../src/redis-check.ts";

const policies = [resolvePolicy("strict", "10/1m"), resolvePolicy("plan:free", "100/1m")];

describe("a Redis reply of another shape is a store error, never a decision", () => {
  it("reads the multi-policy script's reply", () => {
    expect(multiPolicyOutcomes(policies, ["x", "1", "9", "60000", "0", "0", "120000"])).toEqual([
      expect.objectContaining({ policy: "strict", success: true, remaining: 9, reset: 60000 }),
      expect.objectContaining({ policy: "plan:free", success: false, remaining: 0, reset: 120000 }),
    ]);
  });

  it.each([
    ["a status reply meant for another command", "OK"],
    ["a bulk string", "cached value"],
    ["a truncated table", ["x", "1", "9", "60000", "1"]],
    ["a table of other values", ["a", "b", "c", "d", "e", "f", "g"]],
    ["nothing", null],
  ])("%s → RATELIMIT_STORE_ERROR naming only the reply's kind", (_, reply) => {
    expect(() => multiPolicyOutcomes(policies, reply)).toThrow(
      expect.objectContaining({
        code: "RATELIMIT_STORE_ERROR",
        message: expect.stringMatching(
          /^limit \(multi-policy\): unexpected reply from Redis \((string|an array of \d+|object)\)$/,
        ) as unknown,
      }),
    );
  });

  it("the block cache never remembers a block without a finite reset (it would never end)", () => {
    const blocks = new BlockCache();
    blocks.block("strict|user-1", Number.NaN, []);
    expect(blocks.size).toBe(0);
    expect(blocks.get("strict|user-1")).toBeUndefined();
    blocks.block("strict|user-1", Date.now() + 60_000, []);
    expect(blocks.get("strict|user-1")).toBeDefined();
  });
});
