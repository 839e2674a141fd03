import { spawnSync } from "node:child_process";
import { histogramOf, type LatencyRow } from "@hotpath/cache";
import { ConfigError, latencySeries } from "@hotpath/config";
import { describe, expect, it } from "vitest";
import { loadEnv } from "../src/env.ts";
import { CallTimer, createCallScope } from "../src/latency/call-timing.ts";
import { buildLatencyReport } from "../src/latency/report.ts";
import { API_DIR, API_PROCESS_ARGS, apiProcessEnv } from "./helpers/processes.ts";

/** A one-minute row holding `durations` (ms). */
function row(series: string, minuteStartMs: number, durations: number[]): LatencyRow {
  return { series, minuteStartMs, histogram: histogramOf(durations) };
}

describe("CallTimer (Redis and database waits of one call)", () => {
  it("counts concurrent round trips of a kind once (union of intervals) and kinds apart", () => {
    let now = 0;
    const timer = new CallTimer(() => now);
    timer.enter("redis"); // t=0
    now = 2;
    timer.enter("redis"); // overlaps the first
    now = 5;
    timer.leave("redis");
    timer.enter("db"); // t=5, overlaps the second Redis round trip
    now = 8;
    timer.leave("redis"); // Redis busy 0..8
    now = 20;
    timer.leave("db"); // db busy 5..20
    now = 30;
    timer.enter("redis");
    now = 31;
    timer.leave("redis"); // Redis busy 30..31
    expect(timer.redisMs).toBe(9);
    expect(timer.dbMs).toBe(15);
  });

  it("charges a round trip still in flight up to the end, and nothing after it", () => {
    let now = 0;
    const timer = new CallTimer(() => now);
    timer.enter("db");
    now = 4;
    timer.end();
    now = 10;
    timer.leave("db");
    timer.enter("redis");
    now = 50;
    timer.leave("redis");
    expect(timer.dbMs).toBe(4);
    expect(timer.redisMs).toBe(0);
  });

  it("the scope charges round trips made across awaits to the call that runs them, and none outside", async () => {
    let now = 0;
    const clock = () => now;
    const scope = createCallScope();
    const a = new CallTimer(clock);
    const b = new CallTimer(clock);
    const settle = new Map<string, () => void>();
    const roundTrip = (name: string) =>
      scope.track("redis", () => new Promise<void>((resolve) => settle.set(name, resolve)));
    const drain = () => new Promise((resolve) => setImmediate(resolve));
    const calls = Promise.all([
      scope.run(a, async () => {
        await drain();
        await roundTrip("a");
      }),
      scope.run(b, () => roundTrip("b")),
    ]);
    await drain();
    now = 10;
    settle.get("b")?.();
    await drain();
    now = 30;
    settle.get("a")?.();
    await calls;
    // A round trip outside any call, while both calls are still open: charged to neither.
    const outside = roundTrip("outside");
    now = 60;
    settle.get("outside")?.();
    await outside;
    a.end();
    b.end();
    expect(a.redisMs).toBe(30);
    expect(b.redisMs).toBe(10);
    expect(a.dbMs).toBe(0);
  });
});

describe("buildLatencyReport", () => {
  const range = { minutes: 5, sinceMs: 0, untilMs: 300_000 };

  it("gives quantiles, per-minute series, Redis/database shares, slowest first", () => {
    const report = buildLatencyReport(
      [
        row(latencySeries("procedure", "fast.one"), 60_000, [1, 1, 1, 1]),
        row(latencySeries("procedure", "slow.one"), 60_000, [100, 100]),
        row(latencySeries("procedure", "slow.one"), 120_000, [100, 100]),
        row(latencySeries("procedure_redis", "slow.one"), 60_000, [10, 10]),
        row(latencySeries("procedure_redis", "slow.one"), 120_000, [10, 10]),
        row(latencySeries("procedure_db", "slow.one"), 60_000, [50, 50]),
        row(latencySeries("procedure_db", "slow.one"), 120_000, [50, 50]),
        row(latencySeries("redis", "cache_read"), 60_000, [0.5, 0.5, 0.5]),
        row("not-a-series", 60_000, [1]),
      ],
      range,
    );
    expect(report).toMatchObject(range);
    expect(report.procedures.map((p) => p.procedure)).toEqual(["slow.one", "fast.one"]);
    const slow = report.procedures[0];
    expect(slow).toMatchObject({ count: 4, meanMs: 100, redisMeanMs: 10, dbMeanMs: 50 });
    expect(slow?.share?.redis).toBeCloseTo(0.1, 10);
    expect(slow?.share?.db).toBeCloseTo(0.5, 10);
    expect(slow?.share?.other).toBeCloseTo(0.4, 10);
    // 100 ms is a bucket bound: every quantile is within the bucket (80, 100].
    for (const q of [slow?.p50, slow?.p95, slow?.p99]) {
      expect(q).toBeGreaterThan(80);
      expect(q).toBeLessThanOrEqual(100);
    }
    expect(slow?.series.map((p) => [p.minute, p.count])).toEqual([
      [60_000, 2],
      [120_000, 2],
    ]);
    expect(report.procedures[1]).toMatchObject({ count: 4, share: null, redisMeanMs: null });
    expect(report.operations).toMatchObject([{ operation: "cache_read", count: 3 }]);
  });

  it("is empty without rows", () => {
    expect(buildLatencyReport([], range)).toEqual({ ...range, procedures: [], operations: [] });
  });
});

describe("TEST_PROCEDURE_DELAY (test only)", () => {
  it("parses <procedure>=<ms> pairs outside production", () => {
    const env = loadEnv({
      NODE_ENV: "test",
      TEST_PROCEDURE_DELAY: "streams.status=300, users.byId=5",
    });
    expect([...(env.TEST_PROCEDURE_DELAY ?? [])]).toEqual([
      ["streams.status", 300],
      ["users.byId", 5],
    ]);
    expect(loadEnv({ NODE_ENV: "test" }).TEST_PROCEDURE_DELAY).toBeUndefined();
  });

  it("names the field when a pair is malformed", () => {
    expect(() => loadEnv({ NODE_ENV: "test", TEST_PROCEDURE_DELAY: "streams.status" })).toThrow(
      /TEST_PROCEDURE_DELAY: expected <procedure>=<ms>/,
    );
    expect(() => loadEnv({ NODE_ENV: "test", TEST_PROCEDURE_DELAY: "a=0" })).toThrow(
      /TEST_PROCEDURE_DELAY/,
    );
  });

  it("is refused in production (also the default NODE_ENV)", () => {
    for (const source of [
      { NODE_ENV: "production", TEST_PROCEDURE_DELAY: "streams.status=300" },
      { TEST_PROCEDURE_DELAY: "streams.status=300" },
    ]) {
      let error: unknown;
      try {
        loadEnv(source);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(
        "TEST_PROCEDURE_DELAY: is test-only and refused when NODE_ENV=production",
      );
    }
  });

  it("stops the API at startup in production with a clear error", () => {
    const result = spawnSync(process.execPath, API_PROCESS_ARGS, {
      cwd: API_DIR,
      env: apiProcessEnv({ NODE_ENV: "production", TEST_PROCEDURE_DELAY: "streams.status=300" }),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "TEST_PROCEDURE_DELAY: is test-only and refused when NODE_ENV=production",
    );
    expect(result.stdout).not.toContain("HOTPATH_API_READY");
  }, 70_000);
});
