import type { SqlExecutor } from "./database.ts";

/** A user as the API returns it (no password hash). */
export interface User {
  id: number;
  username: string;
  displayName: string;
  plan: "free" | "pro";
  createdAt: string;
  updatedAt: string;
}

/** A user with the stored password hash (login only). */
export interface UserCredentials {
  id: number;
  username: string;
  plan: "free" | "pro";
  passwordHash: string;
}

interface UserRow {
  id: number;
  username: string;
  display_name: string;
  plan: "free" | "pro";
  created_at: string;
  updated_at: string;
}

const USER_COLUMNS = `id, username, display_name, plan,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
  to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as updated_at`;

function toUser(row: UserRow): User {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    plan: row.plan,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Reads one user by id; `null` when there is none. */
export async function findUserById(db: SqlExecutor, id: number): Promise<User | null> {
  const rows = await db.query<UserRow>(`select ${USER_COLUMNS} from users where id = $1`, [id]);
  return rows[0] ? toUser(rows[0]) : null;
}

/** Reads one user by username; `null` when there is none. */
export async function findUserByUsername(db: SqlExecutor, username: string): Promise<User | null> {
  const rows = await db.query<UserRow>(`select ${USER_COLUMNS} from users where username = $1`, [
    username,
  ]);
  return rows[0] ? toUser(rows[0]) : null;
}

/** Reads the password hash of a user (login). */
export async function findCredentials(
  db: SqlExecutor,
  username: string,
): Promise<UserCredentials | null> {
  const rows = await db.query<{
    id: number;
    username: string;
    plan: "free" | "pro";
    password_hash: string;
  }>("select id, username, plan, password_hash from users where username = $1", [username]);
  const row = rows[0];
  return row
    ? { id: row.id, username: row.username, plan: row.plan, passwordHash: row.password_hash }
    : null;
}

/** One page of users ordered by id, and the total count. */
export async function listUsers(
  db: SqlExecutor,
  page: { offset: number; limit: number },
): Promise<{ items: User[]; total: number }> {
  const rows = await db.query<UserRow>(
    `select ${USER_COLUMNS} from users order by id limit $1 offset $2`,
    [page.limit, page.offset],
  );
  const count = await db.query<{ total: number }>("select count(*)::int as total from users");
  return { items: rows.map(toUser), total: count[0]?.total ?? 0 };
}

/** Ids and usernames of users with an id above `afterId`, in id order (bounded batches). */
export async function listUserNamesAfter(
  db: SqlExecutor,
  afterId: number,
  limit: number,
): Promise<{ id: number; username: string }[]> {
  return db.query<{ id: number; username: string }>(
    "select id, username from users where id > $1 order by id limit $2",
    [afterId, limit],
  );
}

/** Fields a user may change about themselves. */
export interface UserPatch {
  displayName?: string | undefined;
  plan?: "free" | "pro" | undefined;
}

/** Updates a user; returns the new row or `null` when the user does not exist. */
export async function updateUser(
  db: SqlExecutor,
  id: number,
  patch: UserPatch,
): Promise<User | null> {
  const rows = await db.query<UserRow>(
    `update users set
       display_name = coalesce($2, display_name),
       plan = coalesce($3, plan),
       updated_at = now()
     where id = $1
     returning ${USER_COLUMNS}`,
    [id, patch.displayName ?? null, patch.plan ?? null],
  );
  return rows[0] ? toUser(rows[0]) : null;
}

/** Inserts a user (seed, tests); returns it. */
export async function insertUser(
  db: SqlExecutor,
  user: { username: string; displayName: string; passwordHash: string; plan?: "free" | "pro" },
): Promise<User> {
  const rows = await db.query<UserRow>(
    `insert into users (username, display_name, password_hash, plan) values ($1, $2, $3, $4)
     returning ${USER_COLUMNS}`,
    [user.username, user.displayName, user.passwordHash, user.plan ?? "free"],
  );
  const row = rows[0];
  if (!row) throw new Error("insert into users returned no row");
  return toUser(row);
}
