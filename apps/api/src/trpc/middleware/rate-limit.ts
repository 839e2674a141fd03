import { middleware } from "../init.ts";

/**
 * Counts the call against the policy of `bucket`, and with `{ plan: true }` also against the
 * logged-in user's plan quota (`plan:free`, `plan:pro` of @hotpath/config PLANS), (route bucket such as `tips:quick` mapped to a
 * tier, or a named limiter such as `AUTH`) for the caller's identity: ONE Redis round trip.
 * The rate-limit headers are set on every response; over the limit the call fails with
 * TOO_MANY_REQUESTS and `retryAfter`, `limit`, `remaining` in `error.data`.
 */
export function rateLimited(bucket: string, options: { plan?: boolean } = {}) {
  return middleware(async ({ ctx, next }) => {
    const identity = await ctx.identity();
    const principal = options.plan ? await ctx.principal() : undefined;
    const plan = principal?.kind === "user" ? principal.session.plan : undefined;
    const decision = await ctx.deps.rateLimiter.limit(bucket, identity, ctx.waitUntil, plan);
    for (const [name, value] of Object.entries(decision.headers)) ctx.resHeaders.set(name, value);
    if (decision.error) throw decision.error;
    return next();
  });
}
