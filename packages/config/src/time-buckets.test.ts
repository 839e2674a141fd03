import { describe, expect, it } from "vitest";
import { isoWeekOf, isoWeekStamp, utcDayStamp } from "./index.ts";

describe("time buckets", () => {
  it("stamps UTC days", () => {
    expect(utcDayStamp(Date.UTC(2026, 10, 22, 23, 59))).toBe("20261122");
    expect(utcDayStamp(Date.UTC(2026, 0, 1, 0, 0))).toBe("20260101");
  });

  it("follows ISO 8601 weeks across year boundaries", () => {
    expect(isoWeekOf(Date.UTC(2026, 0, 1))).toEqual({ year: 2026, week: 1 });
    expect(isoWeekOf(Date.UTC(2027, 0, 1))).toEqual({ year: 2026, week: 53 });
    expect(isoWeekOf(Date.UTC(2021, 0, 3))).toEqual({ year: 2020, week: 53 });
    expect(isoWeekOf(Date.UTC(2024, 11, 30))).toEqual({ year: 2025, week: 1 });
    expect(isoWeekStamp(Date.UTC(2026, 10, 22))).toBe("2026W47");
    expect(isoWeekStamp(Date.UTC(2026, 10, 22), "-W")).toBe("2026-W47");
  });
});
