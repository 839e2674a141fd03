/**
 * What each admin action says to people: the question asked before it runs and the line shown
 * after it ran. Pure, so the wording is tested without a browser.
 */
import type { AdminAction, DenyTarget, OverrideView } from "../admin-model.ts";
import { formatCount } from "../format.ts";

/** A deny-list target for people: `user_ab12…` or `IP 203.0.113.7`. */
export function denyTargetLabel(target: DenyTarget): string {
  return target.kind === "ip" ? `IP ${target.value}` : target.value;
}

/** An override for people: `× 10`, `tips:quick = 50`, or both. */
export function overrideLabel(override: Pick<OverrideView, "multiplier" | "limits">): string {
  const parts: string[] = [];
  if (override.multiplier !== undefined) parts.push(`× ${override.multiplier}`);
  for (const [policy, limit] of Object.entries(override.limits ?? {})) {
    parts.push(`${policy} = ${formatCount(limit)}`);
  }
  return parts.join(", ") || "no change";
}

/** The confirmation question of an action (what will happen, to what). */
export function confirmQuestion(action: AdminAction): string {
  switch (action.kind) {
    case "reset":
      return `Reset the rate-limit counters of ${action.identifier} in every policy?`;
    case "deny":
      return `Deny ${denyTargetLabel(action.target)} on every policy? Its requests get 429 until it is removed.`;
    case "allow":
      return `Take ${denyTargetLabel(action.target)} off the deny list?`;
    case "override":
      return `Set the override of ${action.override.identifier} to ${overrideLabel(action.override)}?`;
    case "removeOverride":
      return `Remove the override of ${action.identifier}?`;
    case "invalidateNamespace":
      return `Delete every entry of cache namespace ${action.namespace}?`;
    case "invalidateTag":
      return `Delete the entries of cache namespace ${action.namespace} tagged ${action.tag}?`;
  }
}

/** The line shown once the API has done it (`removed`: entries a cache invalidation deleted). */
export function doneMessage(action: AdminAction, removed?: number): string {
  switch (action.kind) {
    case "reset":
      return `Reset ${action.identifier}: its next request starts a fresh window.`;
    case "deny":
      return `Denied ${denyTargetLabel(action.target)}.`;
    case "allow":
      return `Took ${denyTargetLabel(action.target)} off the deny list.`;
    case "override":
      return `Override of ${action.override.identifier} set to ${overrideLabel(action.override)}.`;
    case "removeOverride":
      return `Removed the override of ${action.identifier}.`;
    case "invalidateNamespace":
      return `Removed ${formatCount(removed ?? 0)} entries of cache namespace ${action.namespace}.`;
    case "invalidateTag":
      return `Removed ${formatCount(removed ?? 0)} entries of cache namespace ${action.namespace} tagged ${action.tag}.`;
  }
}
