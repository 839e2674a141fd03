import { describe, expect, it } from "vitest";
import { KeyLayout } from "../src/key-layout.ts";

describe("KeyLayout", () => {
  it("keeps the single-Redis layout of earlier versions", () => {
    const layout = new KeyLayout("hotpath-qstash", false);
    expect(layout.tenantKey("abc", "pending")).toBe("hotpath-qstash:t:abc:pending");
    expect(layout.bullPrefix("deliver")).toBe("hotpath-qstash:bull");
    expect(layout.lanesKey).toBe("hotpath-qstash:lanes");
  });

  it("hash-tags each tenant and each lane on a cluster", () => {
    const layout = new KeyLayout("hotpath-qstash", true);
    expect(layout.tenantKey("abc", "pending")).toBe("hotpath-qstash:t:{abc}:pending");
    expect(layout.bullPrefix("q-abc-orders")).toBe("hotpath-qstash:bull:{q-abc-orders}");
    expect(layout.lanesKey).toBe("hotpath-qstash:lanes");
  });

  it("leaves a prefix that holds its own hash tag alone (everything on that one slot)", () => {
    const layout = new KeyLayout("{qs}", true);
    expect(layout.tenantKey("abc", "pending")).toBe("{qs}:t:abc:pending");
    expect(layout.bullPrefix("deliver")).toBe("{qs}:bull");
  });
});
