import { TTL_MEDIUM, TTL_SHORT } from "@hotpath/config";
import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { deleteFollow, insertFollow } from "../../db/follows.ts";
import { listNotifications } from "../../db/notifications.ts";
import { findUserById, listUsers, updateUser } from "../../db/users.ts";
import { ApiError } from "../errors.ts";
import { idSchema } from "../inputs.ts";
import {
  authedProcedure,
  cached,
  publicProcedure,
  rateLimited,
  type CachedOptions,
} from "../procedures.ts";

/** Tag carried by every cached page of `users.list`. */
export const USERS_LIST_TAG = "users:list";

/** How `users.byId` is cached: entry `user:<id>` (the warm-up job fills the same). */
export const USER_CACHE = {
  namespace: "user",
  ttl: TTL_MEDIUM,
  lock: true,
  negativeTtl: 30,
  key: (input: unknown) => String((input as { id: number }).id),
} satisfies CachedOptions;

const byIdInput = z.object({ id: idSchema });
const listInput = z.object({
  page: z.number().int().min(1).max(10_000).default(1),
  pageSize: z.number().int().min(1).max(100).default(20),
});
// The plan is not self-service (it sets the caller's quotas): only the display name is editable here.
const updateInput = z.object({
  displayName: z.string().trim().min(1, { message: "must not be empty" }).max(64),
});

const followInput = z.object({ creatorId: idSchema });
const notificationsInput = z.object({ n: z.number().int().min(1).max(100).default(20) });

/**
 * Users: read-through cached reads, transactional update with invalidation, follows and the
 * notification feed they fill.
 */
export const usersRouter = {
  /** One user by id: cache-aside with stampede protection; unknown ids are cached negatively. */
  byId: publicProcedure
    .use(rateLimited("users:read"))
    .input(byIdInput)
    .use(cached(USER_CACHE))
    .query(async ({ ctx, input }) => {
      const user = await ctx.cached(() => findUserById(ctx.deps.db, input.id));
      if (!user) throw new ApiError("NOT_FOUND", `User ${input.id} does not exist`);
      return user;
    }),

  /** One page of users, cached per page (tagged, so any user update drops every page). */
  list: publicProcedure
    .use(rateLimited("users:read"))
    .input(listInput)
    .use(cached({ namespace: "userlist", ttl: TTL_SHORT, lock: true }))
    .query(async ({ ctx, input }) => {
      const page = await ctx.cached(
        () =>
          listUsers(ctx.deps.db, {
            offset: (input.page - 1) * input.pageSize,
            limit: input.pageSize,
          }),
        { tags: [USERS_LIST_TAG] },
      );
      return { ...page, page: input.page, pageSize: input.pageSize };
    }),

  /** Updates the caller's own profile: DB transaction, then invalidation of user:<id> and the lists. */
  update: authedProcedure
    .use(rateLimited("users:update"))
    .input(updateInput)
    .mutation(async ({ ctx, input }) => {
      const user = await ctx.deps.db.transaction((tx) => updateUser(tx, ctx.user.id, input));
      if (!user) throw new ApiError("NOT_FOUND", `User ${ctx.user.id} does not exist`);
      await Promise.all([
        ctx.deps.cache.invalidate("user", [String(user.id)]),
        ctx.deps.cache.invalidate("status", [user.username]),
        ctx.deps.cache.invalidateTags("userlist", [USERS_LIST_TAG]),
      ]);
      return user;
    }),

  /** Follows a user: their tips received land in the caller's notifications. Idempotent. */
  follow: authedProcedure
    .use(rateLimited("users:follow"))
    .input(followInput)
    .mutation(async ({ ctx, input }) => {
      if (input.creatorId === ctx.user.id)
        throw new ApiError("FORBIDDEN", "You cannot follow yourself");
      if (!(await findUserById(ctx.deps.db, input.creatorId)))
        throw new ApiError("NOT_FOUND", `User ${input.creatorId} does not exist`);
      const created = await insertFollow(ctx.deps.db, ctx.user.id, input.creatorId);
      return { creatorId: input.creatorId, following: true, changed: created };
    }),

  /** Stops following a user. Idempotent: unfollowing someone not followed changes nothing. */
  unfollow: authedProcedure
    .use(rateLimited("users:follow"))
    .input(followInput)
    .mutation(async ({ ctx, input }) => {
      const removed = await deleteFollow(ctx.deps.db, ctx.user.id, input.creatorId);
      return { creatorId: input.creatorId, following: false, changed: removed };
    }),

  /** The caller's newest notifications (tips to creators they follow), newest first. */
  notifications: authedProcedure
    .use(rateLimited("users:read"))
    .input(notificationsInput)
    .query(async ({ ctx, input }) => ({
      notifications: await listNotifications(ctx.deps.db, ctx.user.id, input.n),
    })),
} satisfies TRPCRouterRecord;
