import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { ProcedureLatencyView } from "../latency-model.ts";
import { LatencyPanel } from "./LatencyPanel.tsx";

afterEach(cleanup);

const T = Date.UTC(2026, 0, 1, 10, 0);
const procedures: ProcedureLatencyView[] = [
  {
    procedure: "users.list",
    calls: 12,
    p50: 410,
    p99: 480,
    share: { redis: 0.01, db: 0.04, other: 0.95 },
    series: [{ t: T, p50: 410, p99: 480 }],
  },
  {
    procedure: "streams.status",
    calls: 300,
    p50: 1.2,
    p99: 6,
    share: { redis: 0.6, db: 0.25, other: 0.15 },
    series: [{ t: T, p50: 1.2, p99: 6 }],
  },
];

describe("LatencyPanel", () => {
  it("lists procedures slowest first and shows the slowest one's Redis vs database share", () => {
    render(<LatencyPanel procedures={procedures} withSeconds={false} />);
    const rows = within(screen.getByTestId("latency-table")).getAllByRole("row").slice(1);
    expect(rows.map((r) => [...r.children].map((c) => c.textContent))).toEqual([
      ["users.list", "12", "410 ms", "480 ms", "1.0%", "4.0%"],
      ["streams.status", "300", "1.2 ms", "6 ms", "60.0%", "25.0%"],
    ]);
    expect(screen.getByTestId("latency-selected").textContent).toBe("users.list");
    expect(screen.getByTestId("latency-share").textContent).toBe(
      "Redis 1.0% · Database 4.0% · Other 95.0%",
    );
  });
  it("shows another procedure's share when picked", () => {
    render(<LatencyPanel procedures={procedures} withSeconds={false} />);
    fireEvent.change(screen.getByLabelText("Procedure"), { target: { value: "streams.status" } });
    expect(screen.getByTestId("latency-selected").textContent).toBe("streams.status");
    expect(screen.getByTestId("latency-share").textContent).toBe(
      "Redis 60.0% · Database 25.0% · Other 15.0%",
    );
  });
  it("has loading and empty states", () => {
    const { rerender } = render(<LatencyPanel procedures={undefined} withSeconds={false} />);
    expect(screen.getByRole("status").textContent).toBe("Loading…");
    rerender(<LatencyPanel procedures={[]} withSeconds={false} />);
    expect(screen.getByText("No calls timed in this range yet.")).toBeTruthy();
  });
});
