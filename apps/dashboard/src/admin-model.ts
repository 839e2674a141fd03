/**
 * View model of the admin views (actions, controls in force, quota, audit trail). Components render
 * only these types; src/data/adapt-admin.ts turns the API's `admin.*` outputs into them.
 */

/** A deny-list target: a rate-limit identifier or a client IP. */
export type DenyTarget = { kind: "identifier"; value: string } | { kind: "ip"; value: string };

/** An identifier's override: a multiplier of every limit and/or exact limits by policy. */
export interface OverrideView {
  identifier: string;
  multiplier?: number | undefined;
  limits?: Record<string, number> | undefined;
}

/** The rate-limit controls in force and the policy names an override may name. */
export interface AdminControlsView {
  denied: DenyTarget[];
  overrides: OverrideView[];
  policies: string[];
}

/** One policy's quota left for an identifier. */
export interface QuotaRow {
  policy: string;
  limit: number;
  remaining: number;
  /** ms epoch of the window's reset. */
  reset: number;
}

/** One row of the admin audit trail (newest first on the page). */
export interface AuditRow {
  id: number;
  /** ms epoch. */
  at: number;
  actor: string;
  /** The procedure path, e.g. `admin.denyList.add`. */
  action: string;
  target: string | null;
  outcome: "pending" | "ok" | "error";
  error: string | null;
  durationMs: number | null;
}

/** Where the audit trail view is, and how to move through its pages. */
export interface AuditPaging {
  /** 1 for the newest rows. */
  page: number;
  /** The API has rows older than this page (it gave a `nextBefore`). */
  hasOlder: boolean;
  /** True while the page asked for is read (the previous one stays shown). */
  loading: boolean;
  onOlder: () => void;
  onNewer: () => void;
}

/** An action the admin panel can run; each one is confirmed first and audited by the API. */
export type AdminAction =
  | { kind: "reset"; identifier: string }
  | { kind: "deny"; target: DenyTarget }
  | { kind: "allow"; target: DenyTarget }
  | { kind: "override"; override: OverrideView }
  | { kind: "removeOverride"; identifier: string }
  | { kind: "invalidateNamespace"; namespace: string }
  | { kind: "invalidateTag"; namespace: string; tag: string };
