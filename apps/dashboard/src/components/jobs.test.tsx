import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DlqEntry, JobsModel } from "../model.ts";
import { windowEndingAt } from "../shaping/time-buckets.ts";
import { DlqTable } from "./DlqTable.tsx";
import { JobsPanel } from "./JobsPanel.tsx";

afterEach(cleanup);

const MIN = 60_000;
const NOW = Date.UTC(2026, 0, 1, 10, 0, 0);
const window15 = windowEndingAt(NOW, 15 * MIN, MIN);

const model: JobsModel = {
  points: [
    { t: NOW - MIN, job: "apply-tip", published: 4, delivered: 3, retried: 1, failed: 1 },
    { t: NOW - MIN, job: "outbox-relay", published: 0, delivered: 2, retried: 0, failed: 0 },
  ],
  qstash: true,
  qstashError: null,
  schedules: [
    {
      scheduleId: "hotpath-outbox-relay",
      job: "outbox-relay",
      cron: "* * * * *",
      paused: false,
      lastRunAt: NOW - MIN,
      nextRunAt: NOW,
      lastState: "SUCCESS",
    },
    {
      scheduleId: "hotpath-reconcile-leaderboards",
      job: "reconcile-leaderboards",
      cron: "0 3 * * *",
      paused: true,
      lastRunAt: null,
      nextRunAt: null,
      lastState: "FAIL",
    },
  ],
  dlq: { size: 1, more: false },
  outbox: { pending: 2, oldestAgeSeconds: 90, fanoutPending: 3 },
};

const entry: DlqEntry = {
  dlqId: "dlq_1",
  messageId: "msg_1",
  job: "apply-tip",
  createdAt: NOW,
  responseStatus: 503,
  responseBody: "unavailable",
  payload: '{"job":"apply-tip","payload":{"tipId":7}}',
};

function panel(props: Partial<Parameters<typeof JobsPanel>[0]> = {}) {
  return (
    <JobsPanel
      model={model}
      dlq={[entry]}
      dlqTruncated={false}
      window={window15}
      withSeconds={false}
      onDlqAction={() => Promise.resolve()}
      {...props}
    />
  );
}

const renderPanel = (props: Partial<Parameters<typeof JobsPanel>[0]> = {}) => render(panel(props));

describe("JobsPanel", () => {
  it("shows the totals, DLQ size, outbox pending, schedules with their last state, and the DLQ", () => {
    renderPanel();
    expect(screen.getByTestId("jobs-published-value").textContent).toBe("4");
    expect(screen.getByTestId("jobs-delivered-value").textContent).toBe("5");
    expect(screen.getByTestId("jobs-retried-value").textContent).toBe("1");
    expect(screen.getByTestId("jobs-failed-value").textContent).toBe("1");
    expect(screen.getByTestId("jobs-dlq-value").textContent).toBe("1");
    expect(screen.getByTestId("jobs-outbox-value").textContent).toBe("2");
    expect(screen.getByTestId("jobs-outbox").textContent).toContain("oldest 1 minute ago");
    // Beside it, the tips whose followers are not notified yet.
    const fanout = screen.getByTestId("jobs-fanout");
    expect(fanout.previousElementSibling).toBe(screen.getByTestId("jobs-outbox"));
    expect(fanout.querySelector("dt")?.textContent).toBe("Fan-out pending");
    expect(screen.getByTestId("jobs-fanout-value").textContent).toBe("3");
    expect(fanout.textContent).toContain("followers not notified yet");
    const schedules = within(screen.getByTestId("job-schedules")).getAllByRole("row").slice(1);
    // The failed one first.
    expect(schedules.map((r) => r.getAttribute("data-schedule"))).toEqual([
      "hotpath-reconcile-leaderboards",
      "hotpath-outbox-relay",
    ]);
    expect(schedules[0]?.textContent).toContain("Paused");
    expect(screen.getByTestId("schedule-state-hotpath-reconcile-leaderboards").textContent).toBe(
      "Failed",
    );
    expect(screen.getByTestId("schedule-state-hotpath-outbox-relay").textContent).toBe("Succeeded");
    const dlqRow = screen.getByTestId("dlq-table").querySelector('tr[data-dlq-id="dlq_1"]');
    expect(dlqRow?.textContent).toContain("msg_1");
    expect(dlqRow?.textContent).toContain("503");
  });
  it("narrows the totals to one job", () => {
    renderPanel();
    fireEvent.change(screen.getByLabelText("Job"), { target: { value: "outbox-relay" } });
    expect(screen.getByTestId("jobs-published-value").textContent).toBe("0");
    expect(screen.getByTestId("jobs-delivered-value").textContent).toBe("2");
  });
  it("says when QStash is not configured or did not answer, and loads first", () => {
    const { rerender } = renderPanel({ model: undefined });
    expect(screen.getByRole("status").textContent).toBe("Loading…");
    rerender(panel({ model: { ...model, qstash: false, schedules: null, dlq: null }, dlq: [] }));
    expect(screen.getByTestId("jobs-note").textContent).toContain("QStash is not configured");
    expect(screen.queryByTestId("dlq-table")).toBeNull();
    expect(screen.getByTestId("jobs-dlq-value").textContent).toBe("–");
    rerender(
      panel({ model: { ...model, qstashError: "QStash unavailable", schedules: null, dlq: null } }),
    );
    expect(screen.getByTestId("jobs-note").textContent).toContain("QStash unavailable");
    expect(screen.getByTestId("job-schedules").textContent).toContain("Unknown");
  });
});

describe("DlqTable", () => {
  it("runs Retry and Delete only once confirmed, with the app's one confirm pattern", async () => {
    const onAction = vi.fn(() => Promise.resolve());
    render(<DlqTable entries={[entry]} truncated={false} onAction={onAction} />);
    const row = () => within(screen.getByTestId("dlq-table").querySelector("tbody") as HTMLElement);
    fireEvent.click(screen.getByRole("button", { name: "Retry apply-tip msg_1" }));
    expect(onAction).not.toHaveBeenCalled();
    // The ConfirmButton dialog: named by its question, Confirm focused, Cancel and Escape back out.
    const retryDialog = screen.getByRole("alertdialog", {
      name: "Send apply-tip msg_1 back to delivery?",
    });
    expect(document.activeElement).toBe(
      within(retryDialog).getByRole("button", { name: "Confirm" }),
    );
    fireEvent.click(within(retryDialog).getByRole("button", { name: "Cancel" }));
    expect(onAction).not.toHaveBeenCalled();
    fireEvent.click(screen.getByRole("button", { name: "Delete apply-tip msg_1" }));
    fireEvent.keyDown(screen.getByRole("alertdialog"), { key: "Escape" });
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(onAction).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole("button", { name: "Delete apply-tip msg_1" }));
    const deleteDialog = screen.getByRole("alertdialog", {
      name: "Delete apply-tip msg_1 from the dead-letter queue for good?",
    });
    fireEvent.click(within(deleteDialog).getByRole("button", { name: "Confirm" }));
    expect(onAction).toHaveBeenCalledWith("delete", "dlq_1");
    // Both buttons wait while the action runs.
    expect(row().getByRole("status").textContent).toBe("Deleting…");
    expect(
      row().getByRole<HTMLButtonElement>("button", { name: "Retry apply-tip msg_1" }).disabled,
    ).toBe(true);

    await waitFor(() => expect(row().queryByRole("status")).toBeNull());
    fireEvent.click(screen.getByRole("button", { name: "Retry apply-tip msg_1" }));
    fireEvent.click(row().getByRole("button", { name: "Confirm" }));
    expect(onAction).toHaveBeenLastCalledWith("retry", "dlq_1");
    expect(onAction).toHaveBeenCalledTimes(2);
  });
  it("shows why an action failed and offers the buttons again", async () => {
    const onAction = vi.fn(() => Promise.reject(new Error("DLQ message dlq_1 not found")));
    render(<DlqTable entries={[entry]} truncated={false} onAction={onAction} />);
    fireEvent.click(screen.getByRole("button", { name: "Retry apply-tip msg_1" }));
    fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
    expect((await screen.findByRole("alert")).textContent).toBe("DLQ message dlq_1 not found");
    expect(
      screen.getByRole<HTMLButtonElement>("button", { name: "Retry apply-tip msg_1" }).disabled,
    ).toBe(false);
  });
  it("says when it is empty or shows only the first page", () => {
    const { rerender } = render(<DlqTable entries={[]} truncated={false} onAction={vi.fn()} />);
    expect(screen.getByTestId("dlq-table").textContent).toContain("Empty");
    rerender(<DlqTable entries={[entry]} truncated onAction={vi.fn()} />);
    expect(screen.getByTestId("dlq-table").querySelector("caption")?.textContent).toBe(
      "Dead-letter queue (first 1 messages)",
    );
  });
});
