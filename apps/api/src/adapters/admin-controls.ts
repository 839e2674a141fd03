import type { RateLimiter } from "@hotpath/ratelimit";
import type { AdminControls } from "../trpc/admin-deps.ts";
import type { createApiCache } from "./cache.ts";

/** Options of {@link createAdminControls}. */
export interface AdminControlsOptions {
  limiter: RateLimiter;
  cache: Pick<ReturnType<typeof createApiCache>, "invalidateNamespace" | "invalidateTag">;
}

/**
 * The admin powers of @hotpath/ratelimit (reset, deny list, overrides, remaining quota) and
 * @hotpath/cache (namespace and tag invalidation). Errors propagate, so the audit trail records them.
 */
export function createAdminControls({ limiter, cache }: AdminControlsOptions): AdminControls {
  return {
    resetIdentifier: (identifier) => limiter.reset(identifier),
    quota: async (identifier) =>
      (await limiter.getRemaining(identifier)).sort((a, b) => a.policy.localeCompare(b.policy)),
    deny: (entry) => limiter.denyList.add(entry),
    allow: (entry) => limiter.denyList.remove(entry),
    setOverride: (identifier, override) =>
      limiter.overrides.set(identifier, {
        ...(override.multiplier !== undefined ? { multiplier: override.multiplier } : {}),
        ...(override.limits !== undefined ? { limits: override.limits } : {}),
      }),
    removeOverride: (identifier) => limiter.overrides.remove(identifier),
    policies: () => [...limiter.registry.policies.keys()].sort(),
    async controls() {
      const [denied, overrides] = await Promise.all([
        limiter.denyList.list(),
        limiter.overrides.list(),
      ]);
      return {
        denied: denied.map((member) =>
          member.startsWith("ip:")
            ? { kind: "ip" as const, value: member.slice(3) }
            : { kind: "identifier" as const, value: member.replace(/^id:/, "") },
        ),
        overrides: Object.entries(overrides)
          .map(([identifier, override]) => ({ identifier, ...override }))
          .sort((a, b) => a.identifier.localeCompare(b.identifier)),
      };
    },
    invalidateNamespace: (namespace) => cache.invalidateNamespace(namespace),
    invalidateTag: (namespace, tag) => cache.invalidateTag(namespace, tag),
  };
}
