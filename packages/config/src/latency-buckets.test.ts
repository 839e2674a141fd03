import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  LATENCY_BUCKET_BOUNDS_US,
  LATENCY_BUCKET_COUNT,
  LATENCY_BUCKET_MAX_RATIO,
  latencyBucketField,
  latencyBucketIndex,
  latencySeries,
  parseLatencyBucketField,
  parseLatencySeries,
} from "./index.ts";

describe("latency buckets", () => {
  it("are the R10 preferred numbers from 0.1 ms to 31.5 s, at most 1.28x apart", () => {
    expect(LATENCY_BUCKET_BOUNDS_US[0]).toBe(100);
    expect(LATENCY_BUCKET_BOUNDS_US.at(-1)).toBe(31_500_000);
    expect(LATENCY_BUCKET_BOUNDS_US.slice(0, 11)).toEqual([
      100, 125, 160, 200, 250, 315, 400, 500, 630, 800, 1000,
    ]);
    expect(LATENCY_BUCKET_COUNT).toBe(57);
    for (let i = 1; i < LATENCY_BUCKET_BOUNDS_US.length; i += 1) {
      const ratio =
        (LATENCY_BUCKET_BOUNDS_US[i] as number) / (LATENCY_BUCKET_BOUNDS_US[i - 1] as number);
      expect(ratio).toBeGreaterThan(1.2);
      expect(ratio).toBeLessThanOrEqual(LATENCY_BUCKET_MAX_RATIO);
    }
  });

  it("puts a duration in the first bucket whose bound is >= it (le semantics)", () => {
    expect(latencyBucketIndex(0)).toBe(0);
    expect(latencyBucketIndex(0.1)).toBe(0);
    expect(latencyBucketIndex(0.1001)).toBe(1);
    expect(latencyBucketIndex(1)).toBe(10);
    expect(latencyBucketIndex(31_500)).toBe(55);
    expect(latencyBucketIndex(31_501)).toBe(56);
    expect(latencyBucketIndex(1e9)).toBe(LATENCY_BUCKET_COUNT - 1);
    fc.assert(
      fc.property(fc.double({ min: 0, max: 40_000, noNaN: true }), (ms) => {
        const index = latencyBucketIndex(ms);
        const upper = LATENCY_BUCKET_BOUNDS_US[index] ?? Number.POSITIVE_INFINITY;
        const lower = LATENCY_BUCKET_BOUNDS_US[index - 1] ?? Number.NEGATIVE_INFINITY;
        return ms * 1000 <= upper && ms * 1000 > lower;
      }),
    );
  });

  it("names bucket fields by their bound and reads them back", () => {
    expect(latencyBucketField(0)).toBe("le_100");
    expect(latencyBucketField(LATENCY_BUCKET_COUNT - 1)).toBe("le_inf");
    for (let i = 0; i < LATENCY_BUCKET_COUNT; i += 1)
      expect(parseLatencyBucketField(latencyBucketField(i))).toBe(i);
    expect(parseLatencyBucketField("le_101")).toBeUndefined();
    expect(() => latencyBucketField(LATENCY_BUCKET_COUNT)).toThrow(RangeError);
  });

  it("labels series by kind and name", () => {
    expect(latencySeries("procedure", "streams.status")).toBe("procedure/streams.status");
    expect(parseLatencySeries("procedure_db/tips.quick")).toEqual({
      kind: "procedure_db",
      name: "tips.quick",
    });
    expect(parseLatencySeries("nope/x")).toBeUndefined();
    expect(parseLatencySeries("procedure")).toBeUndefined();
  });
});
