import { describe, expect, it } from "vitest";
import {
  auditPageNumber,
  NEWEST_AUDIT_PAGE,
  newerAuditPage,
  olderAuditPage,
} from "./audit-paging.ts";

describe("audit paging", () => {
  it("goes back with each page's nextBefore and returns the same way", () => {
    const second = olderAuditPage(NEWEST_AUDIT_PAGE, 75);
    const third = olderAuditPage(second, 50);
    expect(third).toEqual({ before: 50, newer: [75, null] });
    expect(auditPageNumber(third)).toBe(3);
    expect(newerAuditPage(third)).toEqual(second);
    expect(newerAuditPage(second)).toEqual(NEWEST_AUDIT_PAGE);
    // The newest page stays where it is.
    expect(newerAuditPage(NEWEST_AUDIT_PAGE)).toEqual(NEWEST_AUDIT_PAGE);
    expect(auditPageNumber(NEWEST_AUDIT_PAGE)).toBe(1);
  });
});
