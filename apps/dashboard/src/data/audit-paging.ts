/**
 * Paging through the audit trail with the API's keyset cursor (`admin.audit`'s `before` /
 * `nextBefore`): where the view is, and the way back to newer pages.
 */

/** A page of the audit trail: `before` = `null` for the newest rows (kept live by polling). */
export interface AuditPage {
  /** The cursor the page was read with (`nextBefore` of the page before it). */
  before: number | null;
  /** The cursors of the newer pages, newest first, to go back with "Newer". */
  newer: readonly (number | null)[];
}

/** The first page: the newest rows. */
export const NEWEST_AUDIT_PAGE: AuditPage = { before: null, newer: [] };

/** The page after `page`, read with the `nextBefore` the API gave for `page`. */
export function olderAuditPage(page: AuditPage, nextBefore: number): AuditPage {
  return { before: nextBefore, newer: [page.before, ...page.newer] };
}

/** The page before `page` (the newest page stays where it is). */
export function newerAuditPage(page: AuditPage): AuditPage {
  const [before, ...newer] = page.newer;
  return before === undefined ? NEWEST_AUDIT_PAGE : { before, newer };
}

/** 1 for the newest page, 2 for the one after it… */
export function auditPageNumber(page: AuditPage): number {
  return page.newer.length + 1;
}
