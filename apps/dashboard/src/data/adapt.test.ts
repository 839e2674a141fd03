import { describe, expect, it } from "vitest";
import { identifierTops, keyAreas } from "./adapt.ts";
import type { ApiOutputs } from "./api-types.ts";

type KeyDistribution = ApiOutputs["metrics"]["keyDistribution"];

const distribution = (memory: KeyDistribution["memory"]): KeyDistribution => ({
  sampled: 120,
  complete: true,
  byArea: { cache: 100, rl: 20 },
  byGroup: { "cache:user": 100, "rl:tips": 20 },
  memory,
  at: "2026-01-01T00:00:00.000Z",
});

describe("keyAreas", () => {
  it("takes memory from the API's MEMORY USAGE measurement, not from a per-key estimate", () => {
    const usage = keyAreas(
      distribution({
        available: true,
        keysPerArea: 32,
        areas: {
          cache: { measuredKeys: 32, measuredBytes: 32 * 250, estimatedBytes: 25_000 },
          rl: { measuredKeys: 0, measuredBytes: 0, estimatedBytes: 0 },
        },
      }),
    );
    expect(usage).toEqual({
      sampled: false,
      memory: { available: true, keysPerArea: 32 },
      areas: [
        { area: "cache", keys: 100, bytes: 25_000, measuredKeys: 32 },
        // Nothing of the area measured: unknown, not 0 and not 20 × some constant.
        { area: "rl", keys: 20, bytes: null, measuredKeys: 0 },
      ],
    });
  });

  it("passes on why memory is not available, with no number at all", () => {
    const usage = keyAreas(
      distribution({ available: false, reason: "MEMORY USAGE refused: ERR unknown command" }),
    );
    expect(usage.memory).toEqual({
      available: false,
      reason: "MEMORY USAGE refused: ERR unknown command",
    });
    expect(usage.areas.map((a) => a.bytes)).toEqual([null, null]);
  });
});

describe("identifierTops", () => {
  it("carries the resolved principal of each identifier into both tables", () => {
    const tops = identifierTops({
      minutes: 15,
      identifiers: [
        {
          identifier: "user_1",
          blocked: 4,
          allowed: 10,
          principal: { kind: "user", userId: 1, username: "alice" },
        },
        { identifier: "key_2", blocked: 0, allowed: 30, principal: { kind: "admin" } },
        { identifier: "ip_3", blocked: 7, allowed: 0, principal: null },
      ],
    });
    expect(tops.blocked).toEqual([
      { identifier: "ip_3", count: 7, owner: null },
      {
        identifier: "user_1",
        count: 4,
        owner: { kind: "user", userId: 1, username: "alice" },
      },
    ]);
    expect(tops.allowed.map((r) => [r.identifier, r.owner?.kind ?? null])).toEqual([
      ["key_2", "admin"],
      ["user_1", "user"],
    ]);
  });
});
