import { describe, expect, it } from "vitest";
import {
  NO_VALUE,
  formatAgo,
  formatBytes,
  formatCompact,
  formatCount,
  formatLatency,
  formatMoney,
  formatRankChange,
  formatRatio,
} from "./format.ts";

describe("formatCount", () => {
  it("groups digits per locale", () => {
    expect(formatCount(1234567, "en-US")).toBe("1,234,567");
    expect(formatCount(1234567, "de-DE")).toBe("1.234.567");
    // fr-FR groups with a narrow no-break space.
    expect(formatCount(1234567, "fr-FR")).toBe("1\u202f234\u202f567");
  });
  it("rounds to whole numbers", () => {
    expect(formatCount(2.6, "en-US")).toBe("3");
  });
});

describe("formatRatio", () => {
  it("shows one decimal of percent", () => {
    expect(formatRatio(0.875, "en-US")).toBe("87.5%");
    expect(formatRatio(1, "en-US")).toBe("100.0%");
    expect(formatRatio(0.875, "de-DE")).toBe("87,5\u00a0%");
  });
  it("shows a dash, not 0 %, when the ratio is unknown", () => {
    expect(formatRatio(null, "en-US")).toBe(NO_VALUE);
    expect(formatRatio(undefined, "en-US")).toBe(NO_VALUE);
    expect(formatRatio(Number.NaN, "en-US")).toBe(NO_VALUE);
  });
});

describe("formatBytes", () => {
  it("steps by 1024 and names the unit", () => {
    expect(formatBytes(512, "en-US")).toBe("512 byte");
    expect(formatBytes(1536, "en-US")).toBe("1.5 kB");
    expect(formatBytes(5 * 1024 * 1024, "en-US")).toBe("5 MB");
  });
  it("rejects negative sizes", () => {
    expect(formatBytes(-1, "en-US")).toBe(NO_VALUE);
  });
});

describe("formatLatency", () => {
  it("keeps a decimal under 10 ms only", () => {
    expect(formatLatency(0.84, "en-US")).toBe("0.8 ms");
    expect(formatLatency(12.7, "en-US")).toBe("13 ms");
    expect(formatLatency(null, "en-US")).toBe(NO_VALUE);
  });
});

describe("formatCompact / formatMoney", () => {
  it("compacts axis labels", () => {
    expect(formatCompact(1200, "en-US")).toBe("1.2K");
    expect(formatCompact(3_400_000, "en-US")).toBe("3.4M");
  });
  it("formats tips as currency", () => {
    expect(formatMoney(12.5, "USD", "en-US")).toBe("$12.50");
    expect(formatMoney(12.5, "EUR", "de-DE")).toBe("12,50\u00a0€");
  });
});

describe("formatAgo", () => {
  it("uses the largest fitting unit", () => {
    expect(formatAgo(0, "en-US")).toBe("now");
    expect(formatAgo(5_400, "en-US")).toBe("5 seconds ago");
    expect(formatAgo(125_000, "en-US")).toBe("2 minutes ago");
    expect(formatAgo(3 * 3600_000, "en-US")).toBe("3 hours ago");
    expect(formatAgo(50 * 3600_000, "en-US")).toBe("2 days ago");
  });
  it("treats a clock slightly ahead as now", () => {
    expect(formatAgo(-900, "en-US")).toBe("now");
  });
});

describe("formatRankChange", () => {
  it("marks moves, no change and newcomers", () => {
    expect(formatRankChange(2, "en-US")).toBe("▲ 2");
    expect(formatRankChange(-1, "en-US")).toBe("▼ 1");
    expect(formatRankChange(0, "en-US")).toBe(NO_VALUE);
    expect(formatRankChange(null, "en-US")).toBe("new");
  });
});
