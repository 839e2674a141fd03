// @vitest-environment node
import { freePort } from "@hotpath/testing";
import { describe, expect, it } from "vitest";
import { assertLoopback, runTraffic } from "./traffic.ts";

describe("demo traffic bounds", () => {
  it("only targets loopback", () => {
    expect(assertLoopback("http://127.0.0.1:3000").port).toBe("3000");
    expect(assertLoopback("http://localhost:3000").hostname).toBe("localhost");
    expect(assertLoopback("http://[::1]:3000").hostname).toBe("[::1]");
    expect(() => assertLoopback("https://api.example.com")).toThrow(/only targets loopback/);
    expect(() => assertLoopback("http://10.0.0.5:3000")).toThrow(/only targets loopback/);
  });

  it("stops at its request budget and never throws when nothing answers", async () => {
    // A port nobody listens on: every call fails fast with a network error.
    const port = await freePort();
    const report = await runTraffic({
      apiUrl: `http://127.0.0.1:${port}`,
      durationMs: 10_000,
      maxRequests: 25,
      pauseMs: 10,
    });
    expect(report.ok).toBe(0);
    expect(report.errors.NETWORK).toBeGreaterThan(0);
    // Setup calls (logins, status reads) plus at most one round past the budget check.
    expect(report.requests).toBeLessThanOrEqual(25 + 10);
    expect(report.elapsedMs).toBeLessThan(10_000);
  });

  it("stops at its time budget", async () => {
    const port = await freePort();
    const report = await runTraffic({
      apiUrl: `http://127.0.0.1:${port}`,
      durationMs: 300,
      maxRequests: 1_000_000,
      pauseMs: 50,
    });
    expect(report.requests).toBeLessThan(1_000_000);
    expect(report.elapsedMs).toBeGreaterThanOrEqual(300);
  });
});
