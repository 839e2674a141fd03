import type { LeaderboardEntry, RankedEntry } from "../model.ts";

/**
 * Adds each entry's rank movement against a previous snapshot: positive = moved up
 * (previous rank 4, now 2 -> +2), `null` = not on the previous board. With no previous snapshot
 * every change is 0 (nothing to compare with yet, so nothing is called "new").
 */
export function withRankChanges(
  current: readonly LeaderboardEntry[],
  previous: readonly LeaderboardEntry[] | undefined,
): RankedEntry[] {
  if (!previous) return current.map((entry) => ({ ...entry, change: 0 }));
  const previousRank = new Map(previous.map((entry) => [entry.member, entry.rank]));
  return current.map((entry) => {
    const before = previousRank.get(entry.member);
    return { ...entry, change: before === undefined ? null : before - entry.rank };
  });
}

/** True when two boards list the same members at the same ranks and scores. */
export function sameBoard(a: readonly LeaderboardEntry[], b: readonly LeaderboardEntry[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (entry, i) =>
        entry.member === b[i]?.member && entry.rank === b[i]?.rank && entry.score === b[i]?.score,
    )
  );
}
