import { TRPCError } from "@trpc/server";
import { adminDenial, metricsDenial, userDenial, type AccessDenial } from "../access.ts";
import type { Context } from "../context.ts";
import { ApiError } from "../errors.ts";
import { middleware } from "../init.ts";

/** Throws the error of a denial, with its `WWW-Authenticate` challenge on the response. */
function deny(ctx: Context, denial: AccessDenial): never {
  if (denial.code === "SERVICE_UNAVAILABLE") {
    throw new ApiError("SESSIONS_UNAVAILABLE", denial.message, { retryAfter: 1 });
  }
  if (denial.wwwAuthenticate) ctx.resHeaders.set("www-authenticate", denial.wwwAuthenticate);
  throw new TRPCError({ code: denial.code, message: denial.message });
}

/**
 * Requires a valid session (cookie or bearer): 401 with `WWW-Authenticate: Bearer` without
 * credentials, 401 `error="invalid_token"` for an unknown token, 403 for the admin token, 503 +
 * Retry-After when the session store is unreachable (fails closed). Adds `ctx.user`.
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
  return deny(ctx, userDenial(principal));
});

/**
 * Requires the admin bearer token (`ADMIN_TOKEN`): 401 without it or with an invalid token
 * (`WWW-Authenticate`), 403 for a valid user session or when admin endpoints are closed.
 */
export const requireAdmin = middleware(async ({ ctx, next }) => {
  ctx.cachePolicy.scope = "private";
  ctx.cachePolicy.vary.add("Authorization");
  const denial = adminDenial(await ctx.principal(), ctx.deps.settings);
  if (denial) deny(ctx, denial);
  return next();
});

/** Requires the admin token for metrics unless they are public (`METRICS_PUBLIC=true`). */
export const requireMetricsAccess = middleware(async ({ ctx, next }) => {
  if (ctx.deps.settings.metricsPublic) return next();
  ctx.cachePolicy.scope = "private";
  ctx.cachePolicy.vary.add("Authorization");
  const denial = metricsDenial(await ctx.principal(), ctx.deps.settings);
  if (denial) deny(ctx, denial);
  return next();
});
