import { describe, expect, it } from "vitest";
import {
  ConfigError,
  TTL_EXTENDED,
  TTL_LONG,
  TTL_MEDIUM,
  TTL_REALTIME,
  TTL_SHORT,
  TTL_WEEK,
  isDuration,
  parseDurationMs,
  parseDurationSeconds,
} from "./index.ts";

describe("TTL constants", () => {
  it("are the documented numbers of seconds", () => {
    expect({ TTL_REALTIME, TTL_SHORT, TTL_MEDIUM, TTL_LONG, TTL_EXTENDED, TTL_WEEK }).toEqual({
      TTL_REALTIME: 10,
      TTL_SHORT: 60,
      TTL_MEDIUM: 300,
      TTL_LONG: 3600,
      TTL_EXTENDED: 86_400,
      TTL_WEEK: 604_800,
    });
  });

  it("match their duration strings", () => {
    expect(parseDurationSeconds("10s")).toBe(TTL_REALTIME);
    expect(parseDurationSeconds("1m")).toBe(TTL_SHORT);
    expect(parseDurationSeconds("5m")).toBe(TTL_MEDIUM);
    expect(parseDurationSeconds("1h")).toBe(TTL_LONG);
    expect(parseDurationSeconds("1d")).toBe(TTL_EXTENDED);
    expect(parseDurationSeconds("1w")).toBe(TTL_WEEK);
  });
});

describe("parseDurationMs", () => {
  it.each([
    ["250ms", 250],
    ["1s", 1000],
    ["10 s", 10_000],
    ["5m", 300_000],
    ["1.5h", 5_400_000],
    ["2d", 172_800_000],
    ["1w", 604_800_000],
    ["  30s  ", 30_000],
  ])("parses %j as %i ms", (text, ms) => {
    expect(parseDurationMs(text)).toBe(ms);
    expect(isDuration(text)).toBe(true);
  });

  it.each([
    "",
    "10",
    "s",
    "10x",
    "-5s",
    "1y",
    "5 minutes",
    "5  m",
    "1e3s",
    "0s",
    "0ms",
    "0.0m",
    "five s",
  ])("rejects %j with CONFIG_INVALID_DURATION naming the input", (text) => {
    expect(() => parseDurationMs(text)).toThrow(ConfigError);
    try {
      parseDurationMs(text);
    } catch (error) {
      expect((error as ConfigError).code).toBe("CONFIG_INVALID_DURATION");
      expect((error as ConfigError).message).toContain(`"${text}"`);
    }
  });

  it("rejects malformed strings in isDuration too", () => {
    expect(isDuration("10x")).toBe(false);
    expect(isDuration("m")).toBe(false);
  });
});

describe("parseDurationSeconds", () => {
  it("rounds up to whole seconds, at least 1", () => {
    expect(parseDurationSeconds("250ms")).toBe(1);
    expect(parseDurationSeconds("1500ms")).toBe(2);
    expect(parseDurationSeconds("90s")).toBe(90);
  });

  it("rejects what parseDurationMs rejects", () => {
    expect(() => parseDurationSeconds("soon")).toThrow(/Invalid duration "soon"/);
  });
});
