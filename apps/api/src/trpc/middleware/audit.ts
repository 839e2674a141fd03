import { z } from "zod";
import { completeAuditEntry, insertAuditEntry } from "../../db/admin-audit.ts";
import { ApiError, toTRPCError } from "../errors.ts";
import { middleware } from "../init.ts";

/** Longest params JSON kept in a row; longer input is stored cut, marked `truncated`. */
const MAX_PARAMS_CHARS = 4000;

function paramsJson(raw: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(raw ?? {});
  } catch {
    return JSON.stringify({ unserializable: true });
  }
  if (text === undefined) return "{}";
  return text.length > MAX_PARAMS_CHARS
    ? JSON.stringify({ truncated: text.slice(0, MAX_PARAMS_CHARS) })
    : text;
}

/** The message an audit row keeps for a failed call: field errors for bad input, else the error's message. */
function failureMessage(error: unknown): string {
  const mapped = toTRPCError(error);
  if (mapped.cause instanceof z.ZodError) {
    return `${mapped.code}: ${mapped.cause.issues
      .map((issue) => `${issue.path.map(String).join(".") || "input"}: ${issue.message}`)
      .join("; ")}`;
  }
  return `${mapped.code}: ${mapped.message}`;
}

/**
 * Writes one `admin_audit` row per admin mutation: before it runs (`pending`, with the raw input,
 * so calls with invalid input are recorded too), completed with its outcome, target and error
 * after. Fails closed: when the row cannot be written the action does not run (503). The
 * resolver names what it acts on with `ctx.auditTarget(...)`.
 */
export const auditTrail = middleware(async ({ ctx, path, type, getRawInput, next }) => {
  let target: string | null = null;
  const auditTarget = (value: string) => {
    target = value;
  };
  if (type !== "mutation") return next({ ctx: { auditTarget } });
  const raw = await getRawInput().catch(() => undefined);
  let id: number;
  try {
    id = await insertAuditEntry(ctx.deps.db, {
      actor: "admin",
      action: path,
      paramsJson: paramsJson(raw),
      requestId: ctx.requestId,
    });
  } catch (error) {
    throw new ApiError(
      "AUDIT_UNAVAILABLE",
      "The audit trail cannot be written right now, so the action was not run; retry later.",
      { cause: error, retryAfter: 1 },
    );
  }
  const started = performance.now();
  const result = await next({ ctx: { auditTarget } });
  try {
    await completeAuditEntry(ctx.deps.db, id, {
      outcome: result.ok ? "ok" : "error",
      target,
      error: result.ok ? null : failureMessage(result.error),
      durationMs: performance.now() - started,
    });
  } catch (error) {
    // The action ran: its row stays `pending` (an unknown outcome), and the failure is logged.
    ctx.deps.logger.error("admin audit row not completed", {
      requestId: ctx.requestId,
      auditId: id,
      error: String(error),
    });
  }
  return result;
});
