import type { SqlExecutor } from "./database.ts";

/** Makes `followerId` follow `creatorId`; true when the follow is new. */
export async function insertFollow(
  db: SqlExecutor,
  followerId: number,
  creatorId: number,
): Promise<boolean> {
  const rows = await db.query<{ follower_id: number }>(
    `insert into follows (follower_id, creator_id) values ($1, $2)
     on conflict do nothing returning follower_id`,
    [followerId, creatorId],
  );
  return rows.length > 0;
}

/** Removes a follow; true when there was one. */
export async function deleteFollow(
  db: SqlExecutor,
  followerId: number,
  creatorId: number,
): Promise<boolean> {
  const rows = await db.query<{ follower_id: number }>(
    "delete from follows where follower_id = $1 and creator_id = $2 returning follower_id",
    [followerId, creatorId],
  );
  return rows.length > 0;
}

/**
 * Followers of a creator in id order, after `afterId` (keyset pages of at most `limit`),
 * without `exceptUserId` (the tipper is not notified of their own tip).
 */
export async function listFollowerIds(
  db: SqlExecutor,
  creatorId: number,
  page: { afterId: number; limit: number; exceptUserId: number },
): Promise<number[]> {
  const rows = await db.query<{ follower_id: number }>(
    `select follower_id from follows
     where creator_id = $1 and follower_id > $2 and follower_id <> $3
     order by follower_id limit $4`,
    [creatorId, page.afterId, page.exceptUserId, page.limit],
  );
  return rows.map((row) => row.follower_id);
}

/** Number of followers of a creator. */
export async function countFollowers(db: SqlExecutor, creatorId: number): Promise<number> {
  const rows = await db.query<{ n: number }>(
    "select count(*)::int as n from follows where creator_id = $1",
    [creatorId],
  );
  return rows[0]?.n ?? 0;
}
