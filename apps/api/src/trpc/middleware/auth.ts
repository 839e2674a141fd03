import { TRPCError } from "@trpc/server";
import { ApiError } from "../errors.ts";
import { middleware } from "../init.ts";

/**
 * Requires a valid session (cookie or bearer): 401 otherwise, 503 + Retry-After when the
 * session store is unreachable (fails closed). Adds `ctx.user`.
 */
export const requireUser = middleware(async ({ ctx, next }) => {
  // Anything behind credentials is private to HTTP caches.
  ctx.cachePolicy.scope = "private";
  ctx.cachePolicy.vary.add("Cookie").add("Authorization");
  const principal = await ctx.principal();
  if (principal.kind === "user") {
    return next({
      ctx: {
        user: {
          id: principal.userId,
          username: principal.username,
          sessionId: principal.sessionId,
        },
      },
    });
  }
  if (principal.kind === "anonymous" && principal.reason === "unavailable") {
    throw new ApiError("SESSIONS_UNAVAILABLE", "Sessions are unavailable right now; retry later.", {
      retryAfter: 1,
    });
  }
  throw new TRPCError({
    code: "UNAUTHORIZED",
    message: "Log in first (session cookie or bearer token).",
  });
});

/** Requires the admin bearer token (`ADMIN_TOKEN`): 401 without credentials, 403 otherwise. */
export const requireAdmin = middleware(async ({ ctx, next }) => {
  ctx.cachePolicy.scope = "private";
  ctx.cachePolicy.vary.add("Authorization");
  const principal = await ctx.principal();
  if (principal.kind === "admin") return next();
  if (ctx.deps.settings.adminToken === undefined) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "Admin endpoints are disabled (ADMIN_TOKEN is not set).",
    });
  }
  throw new TRPCError({
    code:
      principal.kind === "anonymous" && principal.reason === "none" ? "UNAUTHORIZED" : "FORBIDDEN",
    message: "Admin token required (Authorization: Bearer <ADMIN_TOKEN>).",
  });
});
