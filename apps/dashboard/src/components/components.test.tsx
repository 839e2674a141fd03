import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it } from "vitest";
import type { CachePoint, Overview, Period, RankedEntry, RateLimitPoint } from "../model.ts";
import { windowEndingAt } from "../shaping/time-buckets.ts";
import { CachePanel } from "./CachePanel.tsx";
import { LeaderboardPanel } from "./LeaderboardPanel.tsx";
import { OverviewCards } from "./OverviewCards.tsx";
import { ProblemBanner } from "./ProblemBanner.tsx";
import { RateLimitPanel } from "./RateLimitPanel.tsx";
import { TokenForm } from "./TokenForm.tsx";

afterEach(cleanup);

const MIN = 60_000;
const NOW = Date.UTC(2026, 0, 1, 10, 0, 0);
const window15 = windowEndingAt(NOW, 15 * MIN, MIN);

const overview: Overview = {
  cacheHitRatio: 0.8125,
  cacheRequests: 1600,
  rateLimitRequests: 1234,
  blocked: 34,
  blockedShare: 34 / 1234,
  idempotentFirst: 12,
  idempotentReplays: 5,
  idempotentConflicts: 1,
  redis: { ok: true, latencyMs: 0.42 },
  db: { ok: false, latencyMs: null, detail: "connection refused" },
};

describe("OverviewCards", () => {
  it("formats every card (en-US)", () => {
    render(<OverviewCards overview={overview} rangeLabel="15 min" />);
    expect(screen.getByTestId("card-hit-ratio-value").textContent).toBe("81.3%");
    expect(screen.getByTestId("card-hit-ratio-detail").textContent).toBe("1,600 cache lookups");
    expect(screen.getByTestId("card-requests-value").textContent).toBe("1,234");
    expect(screen.getByTestId("card-blocked-value").textContent).toBe("2.8%");
    expect(screen.getByTestId("card-blocked-detail").textContent).toBe("34 blocked");
    expect(screen.getByTestId("card-replays-value").textContent).toBe("5");
    expect(screen.getByTestId("card-redis-value").textContent).toBe("Up");
    expect(screen.getByTestId("card-redis-detail").textContent).toBe("0.4 ms");
    expect(screen.getByTestId("card-db-value").textContent).toBe("Down");
    expect(screen.getByTestId("card-db-detail").textContent).toBe("connection refused");
  });
  it("calls dependency health unknown while the API is unreachable", () => {
    render(<OverviewCards overview={overview} rangeLabel="15 min" apiReachable={false} />);
    expect(screen.getByTestId("card-redis-value").textContent).toBe("Unknown");
    expect(screen.getByTestId("card-db-detail").textContent).toBe("API unreachable");
    // The last counts stay visible.
    expect(screen.getByTestId("card-requests-value").textContent).toBe("1,234");
  });
  it("shows placeholders while loading and a dash for an unknown ratio", () => {
    const { rerender } = render(<OverviewCards overview={undefined} rangeLabel="15 min" />);
    expect(screen.getByTestId("card-hit-ratio-value").textContent).toBe("…");
    rerender(
      <OverviewCards
        overview={{ ...overview, cacheHitRatio: null, cacheRequests: 0 }}
        rangeLabel="15 min"
      />,
    );
    expect(screen.getByTestId("card-hit-ratio-value").textContent).toBe("–");
  });
});

describe("CachePanel", () => {
  const points: CachePoint[] = [
    { t: NOW - MIN, namespace: "status", hit: 1, miss: 3, stale: 0 },
    { t: NOW - MIN, namespace: "user", hit: 9, miss: 1, stale: 0 },
  ];
  it("renders the namespaces sorted by hit ratio", () => {
    render(<CachePanel points={points} window={window15} withSeconds={false} />);
    const rows = within(screen.getByTestId("cache-namespaces")).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.getAttribute("data-namespace"))).toEqual(["user", "status"]);
    expect(rows[0]?.textContent).toContain("90.0%");
    expect(rows[1]?.textContent).toContain("25.0%");
  });
  it("has loading and empty states", () => {
    const { rerender } = render(
      <CachePanel points={undefined} window={window15} withSeconds={false} />,
    );
    expect(screen.getByRole("status").textContent).toBe("Loading…");
    rerender(<CachePanel points={[]} window={window15} withSeconds={false} />);
    expect(screen.getByText("No cache lookups in this range yet.")).toBeTruthy();
  });
  it("offers every namespace in a labelled select", () => {
    render(<CachePanel points={points} window={window15} withSeconds={false} />);
    const select = screen.getByLabelText<HTMLSelectElement>("Namespace");
    expect([...select.options].map((o) => o.textContent)).toEqual([
      "All namespaces",
      "status",
      "user",
    ]);
  });
});

describe("RateLimitPanel", () => {
  const points: RateLimitPoint[] = [
    { t: NOW, policy: "tips:quick", allowed: 10, blocked: 1234 },
    { t: NOW, policy: "streams:status", allowed: 50, blocked: 0 },
  ];
  it("shows per-policy totals and the top identifiers", () => {
    render(
      <RateLimitPanel
        points={points}
        topBlocked={[{ identifier: "ip:127.0.0.1", count: 1234, policy: "tips:quick" }]}
        topAllowed={[]}
        window={window15}
        withSeconds={false}
      />,
    );
    expect(screen.getByTestId("policy-blocked-tips:quick").textContent).toBe("1,234");
    expect(within(screen.getByTestId("top-blocked")).getByText("ip:127.0.0.1")).toBeTruthy();
    expect(within(screen.getByTestId("top-allowed")).getByText("None in this range.")).toBeTruthy();
  });
});

function Board({ entries }: { entries: RankedEntry[] }) {
  const [period, setPeriod] = useState<Period>("daily");
  return (
    <>
      <output data-testid="period">{period}</output>
      <LeaderboardPanel period={period} onPeriodChange={setPeriod} entries={entries} />
    </>
  );
}

describe("LeaderboardPanel", () => {
  const entries: RankedEntry[] = [
    { member: "7", label: "ada", score: 1234.5, rank: 1, change: 2 },
    { member: "8", label: "bob", score: 10, rank: 2, change: null },
    { member: "9", label: "cy", score: 5, rank: 3, change: -1 },
  ];
  it("renders ranks, money and rank changes", () => {
    render(<Board entries={entries} />);
    const rows = within(screen.getByTestId("leaderboard-table")).getAllByRole("row").slice(1);
    expect(rows.map((r) => [...r.children].map((c) => c.textContent))).toEqual([
      ["1", "ada", "$1,234.50", "▲ 2"],
      ["2", "bob", "$10.00", "new"],
      ["3", "cy", "$5.00", "▼ 1"],
    ]);
  });
  it("moves between periods with the arrow keys (roving tabindex)", () => {
    render(<Board entries={entries} />);
    const daily = screen.getByRole("tab", { name: "Daily" });
    expect(daily.getAttribute("tabindex")).toBe("0");
    expect(screen.getByRole("tab", { name: "Weekly" }).getAttribute("tabindex")).toBe("-1");
    fireEvent.keyDown(daily, { key: "ArrowRight" });
    expect(screen.getByTestId("period").textContent).toBe("weekly");
    expect(document.activeElement?.textContent).toBe("Weekly");
    fireEvent.keyDown(document.activeElement as Element, { key: "ArrowLeft" });
    fireEvent.keyDown(document.activeElement as Element, { key: "ArrowLeft" });
    expect(screen.getByTestId("period").textContent).toBe("alltime");
    expect(screen.getByRole("tab", { name: "All time" }).getAttribute("aria-selected")).toBe(
      "true",
    );
  });
});

describe("ProblemBanner and TokenForm", () => {
  it("shows an alert while the API is unreachable and nothing otherwise", () => {
    const { rerender } = render(
      <ProblemBanner
        problem={{ kind: "unreachable", message: "The API did not answer (Failed to fetch)" }}
        lastGoodAt={0}
        retryEveryMs={2000}
      />,
    );
    expect(screen.getByRole("alert").textContent).toContain("API unreachable");
    expect(screen.getByRole("alert").textContent).toContain("Retrying every 2 s");
    rerender(<ProblemBanner problem={null} lastGoodAt={0} retryEveryMs={2000} />);
    expect(screen.queryByRole("alert")).toBeNull();
    // A 401 is the token form's job, not the banner's.
    rerender(
      <ProblemBanner
        problem={{ kind: "unauthorized", message: "401" }}
        lastGoodAt={0}
        retryEveryMs={2000}
      />,
    );
    expect(screen.queryByRole("alert")).toBeNull();
  });
  it("submits the trimmed token and marks a rejected one as an alert", () => {
    const submitted: string[] = [];
    render(
      <TokenForm
        message="The API rejected the admin token (401)."
        rejected
        onSubmit={(t) => submitted.push(t)}
      />,
    );
    expect(screen.getByRole("alert").textContent).toContain("401");
    fireEvent.change(screen.getByLabelText("Token"), { target: { value: "  tok-123  " } });
    fireEvent.submit(screen.getByTestId("token-form"));
    expect(submitted).toEqual(["tok-123"]);
  });
});
