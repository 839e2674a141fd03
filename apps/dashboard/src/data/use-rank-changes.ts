import { useRef } from "react";
import type { LeaderboardEntry, RankedEntry } from "../model.ts";
import { sameBoard, withRankChanges } from "../shaping/rank-changes.ts";

interface Snapshots {
  current: LeaderboardEntry[];
  previous: LeaderboardEntry[] | undefined;
}

/**
 * Rank changes of a board against its previous different snapshot, remembered per board key
 * (e.g. the period) for as long as the page is open: an arrow stays until the board moves again.
 */
export function useRankChanges(
  boardKey: string,
  entries: LeaderboardEntry[] | undefined,
): RankedEntry[] | undefined {
  const snapshots = useRef(new Map<string, Snapshots>());
  if (entries === undefined) return undefined;
  const known = snapshots.current.get(boardKey);
  if (!known) {
    snapshots.current.set(boardKey, { current: entries, previous: undefined });
  } else if (!sameBoard(known.current, entries)) {
    snapshots.current.set(boardKey, { current: entries, previous: known.current });
  }
  return withRankChanges(entries, snapshots.current.get(boardKey)?.previous);
}
