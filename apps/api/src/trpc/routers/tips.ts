import type { TRPCRouterRecord } from "@trpc/server";
import { z } from "zod";
import { findStreamById } from "../../db/streams.ts";
import { insertTipOnce } from "../../db/tips.ts";
import { IDEMPOTENCY_KEY_HEADER } from "../middleware/idempotency.ts";
import { ApiError } from "../errors.ts";
import { amountSchema, idSchema, toCents } from "../inputs.ts";
import { authedProcedure, idempotent, rateLimited } from "../procedures.ts";

const quickInput = z.object({ streamId: idSchema, amount: amountSchema });

/** Tips: the money path. */
export const tipsRouter = {
  /**
   * Tips a live stream. Strict rate limit, idempotent (Idempotency-Key header), the tip row is
   * inserted exactly once in PostgreSQL (unique per sender + key, even if Redis forgot the
   * key), then ONE Redis pipeline updates the creator/tipper leaderboards (daily, weekly,
   * all-time), the 30-day counter and the activity feeds; the creator's cached status is dropped.
   */
  quick: authedProcedure
    .use(rateLimited("tips:quick"))
    .input(quickInput)
    .use(idempotent())
    .mutation(async ({ ctx, input }) => {
      const key = ctx.headers.get(IDEMPOTENCY_KEY_HEADER);
      const stream = await findStreamById(ctx.deps.db, input.streamId);
      if (!stream) throw new ApiError("NOT_FOUND", `Stream ${input.streamId} does not exist`);
      if (!stream.live) throw new ApiError("STREAM_NOT_LIVE", `Stream ${input.streamId} is not live`);
      if (stream.creatorId === ctx.user.id) throw new ApiError("FORBIDDEN", "You cannot tip your own stream");
      const { tip, created } = await ctx.deps.db.transaction(async (tx) => {
        // Re-checked inside the transaction, row locked: a stream stopping now cannot take a tip.
        const live = await tx.query<{ live: boolean }>("select live from streams where id = $1 for update", [stream.id]);
        if (!live[0]?.live) throw new ApiError("STREAM_NOT_LIVE", `Stream ${input.streamId} is not live`);
        return insertTipOnce(tx, {
          streamId: stream.id,
          fromUserId: ctx.user.id,
          amountCents: toCents(input.amount),
          idempotencyKey: key,
        });
      });
      let projected = false;
      if (created) {
        try {
          await ctx.deps.projections.apply(tip);
          projected = true;
        } catch (error) {
          // The tip is stored (source of truth); derived data can be rebuilt from it. Reported, not hidden.
          ctx.deps.logger.error("tip projections failed", { requestId: ctx.requestId, tipId: tip.id, error: String(error) });
        }
        await ctx.deps.cache.invalidate("status", [stream.creatorUsername]);
      }
      return {
        tip: { id: tip.id, streamId: tip.streamId, creatorId: tip.creatorId, amount: tip.amount, createdAt: tip.createdAt },
        created,
        projected,
      };
    }),
} satisfies TRPCRouterRecord;
