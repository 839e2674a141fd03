import { TTL_REALTIME } from "@hotpath/config";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { loadCreatorStatus, startStream, stopStream } from "../../db/streams.ts";
import { ApiError } from "../errors.ts";
import { usernameSchema } from "../inputs.ts";
import {
  authedProcedure,
  cached,
  publicProcedure,
  rateLimited,
  type CachedOptions,
} from "../procedures.ts";

const statusInput = z.object({ username: usernameSchema });
const startInput = z.object({
  title: z.string().trim().min(1, { message: "must not be empty" }).max(120),
});

/** Seconds a stale status may be served while one caller refreshes it. */
export const STATUS_STALE_SECONDS = 30;

/** How `streams.status` is cached: entry `status:<username>` (the warm-up job fills the same). */
export const STATUS_CACHE = {
  namespace: "status",
  ttl: TTL_REALTIME,
  staleWhileRevalidate: STATUS_STALE_SECONDS,
  lock: true,
  negativeTtl: TTL_REALTIME,
  key: (input: unknown) => (input as { username: string }).username,
} satisfies CachedOptions;

/** Streams: the hot `status` query and the creator's start/stop. */
export const streamsRouter = {
  /**
   * A creator's stream status: generous rate limit, 10 s cache with stale-while-revalidate and
   * the distributed lock (one caller loads, the others wait or get the stale value). The
   * per-viewer part (`viewer`) is computed on every call and never cached.
   */
  status: publicProcedure
    .use(rateLimited("streams:status"))
    .input(statusInput)
    .use(cached(STATUS_CACHE))
    .query(async ({ ctx, input }) => {
      const status = await ctx.cached(() => loadCreatorStatus(ctx.deps.db, input.username));
      if (!status) throw new ApiError("NOT_FOUND", `No creator named "${input.username}"`);
      // Per-viewer access check: never cached, evaluated for this caller only.
      const principal = ctx.sessionToken ? await ctx.principal() : ({ kind: "anonymous" } as const);
      const viewerId = principal.kind === "user" ? principal.userId : null;
      // The viewer part depends on the credentials: shared caches must key on them (Vary), and a
      // response for a session is private.
      ctx.cachePolicy.vary.add("Cookie").add("Authorization");
      if (ctx.sessionToken) ctx.cachePolicy.scope = "private";
      return {
        ...status,
        viewer: {
          loggedIn: viewerId !== null,
          isOwner: viewerId === status.creator.id,
          canTip: viewerId !== null && viewerId !== status.creator.id && status.live,
        },
      };
    }),

  /** Starts a live stream for the caller (ends any other), then drops the cached status. */
  start: authedProcedure
    .use(rateLimited("streams:write"))
    .input(startInput)
    .mutation(async ({ ctx, input }) => {
      const stream = await ctx.deps.db.transaction((tx) =>
        startStream(tx, ctx.user.id, input.title),
      );
      await ctx.deps.cache.invalidate("status", [ctx.user.username]);
      return stream;
    }),

  /** Stops the caller's live stream, then drops the cached status. */
  stop: authedProcedure.use(rateLimited("streams:write")).mutation(async ({ ctx }) => {
    const stream = await ctx.deps.db.transaction((tx) => stopStream(tx, ctx.user.id));
    if (!stream) throw new ApiError("NOT_FOUND", "You have no live stream");
    await ctx.deps.cache.invalidate("status", [ctx.user.username]);
    return stream;
  }),
} satisfies TRPCRouterRecord;
