import type { SessionStore as CacheSessionStore } from "@hotpath/cache";
import { z } from "zod";
import type { SessionData, SessionStore } from "../trpc/deps.ts";

/** Schema of a session read back from Redis (invalid = no session). */
export const sessionDataSchema = z.object({
  userId: z.number().int(),
  username: z.string(),
  plan: z.enum(["free", "pro"]),
  createdAt: z.number(),
});

/** Options of {@link createApiSessions}. */
export interface ApiSessionsOptions {
  /** The @hotpath/cache session store (hash per session, sliding expiry on every read). */
  store: CacheSessionStore<SessionData>;
  /** Its sliding lifetime in seconds (for `expiresAt`). */
  ttlSeconds: number;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

/** Adapts @hotpath/cache's `createSessionStore` to the router's {@link SessionStore}. */
export function createApiSessions(options: ApiSessionsOptions): SessionStore {
  const now = options.now ?? Date.now;
  const expiry = () => now() + options.ttlSeconds * 1000;
  return {
    async create(data) {
      const id = await options.store.createSession(data);
      return { id, expiresAt: expiry() };
    },
    async get(id) {
      const data = await options.store.getSession(id);
      return data
        ? {
            data: {
              userId: data.userId,
              username: data.username,
              plan: data.plan,
              createdAt: data.createdAt,
            },
            expiresAt: expiry(),
          }
        : null;
    },
    async destroy(id) {
      await options.store.destroySession(id);
    },
  };
}
