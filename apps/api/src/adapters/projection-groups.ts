import { createKeyspace, hashTag, type HashTag } from "@hotpath/config";
import type { LeaderboardBoard } from "../trpc/deps.ts";

/*
 * Which Redis Cluster slot each tip projection lives in. The rule (DESIGN.md §4): a hash tag per
 * entity, never one for the whole app. The entities of the projections are
 *   - a leaderboard (`{creators}`, `{tippers}`): its daily, weekly and all-time sorted sets;
 *   - a user (`{user:<id>}`): their activity feed and, as a creator, their 30-day counter buckets;
 *   - the global feed (`{global}`).
 * A tip touches five of these groups (four when the creator tips themself). Each group is written
 * by its own script, guarded by its own "applied" marker in the same slot, so every group counts
 * a tip exactly once, and a partial apply (one group's node failing over) is completed by the
 * next apply (job, relay) without counting the other groups twice.
 */

/** The hash tag of a leaderboard: its three periods share a slot. */
export function boardTag(board: LeaderboardBoard): HashTag {
  return hashTag(board);
}

/** The hash tag of a user's projections (their feed, their 30-day counter buckets). */
export function userTag(userId: number): HashTag {
  return hashTag("user", userId);
}

/** The hash tag of an activity feed: the user's own tag, or `{global}` for everyone's (`userId` 0). */
export function feedTag(userId: number): HashTag {
  return userId === 0 ? hashTag("global") : userTag(userId);
}

/**
 * Key of the marker saying a tip was applied to one group (`count:tip-applied:<tag>:<tipId>`):
 * in the group's slot, so the group's script sets it with its writes.
 */
export function tipAppliedKey(app: string, tag: HashTag, tipId: number): string {
  return createKeyspace(app).key("count", "tip-applied", tag, tipId);
}

/** The tags of the groups a tip touches: boards, the creator, the tipper (once if the same), global. */
export function tipGroupTags(tip: { creatorId: number; fromUserId: number }): HashTag[] {
  const users =
    tip.creatorId === tip.fromUserId ? [tip.creatorId] : [tip.creatorId, tip.fromUserId];
  return [boardTag("creators"), boardTag("tippers"), ...users.map(userTag), feedTag(0)];
}

/** The "applied" markers of a tip, one per group it touches. */
export function tipAppliedKeys(
  app: string,
  tip: { id: number; creatorId: number; fromUserId: number },
): string[] {
  return tipGroupTags(tip).map((tag) => tipAppliedKey(app, tag, tip.id));
}
