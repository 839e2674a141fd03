import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { findStreamById } from "../../db/streams.ts";
import { insertOutboxRow } from "../../db/outbox.ts";
import { insertTipOnce, listTipsByUser } from "../../db/tips.ts";
import { IDEMPOTENCY_KEY_HEADER } from "../middleware/idempotency.ts";
import { ApiError } from "../errors.ts";
import { amountSchema, idSchema, toCents } from "../inputs.ts";
import { authedProcedure, cached, idempotent, rateLimited } from "../procedures.ts";

const quickInput = z.object({ streamId: idSchema, amount: amountSchema });
const mineInput = z.object({ n: z.number().int().min(1).max(100).default(20) });

/** Namespace of the per-user tip history cache. */
export const MY_TIPS_NAMESPACE = "mytips";
/** Tag of one user's cached tip history. */
export function myTipsTag(userId: number): string {
  return `tips:user:${userId}`;
}

/** Tips: the money path. */
export const tipsRouter = {
  /**
   * Tips a live stream. Strict rate limit plus the caller's plan quota, idempotent (Idempotency-Key header), the tip row is
   * inserted exactly once in PostgreSQL (unique per sender + key, even if Redis forgot the
   * key) together with its outbox row, then ONE Redis script (at most once per tip) updates the creator/tipper leaderboards (daily, weekly,
   * all-time), the 30-day counter and the activity feeds; the creator's cached status is dropped, and the creator's followers are notified (one batch
   * of `notify-follower` jobs, in the background).
   */
  quick: authedProcedure
    .use(rateLimited("tips:quick", { plan: true }))
    .input(quickInput)
    .use(idempotent())
    .mutation(async ({ ctx, input }) => {
      const key = ctx.headers.get(IDEMPOTENCY_KEY_HEADER);
      const stream = await findStreamById(ctx.deps.db, input.streamId);
      if (!stream) throw new ApiError("NOT_FOUND", `Stream ${input.streamId} does not exist`);
      if (!stream.live)
        throw new ApiError("STREAM_NOT_LIVE", `Stream ${input.streamId} is not live`);
      if (stream.creatorId === ctx.user.id)
        throw new ApiError("FORBIDDEN", "You cannot tip your own stream");
      const { tip, created } = await ctx.deps.db.transaction(async (tx) => {
        // Re-checked inside the transaction, row locked: a stream stopping now cannot take a tip.
        const live = await tx.query<{ live: boolean }>(
          "select live from streams where id = $1 for update",
          [stream.id],
        );
        if (!live[0]?.live)
          throw new ApiError("STREAM_NOT_LIVE", `Stream ${input.streamId} is not live`);
        const inserted = await insertTipOnce(tx, {
          streamId: stream.id,
          fromUserId: ctx.user.id,
          amountCents: toCents(input.amount),
          idempotencyKey: key,
        });
        // The outbox row commits with the tip: its projections can never be lost.
        if (inserted.created) await insertOutboxRow(tx, inserted.tip.id);
        return inserted;
      });
      let projected = false;
      if (created) {
        // Independent writes, sent together: the money path waits one round trip for all three.
        [projected] = await Promise.all([
          // Applied inline once; on failure the outbox row goes to the apply-tip job (or the relay).
          ctx.deps.outbox.afterCommit(tip, ctx.waitUntil),
          ctx.deps.cache.invalidate("status", [stream.creatorUsername]),
          ctx.deps.cache.invalidateTags(MY_TIPS_NAMESPACE, [myTipsTag(ctx.user.id)]),
        ]);
        // Off the critical path: one QStash batch notifies the creator's followers; until it is
        // published the fan-out stays pending in the outbox row, and the relay re-runs it.
        ctx.deps.fanout.afterCommit(tip, ctx.waitUntil);
      }
      return {
        tip: {
          id: tip.id,
          streamId: tip.streamId,
          creatorId: tip.creatorId,
          amount: tip.amount,
          createdAt: tip.createdAt,
        },
        created,
        projected,
      };
    }),

  /**
   * The caller's own newest tips: per-user data, cached 10 s under a key that includes the user
   * id (`vary: "user"`), `Cache-Control: private`, dropped when the user tips again.
   */
  mine: authedProcedure
    .use(rateLimited("tips:read"))
    .input(mineInput)
    .use(cached({ namespace: MY_TIPS_NAMESPACE, ttl: 10, vary: "user", lock: true }))
    .query(async ({ ctx, input }) => ({
      tips: await ctx.cached(() => listTipsByUser(ctx.deps.db, ctx.user.id, input.n), {
        tags: [myTipsTag(ctx.user.id)],
      }),
    })),
} satisfies TRPCRouterRecord;
