import type { SqlExecutor } from "./database.ts";
import { findUserByUsername } from "./users.ts";

/** A stream as the API returns it. */
export interface Stream {
  id: number;
  creatorId: number;
  creatorUsername: string;
  title: string;
  live: boolean;
  startedAt: string | null;
}

interface StreamRow {
  id: number;
  creator_id: number;
  creator_username: string;
  title: string;
  live: boolean;
  started_at: string | null;
}

const STREAM_COLUMNS = `s.id, s.creator_id, u.username as creator_username, s.title, s.live,
  to_char(s.started_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as started_at`;

function toStream(row: StreamRow): Stream {
  return {
    id: row.id,
    creatorId: row.creator_id,
    creatorUsername: row.creator_username,
    title: row.title,
    live: row.live,
    startedAt: row.started_at,
  };
}

/** Reads a stream by id. */
export async function findStreamById(db: SqlExecutor, id: number): Promise<Stream | null> {
  const rows = await db.query<StreamRow>(
    `select ${STREAM_COLUMNS} from streams s join users u on u.id = s.creator_id where s.id = $1`,
    [id],
  );
  return rows[0] ? toStream(rows[0]) : null;
}

/** The creator's current stream: the live one, else the most recent one. */
export async function findLatestStreamOfCreator(
  db: SqlExecutor,
  creatorId: number,
): Promise<Stream | null> {
  const rows = await db.query<StreamRow>(
    `select ${STREAM_COLUMNS} from streams s join users u on u.id = s.creator_id
     where s.creator_id = $1 order by s.live desc, s.started_at desc nulls last, s.id desc limit 1`,
    [creatorId],
  );
  return rows[0] ? toStream(rows[0]) : null;
}

/** Marks every live stream of a creator offline, then inserts a new live stream. */
export async function startStream(
  db: SqlExecutor,
  creatorId: number,
  title: string,
): Promise<Stream> {
  await db.query("update streams set live = false where creator_id = $1 and live", [creatorId]);
  const inserted = await db.query<{ id: number }>(
    "insert into streams (creator_id, title, live, started_at) values ($1, $2, true, now()) returning id",
    [creatorId, title],
  );
  const id = inserted[0]?.id;
  const stream = id === undefined ? null : await findStreamById(db, id);
  if (!stream) throw new Error("insert into streams returned no row");
  return stream;
}

/** Stops the creator's live stream; returns it, or `null` when none was live. */
export async function stopStream(db: SqlExecutor, creatorId: number): Promise<Stream | null> {
  const rows = await db.query<{ id: number }>(
    "update streams set live = false where creator_id = $1 and live returning id",
    [creatorId],
  );
  const id = rows[0]?.id;
  return id === undefined ? null : findStreamById(db, id);
}

/** Inserts a stream as given (seed, tests). */
export async function insertStream(
  db: SqlExecutor,
  stream: { creatorId: number; title: string; live: boolean },
): Promise<Stream> {
  const inserted = await db.query<{ id: number }>(
    `insert into streams (creator_id, title, live, started_at)
     values ($1, $2, $3, case when $3 then now() else null end) returning id`,
    [stream.creatorId, stream.title, stream.live],
  );
  const id = inserted[0]?.id;
  const found = id === undefined ? null : await findStreamById(db, id);
  if (!found) throw new Error("insert into streams returned no row");
  return found;
}

/** A creator's status as `streams.status` caches it (`null`: no such user). */
export async function loadCreatorStatus(db: SqlExecutor, username: string) {
  const creator = await findUserByUsername(db, username);
  if (!creator) return null;
  const stream = await findLatestStreamOfCreator(db, creator.id);
  return {
    creator: { id: creator.id, username: creator.username, displayName: creator.displayName },
    stream,
    live: stream?.live ?? false,
    computedAt: new Date().toISOString(),
  };
}
