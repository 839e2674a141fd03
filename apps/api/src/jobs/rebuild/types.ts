import type { HashTag, KeyArea } from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import type { SqlExecutor } from "../../db/database.ts";
import type { LeaderboardBoard, LeaderboardPeriod } from "../../trpc/deps.ts";

/** A leaderboard member whose score in Redis differs from the PostgreSQL truth (cents). */
export interface LeaderboardDrift {
  projection: "leaderboard";
  board: LeaderboardBoard;
  period: LeaderboardPeriod;
  member: string;
  expected: number;
  actual: number;
}

/** A day bucket of a creator's 30-day counter that differs from the PostgreSQL truth. */
export interface CounterDrift {
  projection: "counter";
  creatorId: number;
  /** `YYYYMMDD` (UTC). */
  day: string;
  expected: { count: number; cents: number };
  actual: { count: number; cents: number };
}

/** An activity feed whose entries differ from the newest tips in PostgreSQL (0: the global feed). */
export interface FeedDrift {
  projection: "feed";
  userId: number;
  /** Tip ids that should be on the feed and are not (or are, with other content). */
  missing: number[];
  /** Tip ids on the feed that should not be (or differ from the truth). */
  unexpected: number[];
  /** Entries that are not a valid feed entry at all. */
  invalid: number;
}

/** Anything a reconcile found different from PostgreSQL. */
export type ProjectionDrift = LeaderboardDrift | CounterDrift | FeedDrift;

/**
 * One live key of a rebuild: `temp` (written beforehand) is renamed over it, or, without
 * `temp`, the live key is deleted (the truth is empty). `ttlSeconds` undefined: no expiry.
 */
export interface StagedSwap {
  live: string;
  temp?: string;
  ttlSeconds?: number;
}

/** Seconds a staged key lives when a rebuild dies before its swap (renamed keys get their own TTL). */
export const STAGED_TTL_SECONDS = 3600;

/** One projection's truth, read from PostgreSQL, able to diff itself against Redis and stage itself. */
export interface ProjectionTruth {
  /** What differs in Redis now. */
  compare(): Promise<ProjectionDrift[]>;
  /**
   * Writes the truth into fresh keys named by `tempKey` (with the live key's hash tag, so the
   * rename stays in its slot) and returns the swaps to run.
   */
  stage(tempKey: (area: KeyArea, tag: HashTag) => string): Promise<StagedSwap[]>;
}

/** What every projection of a rebuild is built from. */
export interface ProjectionSource {
  redis: Redis;
  app: string;
}

/** Reads one projection's truth inside the rebuild's snapshot; `at`: the rebuild's time. */
export type ProjectionReader = (tx: SqlExecutor, at: number) => Promise<ProjectionTruth>;
