import { describe, expect, it } from "vitest";
import { confirmQuestion, doneMessage, overrideLabel } from "./admin-actions.ts";
import { adminControls, auditRows } from "./adapt-admin.ts";

describe("admin action wording", () => {
  it("names what will happen and to what", () => {
    expect(confirmQuestion({ kind: "deny", target: { kind: "ip", value: "203.0.113.7" } })).toBe(
      "Deny IP 203.0.113.7 on every policy? Its requests get 429 until it is removed.",
    );
    expect(confirmQuestion({ kind: "invalidateNamespace", namespace: "user" })).toBe(
      "Delete every entry of cache namespace user?",
    );
    expect(doneMessage({ kind: "invalidateNamespace", namespace: "user" }, 1234)).toBe(
      "Removed 1,234 entries of cache namespace user.",
    );
  });
  it("describes overrides by multiplier and exact limits", () => {
    expect(overrideLabel({ multiplier: 2.5, limits: { "tips:quick": 1000 } })).toBe(
      "× 2.5, tips:quick = 1,000",
    );
    expect(overrideLabel({})).toBe("no change");
  });
});

describe("admin adapters", () => {
  it("keeps the controls and turns audit times into epoch ms", () => {
    expect(
      adminControls({
        denied: [{ kind: "identifier", value: "user_1" }],
        overrides: [{ identifier: "user_1", limits: { a: 1 } }],
        policies: ["a"],
      }),
    ).toEqual({
      denied: [{ kind: "identifier", value: "user_1" }],
      overrides: [{ identifier: "user_1", multiplier: undefined, limits: { a: 1 } }],
      policies: ["a"],
    });
    const [row] = auditRows({
      entries: [
        {
          id: 7,
          at: "2026-01-01T10:00:00.000Z",
          actor: "admin",
          action: "admin.resetIdentifier",
          target: "user_1",
          params: { identifier: "user_1" },
          outcome: "ok",
          error: null,
          requestId: "r1",
          durationMs: 2,
        },
      ],
      nextBefore: null,
    });
    expect(row?.at).toBe(Date.UTC(2026, 0, 1, 10));
  });
});
