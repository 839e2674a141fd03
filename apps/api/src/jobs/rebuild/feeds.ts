import { FEED_LENGTH, feedEntryOf, feedKey, parseFeedEntry } from "../../adapters/projections.ts";
import { feedTag } from "../../adapters/projection-groups.ts";
import { listFeedTips } from "../../db/projection-truth.ts";
import type { FeedEntry } from "../../trpc/deps.ts";
import {
  STAGED_TTL_SECONDS,
  type FeedDrift,
  type ProjectionReader,
  type ProjectionSource,
  type StagedSwap,
} from "./types.ts";

/** Canonical text of an entry (field order fixed), to compare what Redis holds with the truth. */
function entryText(entry: FeedEntry): string {
  return JSON.stringify(
    feedEntryOf({
      id: entry.tipId,
      streamId: entry.streamId,
      creatorId: entry.creatorId,
      fromUserId: entry.fromUserId,
      amountCents: Math.round(Number(entry.amount) * 100),
      createdAt: entry.at,
    }),
  );
}

/** Counts of each text in a list (a multiset). */
function tally(texts: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
  return counts;
}

/** Texts of `a` not matched by `b` (multiset difference), as the tip ids they name. */
function missingFrom(a: Map<string, number>, b: Map<string, number>): number[] {
  const ids: number[] = [];
  for (const [text, count] of a) {
    const extra = count - (b.get(text) ?? 0);
    const tipId = (JSON.parse(text) as FeedEntry).tipId;
    for (let i = 0; i < extra; i++) ids.push(tipId);
  }
  return ids.sort((x, y) => y - x);
}

/**
 * The activity feeds: the newest {@link FEED_LENGTH} tips a user received or sent (every user
 * who has tipped or been tipped), and the newest of everyone. Compared as multisets of entries:
 * concurrent applies may push two tips in the other order, which is not drift.
 */
export function feedsReader({ redis, app }: ProjectionSource): ProjectionReader {
  return async (tx) => {
    const feeds = [...(await listFeedTips(tx, FEED_LENGTH))].map(([userId, tips]) => ({
      userId,
      key: feedKey(app, userId),
      entries: tips.map((tip) => JSON.stringify(feedEntryOf(tip))),
    }));
    if (!feeds.some((feed) => feed.userId === 0))
      feeds.push({ userId: 0, key: feedKey(app, 0), entries: [] });
    return {
      async compare() {
        const pipeline = redis.pipeline();
        for (const { key } of feeds) pipeline.lrange(key, 0, -1);
        const lists = await pipeline.exec<unknown[][]>();
        const drift: FeedDrift[] = [];
        for (const [index, { userId, entries }] of feeds.entries()) {
          let invalid = 0;
          const actual: string[] = [];
          for (const item of lists[index] ?? []) {
            const entry = parseFeedEntry(item);
            if (entry) actual.push(entryText(entry));
            else invalid += 1;
          }
          const want = tally(entries);
          const have = tally(actual);
          const missing = missingFrom(want, have);
          const unexpected = missingFrom(have, want);
          if (missing.length > 0 || unexpected.length > 0 || invalid > 0)
            drift.push({ projection: "feed", userId, missing, unexpected, invalid });
        }
        return drift;
      },
      async stage(tempKey) {
        const swaps: StagedSwap[] = [];
        const pipeline = redis.pipeline();
        for (const { userId, key, entries } of feeds) {
          if (entries.length === 0) {
            swaps.push({ live: key });
            continue;
          }
          const temp = tempKey("feed", feedTag(userId));
          // Newest first, as LPUSH leaves a live feed.
          pipeline.rpush(temp, ...entries);
          pipeline.expire(temp, STAGED_TTL_SECONDS);
          swaps.push({ live: key, temp });
        }
        if (pipeline.length() > 0) await pipeline.exec();
        return swaps;
      },
    };
  };
}
