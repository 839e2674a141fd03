import { trace } from "@opentelemetry/api";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { HotpathRedis } from "@hotpath/redis";
import { recordSpans, type SpanRecorder } from "@hotpath/testing/tracing";
import { createCache } from "../src/index.ts";
import { useTestApps } from "./helpers.ts";

describe("cache spans", () => {
  let redis: HotpathRedis;
  let recorder: SpanRecorder;
  const { newApp } = useTestApps("tcp", (client) => (redis = client));
  beforeAll(() => {
    recorder = recordSpans();
  });
  afterAll(() => recorder.stop());
  beforeEach(() => recorder.reset());

  const newCache = () =>
    createCache({
      redis,
      app: newApp("traces"),
      namespace: "user",
      defaultTtl: 60,
      metrics: false,
    });

  it("a getOrSet outside any trace starts no span, not even a root one", async () => {
    const cache = newCache();
    expect(await cache.getOrSet("a", () => Promise.resolve({ name: "Ada" }))).toEqual({
      name: "Ada",
    });
    expect(await cache.getOrSet("a", () => Promise.resolve({ name: "other" }))).toEqual({
      name: "Ada",
    });
    expect(recorder.spans().map((span) => span.name)).toEqual([]);
  });

  it("inside a trace, getOrSet is a child span with its outcome, its round trips beneath it", async () => {
    const cache = newCache();
    const tracer = trace.getTracer("test");
    const inRequest = (load: () => Promise<unknown>) =>
      tracer.startActiveSpan("request", async (span) => {
        try {
          return await cache.getOrSet("a", load);
        } finally {
          span.end();
        }
      });
    await inRequest(() => Promise.resolve("loaded"));
    await inRequest(() => Promise.resolve("never"));
    const requests = recorder.spans().filter((span) => span.name === "request");
    expect(requests).toHaveLength(2);
    const outcomes = requests.map((request) => {
      const [cacheSpan, ...others] = recorder.children(request);
      expect(others).toEqual([]);
      expect(cacheSpan?.name).toBe("cache.getOrSet");
      expect(recorder.children(cacheSpan!).length).toBeGreaterThan(0);
      for (const roundTrip of recorder.children(cacheSpan!))
        expect(roundTrip.attributes["db.system.name"]).toBe("redis");
      return cacheSpan?.attributes["hotpath.cache.outcome"];
    });
    expect(outcomes).toEqual(["miss", "hit"]);
  });
});
