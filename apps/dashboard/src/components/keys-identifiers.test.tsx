import { cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { afterEach, describe, expect, it } from "vitest";
import type { KeyUsage } from "../model.ts";
import { IdentifierTable } from "./IdentifierTable.tsx";
import { KeysPanel } from "./KeysPanel.tsx";

afterEach(cleanup);

function memoryCells(): Record<string, string> {
  const rows = within(screen.getByTestId("keys-table")).getAllByRole("row").slice(1);
  return Object.fromEntries(
    rows.map((row) => [
      row.getAttribute("data-area") ?? "",
      row.querySelector('[data-testid^="memory-"]')?.textContent ?? "",
    ]),
  );
}

describe("KeysPanel", () => {
  it("shows the measured memory per area, largest first, with how it was measured", () => {
    const keys: KeyUsage = {
      sampled: false,
      memory: { available: true, keysPerArea: 32 },
      areas: [
        { area: "rl", keys: 10, bytes: 900, measuredKeys: 10 },
        { area: "cache", keys: 64, bytes: 3 * 1024 * 1024, measuredKeys: 32 },
        // Measured, but its keys expired between SCAN and MEMORY USAGE.
        { area: "lock", keys: 2, bytes: null, measuredKeys: 0 },
      ],
    };
    render(<KeysPanel keys={keys} />);
    const rows = within(screen.getByTestId("keys-table")).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.getAttribute("data-area"))).toEqual(["cache", "rl", "lock"]);
    expect(memoryCells()).toEqual({ cache: "3 MB", rl: "900 byte", lock: "not available" });
    expect(rows[0]?.textContent).toContain("32");
    expect(screen.getByTestId("keys-caption").textContent).toBe(
      "Keys counted with SCAN; memory measured with MEMORY USAGE on up to 32 keys per area, scaled to the area's keys",
    );
    // No 120-byte-per-key estimate anywhere: 10 keys are 900 bytes because the API said so.
    expect(screen.queryByText("1,200 byte")).toBeNull();
  });

  it('says "not available" with the API\'s reason where memory could not be measured', () => {
    const keys: KeyUsage = {
      sampled: true,
      memory: { available: false, reason: "MEMORY USAGE refused: ERR command not allowed" },
      areas: [
        { area: "cache", keys: 40, bytes: null, measuredKeys: 0 },
        { area: "rl", keys: 5, bytes: null, measuredKeys: 0 },
      ],
    };
    render(<KeysPanel keys={keys} />);
    expect(memoryCells()).toEqual({ cache: "not available", rl: "not available" });
    expect(screen.getByTestId("keys-caption").textContent).toBe(
      "Keys from a bounded SCAN sample; memory not available: MEMORY USAGE refused: ERR command not allowed",
    );
    // No share bar pretends to know a proportion.
    expect(screen.getByTestId("keys-table").querySelector(".share-bar")).toBeNull();
  });

  it("is loading until the key distribution answers", () => {
    render(<KeysPanel keys={undefined} />);
    expect(screen.getByRole("status").textContent).toBe("Loading…");
  });
});

describe("IdentifierTable", () => {
  it("shows the user or admin token behind each hashed identifier, unknown otherwise", () => {
    const picked: string[] = [];
    render(
      <IdentifierTable
        id="top-blocked"
        caption="Top blocked identifiers"
        countLabel="Blocked"
        onSelect={(identifier) => picked.push(identifier)}
        rows={[
          {
            identifier: "user_ab12",
            count: 9,
            owner: { kind: "user", userId: 4, username: "dave" },
          },
          { identifier: "key_cd34", count: 3, owner: { kind: "admin" } },
          { identifier: "ip_ef56", count: 1, owner: null },
        ]}
      />,
    );
    const rows = within(screen.getByTestId("top-blocked")).getAllByRole("row").slice(1);
    expect(rows.map((r) => [...r.children].slice(0, 3).map((c) => c.textContent))).toEqual([
      ["user_ab12", "dave (user 4)", "9"],
      ["key_cd34", "admin token", "3"],
      ["ip_ef56", "unknown", "1"],
    ]);
    fireEvent.click(screen.getByRole("button", { name: "Act on user_ab12 (dave (user 4))" }));
    expect(picked).toEqual(["user_ab12"]);
  });
});
