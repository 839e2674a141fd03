import { describe, expect, it } from "vitest";
import { decodeClusterCursor, encodeClusterCursor, scanCursorIndex } from "../src/cluster-scan.ts";
import { SCAN_WITH_TYPE_SCRIPT } from "../src/scan-with-type.ts";

const TWO_64 = 2n ** 64n;

describe("the composite SCAN cursor of a cluster", () => {
  it('walks the masters in turn and answers "0" only after the last one', () => {
    expect(decodeClusterCursor("0", 3)).toEqual({ master: 0, node: "0" });
    expect(encodeClusterCursor(0, "12", 3)).toBe("12");
    expect(encodeClusterCursor(0, "0", 3)).toBe(TWO_64.toString());
    expect(decodeClusterCursor(TWO_64.toString(), 3)).toEqual({ master: 1, node: "0" });
    expect(encodeClusterCursor(2, "0", 3)).toBe("0");
    expect(encodeClusterCursor(0, "0", 1)).toBe("0");
  });

  it("keeps node cursors above 2^53 exact", () => {
    const node = (TWO_64 - 1n).toString();
    const composite = encodeClusterCursor(2, node, 3);
    expect(composite).toBe((2n * TWO_64 + TWO_64 - 1n).toString());
    expect(decodeClusterCursor(composite, 3)).toEqual({ master: 2, node });
    expect(decodeClusterCursor(`000${composite}`, 3)).toEqual({ master: 2, node });
  });

  it("refuses a cursor that does not decode with Redis's invalid-cursor error", () => {
    for (const bogus of [
      "",
      "abc",
      "-1",
      "1.5",
      " 1",
      "1e3",
      (3n * TWO_64).toString(),
      "9".repeat(41),
    ]) {
      expect(() => decodeClusterCursor(bogus, 3), bogus).toThrow(/^ERR invalid cursor$/);
    }
    expect(() => encodeClusterCursor(0, "x", 3)).toThrow(/invalid cursor: x/);
    expect(() => encodeClusterCursor(0, TWO_64.toString(), 3)).toThrow(/invalid cursor/);
  });

  it("finds the cursor of SCAN and of the WITHTYPE emulation only", () => {
    expect(scanCursorIndex(["SCAN", "0", "MATCH", "a*"])).toBe(1);
    expect(scanCursorIndex(["scan"])).toBeUndefined();
    expect(scanCursorIndex(["eval", SCAN_WITH_TYPE_SCRIPT, "0", "5", "match", "a*"])).toBe(3);
    expect(scanCursorIndex(["EVAL", "return 1", "0", "5"])).toBeUndefined();
    expect(scanCursorIndex(["eval", SCAN_WITH_TYPE_SCRIPT, "1", "k", "5"])).toBeUndefined();
    expect(scanCursorIndex(["hscan", "k", "0"])).toBeUndefined();
  });
});
