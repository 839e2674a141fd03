import type { PasswordHasher } from "../auth/password.ts";
import type { Database } from "./database.ts";
import { insertStream } from "./streams.ts";
import { insertTipOnce } from "./tips.ts";
import { insertUser } from "./users.ts";

/** The demo password of every seeded user (printed by `pnpm dev`). */
export const DEMO_PASSWORD = "hotpath-demo";

/** The seeded users: three creators with streams, two viewers. */
export const DEMO_USERS = [
  {
    username: "alice",
    displayName: "Alice (creator)",
    plan: "pro",
    stream: { title: "Speedrunning Redis", live: true },
  },
  {
    username: "bob",
    displayName: "Bob (creator)",
    plan: "pro",
    stream: { title: "Postgres after dark", live: true },
  },
  {
    username: "carol",
    displayName: "Carol (creator)",
    plan: "free",
    stream: { title: "tRPC from scratch", live: false },
  },
  { username: "dave", displayName: "Dave", plan: "free", stream: null },
  { username: "erin", displayName: "Erin", plan: "free", stream: null },
] as const;

const SEED_LOCK_ID = 0x68707364; // "hpsd"

/** What {@link seedDatabase} did. */
export interface SeedResult {
  /** False when the database already had users (nothing was written). */
  seeded: boolean;
  /** Username/password pairs that can log in. */
  credentials: { username: string; password: string }[];
}

/**
 * Seeds an empty database with demo users, streams and tips (one transaction). Does nothing
 * when a user already exists, so it is safe at every start.
 */
export async function seedDatabase(db: Database, hasher: PasswordHasher): Promise<SeedResult> {
  const credentials = DEMO_USERS.map((u) => ({ username: u.username, password: DEMO_PASSWORD }));
  const existing = await db.query<{ n: number }>("select count(*)::int as n from users");
  if ((existing[0]?.n ?? 0) > 0) return { seeded: false, credentials };
  const hashes = await Promise.all(DEMO_USERS.map(() => hasher.hash(DEMO_PASSWORD)));
  const seeded = await db.transaction(async (tx) => {
    // Several processes may start together on one database: one seeds, the others see its rows.
    await tx.query("select pg_advisory_xact_lock($1)", [SEED_LOCK_ID]);
    const again = await tx.query<{ n: number }>("select count(*)::int as n from users");
    if ((again[0]?.n ?? 0) > 0) return false;
    const users = [];
    const streams = [];
    for (const [index, demo] of DEMO_USERS.entries()) {
      const user = await insertUser(tx, {
        username: demo.username,
        displayName: demo.displayName,
        passwordHash: hashes[index] ?? "",
        plan: demo.plan,
      });
      users.push(user);
      if (demo.stream) streams.push(await insertStream(tx, { creatorId: user.id, ...demo.stream }));
    }
    const viewers = users.slice(3);
    const amounts = [500, 250, 1000, 199, 750, 320];
    for (const [index, cents] of amounts.entries()) {
      const stream = streams[index % 2];
      const viewer = viewers[index % viewers.length];
      if (!stream || !viewer) continue;
      await insertTipOnce(tx, {
        streamId: stream.id,
        fromUserId: viewer.id,
        amountCents: cents,
        idempotencyKey: `seed-${index}`,
      });
    }
    return true;
  });
  return { seeded, credentials };
}
