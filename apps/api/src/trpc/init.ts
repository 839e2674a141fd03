import { initTRPC } from "@trpc/server";
import { z } from "zod";
import type { Context } from "./context.ts";
import { ApiError, errorCodeOf, rateLimitDataOf, retryAfterFor } from "./errors.ts";

/** Field errors of invalid input: `{ "amount": ["Too small: expected number to be >0"] }`. */
export interface FlatZodError {
  formErrors: string[];
  fieldErrors: Record<string, string[]>;
}

function flattenZod(error: z.ZodError): FlatZodError {
  const formErrors: string[] = [];
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const field = issue.path.map(String).join(".");
    if (field === "") formErrors.push(issue.message);
    else (fieldErrors[field] ??= []).push(issue.message);
  }
  return { formErrors, fieldErrors };
}

/**
 * What a procedure declares about itself, readable from the router (`_def.procedures[path]._def.meta`):
 * tests iterate it so no admin procedure can be left out of the access and audit checks.
 */
export interface ProcedureMeta {
  /** Needs the admin token (set by `adminProcedure`). */
  admin?: boolean;
  /** Writes one `admin_audit` row per call (set by `auditedAdminProcedure`). */
  audited?: boolean;
}

const t = initTRPC
  .context<Context>()
  .meta<ProcedureMeta>()
  .create({
    // Stacks are added by the formatter below, only in explicit development mode.
    isDev: false,
    errorFormatter({ shape, error, ctx }) {
      const development = ctx?.deps.settings.development ?? false;
      const zodError = error.cause instanceof z.ZodError ? flattenZod(error.cause) : null;
      const rateLimit = rateLimitDataOf(error.cause);
      // 5xx messages of anything but our own ApiError may carry internals (hosts, SQL, driver text).
      const hideMessage =
        !development && shape.data.httpStatus >= 500 && !(error.cause instanceof ApiError);
      const fieldSummary = zodError
        ? Object.entries(zodError.fieldErrors)
            .map(([field, messages]) => `${field}: ${messages.join(", ")}`)
            .concat(zodError.formErrors)
            .join("; ")
        : undefined;
      return {
        ...shape,
        message: hideMessage
          ? error.code === "SERVICE_UNAVAILABLE"
            ? "Service temporarily unavailable; retry later."
            : "Internal server error"
          : zodError
            ? `Invalid input: ${fieldSummary ?? ""}`
            : shape.message,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          requestId: ctx?.requestId ?? null,
          zodError,
          /** Stable code of the package or API error behind it (`CACHE_REDIS_ERROR`…), if any. */
          errorCode: errorCodeOf(error.cause) ?? null,
          retryAfter: rateLimit?.retryAfter ?? retryAfterFor(error) ?? null,
          limit: rateLimit?.limit ?? null,
          remaining: rateLimit?.remaining ?? null,
          ...(development ? { stack: error.stack } : {}),
        },
      };
    },
  });

/** Builds a router from procedures and sub-routers. */
export const router = t.router;
/** Defines a reusable middleware. */
export const middleware = t.middleware;
/** The bare procedure builder (no middleware): the base of every procedure. */
export const baseProcedure = t.procedure;
/** Creates a server-side caller factory (tests, server components). */
export const createCallerFactory = t.createCallerFactory;
