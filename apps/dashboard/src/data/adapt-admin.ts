/** Turns the API's `admin.*` outputs into the admin view model (src/admin-model.ts). */
import type { AdminControlsView, AuditRow, QuotaRow } from "../admin-model.ts";
import type { ApiOutputs } from "./api-types.ts";

type Controls = ApiOutputs["admin"]["controls"];
type Quota = ApiOutputs["admin"]["quota"];
type Audit = ApiOutputs["admin"]["audit"];

/** The deny list, the overrides (sorted by identifier) and the policy names. */
export function adminControls(data: Controls): AdminControlsView {
  return {
    denied: data.denied.map((entry) => ({ kind: entry.kind, value: entry.value })),
    overrides: data.overrides.map((o) => ({
      identifier: o.identifier,
      multiplier: o.multiplier,
      limits: o.limits,
    })),
    policies: [...data.policies],
  };
}

/** Quota rows sorted by policy name. */
export function quotaRows(data: Quota): QuotaRow[] {
  return data.policies
    .map((p) => ({ policy: p.policy, limit: p.limit, remaining: p.remaining, reset: p.reset }))
    .sort((a, b) => a.policy.localeCompare(b.policy));
}

/** Audit rows, newest first as the API pages them, with times as epoch ms. */
export function auditRows(data: Audit): AuditRow[] {
  return data.entries.map((e) => ({
    id: e.id,
    at: Date.parse(e.at),
    actor: e.actor,
    action: e.action,
    target: e.target,
    outcome: e.outcome,
    error: e.error,
    durationMs: e.durationMs,
  }));
}
