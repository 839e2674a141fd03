import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { useState } from "react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdminAction, AdminControlsView, AuditPaging, AuditRow } from "../admin-model.ts";
import {
  auditPageNumber,
  NEWEST_AUDIT_PAGE,
  newerAuditPage,
  olderAuditPage,
  type AuditPage,
} from "../data/audit-paging.ts";
import { AdminPanel } from "./AdminPanel.tsx";
import { AuditPanel } from "./AuditPanel.tsx";
import { ConfirmButton } from "./ConfirmButton.tsx";

afterEach(cleanup);

const controls: AdminControlsView = {
  denied: [{ kind: "ip", value: "203.0.113.7" }],
  overrides: [{ identifier: "user_aa", multiplier: 10 }],
  policies: ["streams:status", "tips:quick"],
};

/** The panel with a recording `run` that answers `answer` (a line, or an Error to reject with). */
function Harness({ answer }: { answer: string | Error }) {
  const [identifier, setIdentifier] = useState("");
  const [ran, setRan] = useState<AdminAction[]>([]);
  return (
    <>
      <output data-testid="ran">{JSON.stringify(ran)}</output>
      <AdminPanel
        identifier={identifier}
        onIdentifierChange={setIdentifier}
        onLookup={() => undefined}
        quotaFor={null}
        quota={undefined}
        quotaError={null}
        controls={controls}
        run={(action) => {
          setRan((list) => [...list, action]);
          return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
        }}
      />
    </>
  );
}

const ran = (): unknown => JSON.parse(screen.getByTestId("ran").textContent ?? "[]");

describe("ConfirmButton", () => {
  it("runs nothing on the first click, asks, and runs on Confirm only", () => {
    let runs = 0;
    render(
      <ConfirmButton label="Reset limits" question="Reset it?" onConfirm={() => (runs += 1)} />,
    );
    fireEvent.click(screen.getByRole("button", { name: "Reset limits" }));
    expect(runs).toBe(0);
    const dialog = screen.getByRole("alertdialog", { name: "Reset it?" });
    // Focus goes to Confirm so the keyboard user lands on the decision.
    expect(document.activeElement?.textContent).toBe("Confirm");
    fireEvent.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(runs).toBe(0);
    expect(screen.queryByRole("alertdialog")).toBeNull();
    fireEvent.click(screen.getByRole("button", { name: "Reset limits" }));
    fireEvent.keyDown(screen.getByRole("alertdialog"), { key: "Escape" });
    expect(runs).toBe(0);
    fireEvent.click(screen.getByRole("button", { name: "Reset limits" }));
    fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
    expect(runs).toBe(1);
  });
});

describe("AdminPanel", () => {
  it("gives every form control an accessible name", () => {
    const { container } = render(<Harness answer="ok" />);
    const controls = container.querySelectorAll("input, select, textarea");
    expect(controls.length).toBeGreaterThan(0);
    // By role, as assistive technology finds them: each one named (by its label), none left out.
    const roles = ["textbox", "combobox", "spinbutton", "checkbox", "radio", "listbox"] as const;
    const all = roles.flatMap((role) => screen.queryAllByRole(role));
    const named = roles.flatMap((role) => screen.queryAllByRole(role, { name: /\S/ }));
    expect(all.length).toBe(controls.length);
    expect(named).toEqual(all);
    expect(screen.getByRole("combobox", { name: "Policy" }).tagName).toBe("SELECT");
  });
  it("asks before each action and sends what was typed", async () => {
    render(<Harness answer="Reset user_x: its next request starts a fresh window." />);
    const reset = screen.getByRole<HTMLButtonElement>("button", { name: "Reset limits" });
    expect(reset.disabled).toBe(true);
    fireEvent.change(screen.getByLabelText("Identifier"), { target: { value: " user_x " } });
    fireEvent.click(screen.getByRole("button", { name: "Reset limits" }));
    expect(screen.getByRole("alertdialog").textContent).toContain(
      "Reset the rate-limit counters of user_x in every policy?",
    );
    expect(ran()).toEqual([]);
    fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
    expect(ran()).toEqual([{ kind: "reset", identifier: "user_x" }]);
    expect(
      await screen.findByText("Reset user_x: its next request starts a fresh window."),
    ).toBeTruthy();

    // An override with an exact limit for one policy.
    fireEvent.change(screen.getByLabelText("Policy"), { target: { value: "tips:quick" } });
    fireEvent.change(screen.getByLabelText("Limit"), { target: { value: "50" } });
    fireEvent.click(screen.getByRole("button", { name: "Set override" }));
    expect(screen.getByRole("alertdialog").textContent).toContain(
      "Set the override of user_x to tips:quick = 50?",
    );
    fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
    expect(ran()).toContainEqual({
      kind: "override",
      override: { identifier: "user_x", limits: { "tips:quick": 50 } },
    });
  });

  it("invalidates a namespace or a tag, and removes deny-list entries and overrides, each confirmed", async () => {
    render(<Harness answer="ok" />);
    // One action at a time: the buttons are disabled until the previous answer is in.
    const confirmAndSettle = async () => {
      fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
      await waitFor(() => expect(screen.getByTestId("admin-outcome").textContent).toBe("ok"));
    };
    fireEvent.change(screen.getByLabelText("Namespace"), { target: { value: "user" } });
    fireEvent.change(screen.getByLabelText("Tag"), { target: { value: "users:list" } });
    fireEvent.click(screen.getByRole("button", { name: "Invalidate tag" }));
    expect(screen.getByRole("alertdialog").textContent).toContain(
      "Delete the entries of cache namespace user tagged users:list?",
    );
    await confirmAndSettle();
    fireEvent.click(
      screen.getByRole("button", { name: "Remove IP 203.0.113.7 from the deny list" }),
    );
    await confirmAndSettle();
    fireEvent.click(screen.getByRole("button", { name: "Remove the override of user_aa" }));
    await confirmAndSettle();
    expect(ran()).toEqual([
      { kind: "invalidateTag", namespace: "user", tag: "users:list" },
      { kind: "allow", target: { kind: "ip", value: "203.0.113.7" } },
      { kind: "removeOverride", identifier: "user_aa" },
    ]);
    expect(within(screen.getByTestId("overrides")).getByText("× 10")).toBeTruthy();
  });

  it("shows the API's refusal as an alert (a user token gets 403)", async () => {
    render(
      <Harness
        answer={
          new Error(
            "The API rejected the admin token (403: Admin token required). Enter the ADMIN_TOKEN the API was started with.",
          )
        }
      />,
    );
    fireEvent.change(screen.getByLabelText("IP"), { target: { value: "198.51.100.1" } });
    fireEvent.click(screen.getByRole("button", { name: "Deny IP" }));
    fireEvent.click(screen.getByRole("button", { name: "Confirm" }));
    expect((await screen.findByRole("alert")).textContent).toContain("403: Admin token required");
  });
});

const auditRow = (id: number): AuditRow => ({
  id,
  at: Date.UTC(2026, 0, 1, 10, 0, id),
  actor: "admin",
  action: "admin.resetIdentifier",
  target: `user_${id}`,
  outcome: "ok",
  error: null,
  durationMs: 1,
});

const onePage: AuditPaging = {
  page: 1,
  hasOlder: false,
  loading: false,
  onOlder: () => undefined,
  onNewer: () => undefined,
};

/**
 * The panel over `total` rows (ids 1..total) paged as the API pages them (`before`, `nextBefore`
 * when a page is full), moving with the dashboard's paging steps.
 */
function PagedAudit({ total, size }: { total: number; size: number }) {
  const [page, setPage] = useState<AuditPage>(NEWEST_AUDIT_PAGE);
  const top = page.before ?? total + 1;
  const rows = Array.from({ length: Math.min(size, top - 1) }, (_, i) => auditRow(top - 1 - i));
  const last = rows.at(-1);
  const nextBefore = rows.length === size && last ? last.id : null;
  return (
    <AuditPanel
      rows={rows}
      paging={{
        page: auditPageNumber(page),
        hasOlder: nextBefore !== null,
        loading: false,
        onOlder: () => {
          if (nextBefore !== null) setPage(olderAuditPage(page, nextBefore));
        },
        onNewer: () => setPage(newerAuditPage(page)),
      }}
    />
  );
}

const shownIds = () =>
  within(screen.getByTestId("audit-table"))
    .getAllByRole("row")
    .slice(1)
    .map((r) => Number(r.getAttribute("data-audit-id")));

describe("AuditPanel", () => {
  it("lists the audit rows newest first with outcome and error", () => {
    const rows: AuditRow[] = [
      {
        id: 2,
        at: Date.UTC(2026, 0, 1, 10, 0, 5),
        actor: "admin",
        action: "admin.overrides.set",
        target: "user_x",
        outcome: "error",
        error: "limits.nope: unknown policy",
        durationMs: 3,
      },
      {
        id: 1,
        at: Date.UTC(2026, 0, 1, 10, 0, 0),
        actor: "admin",
        action: "admin.resetIdentifier",
        target: "user_x",
        outcome: "ok",
        error: null,
        durationMs: 1.5,
      },
    ];
    render(<AuditPanel rows={rows} paging={onePage} />);
    const body = within(screen.getByTestId("audit-table")).getAllByRole("row").slice(1);
    expect(body.map((r) => r.getAttribute("data-audit-id"))).toEqual(["2", "1"]);
    expect(body[0]?.textContent).toContain("Failed: limits.nope: unknown policy");
    expect(body[1]?.textContent).toContain("admin.resetIdentifier");
    expect(body[1]?.textContent).toContain("Done");
    // One page only: no pager.
    expect(screen.queryByRole("navigation", { name: "Audit trail pages" })).toBeNull();
  });
  it("says so when nothing was recorded yet", () => {
    render(<AuditPanel rows={[]} paging={onePage} />);
    expect(screen.getByText("No admin action recorded yet.")).toBeTruthy();
  });
  it("pages back with Older and forward with Newer, beyond the newest 25 rows", () => {
    render(<PagedAudit total={60} size={25} />);
    const button = (name: string) => screen.getByRole<HTMLButtonElement>("button", { name });
    expect(shownIds()).toHaveLength(25);
    expect(shownIds()[0]).toBe(60);
    expect(button("Newer").disabled).toBe(true);
    fireEvent.click(button("Older"));
    expect(shownIds()).toEqual(Array.from({ length: 25 }, (_, i) => 35 - i));
    expect(screen.getByTestId("audit-page").textContent).toBe("Page 2");
    expect(screen.getByTestId("audit-table").querySelector("caption")?.textContent).toContain(
      "page 2",
    );
    fireEvent.click(button("Older"));
    // The oldest rows: nothing older.
    expect(shownIds()).toEqual(Array.from({ length: 10 }, (_, i) => 10 - i));
    expect(button("Older").disabled).toBe(true);
    fireEvent.click(button("Newer"));
    expect(shownIds()[0]).toBe(35);
    fireEvent.click(button("Newer"));
    expect(shownIds()[0]).toBe(60);
    expect(screen.getByTestId("audit-page").textContent).toBe("Page 1");
  });
  it("waits while a page loads, and says when an older page is empty", () => {
    const onOlder = vi.fn();
    const onNewer = vi.fn();
    const { rerender } = render(
      <AuditPanel
        rows={[auditRow(3)]}
        paging={{ page: 2, hasOlder: true, loading: true, onOlder, onNewer }}
      />,
    );
    const older = screen.getByRole<HTMLButtonElement>("button", { name: "Older" });
    expect(older.disabled).toBe(true);
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Newer" }).disabled).toBe(true);
    rerender(
      <AuditPanel
        rows={[]}
        paging={{ page: 2, hasOlder: false, loading: false, onOlder, onNewer }}
      />,
    );
    expect(screen.getByText("No older admin action.")).toBeTruthy();
    fireEvent.click(screen.getByRole("button", { name: "Newer" }));
    expect(onNewer).toHaveBeenCalledTimes(1);
    expect(onOlder).not.toHaveBeenCalled();
  });
});
