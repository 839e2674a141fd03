import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPbkdf2Hasher } from "../src/auth/password.ts";
import type { Database } from "../src/db/database.ts";
import { migrate } from "../src/db/migrate.ts";
import { MIGRATIONS } from "../src/db/migrations.ts";
import { openPgliteDatabase } from "../src/db/pglite.ts";
import { openPostgresDatabase } from "../src/db/postgres.ts";
import { DEMO_USERS, seedDatabase } from "../src/db/seed.ts";
import { findStreamById, startStream, stopStream } from "../src/db/streams.ts";
import { countTips, insertTipOnce } from "../src/db/tips.ts";
import { findUserById, findUserByUsername, listUsers, updateUser } from "../src/db/users.ts";
import { POSTGRES_REQUIRED, postgresAnswers, TEST_POSTGRES_URL } from "./helpers/postgres.ts";

const hasher = createPbkdf2Hasher({ iterations: 10_000 });
// Under `pnpm test` a PostgreSQL is always provided: not answering is then a failure, not a skip.
// Run alone without one, the server suite is skipped (and counted as skipped).
const skipServer = !POSTGRES_REQUIRED && !(await postgresAnswers());

interface Target {
  name: string;
  open: () => Promise<{ db: Database; cleanup: () => Promise<void> }>;
}

const targets: Target[] = [
  {
    name: "pglite (in memory)",
    open: async () => {
      const db = await openPgliteDatabase();
      return { db, cleanup: () => db.close() };
    },
  },
  {
    name: "postgresql server",
    open: async () => {
      const schema = `hotpath_test_${randomBytes(4).toString("hex")}`;
      const db = await openPostgresDatabase({ url: TEST_POSTGRES_URL, schema, max: 4 });
      return {
        db,
        cleanup: async () => {
          // Only the schema this run created is dropped.
          await db.exec(`drop schema ${schema} cascade`);
          await db.close();
        },
      };
    },
  },
];

describe.each(targets)("database on $name", (target) => {
  const skip = target.name.startsWith("postgresql") && skipServer;
  let db: Database;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    if (skip) return;
    ({ db, cleanup } = await target.open());
  });
  afterAll(async () => {
    if (!skip) await cleanup();
  });

  it.skipIf(skip)("migrates once, then is a no-op", async () => {
    expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.id));
    expect(await migrate(db)).toEqual([]);
  });

  it.skipIf(skip)("seeds an empty database once, with demo credentials that verify", async () => {
    const first = await seedDatabase(db, hasher);
    expect(first.seeded).toBe(true);
    expect(first.credentials.map((c) => c.username)).toEqual(DEMO_USERS.map((u) => u.username));
    expect((await seedDatabase(db, hasher)).seeded).toBe(false);
    const rows = await db.query<{ password_hash: string }>(
      "select password_hash from users where username = 'alice'",
    );
    expect(await hasher.verify("hotpath-demo", rows[0]?.password_hash ?? "")).toBe(true);
    expect(await hasher.verify("wrong", rows[0]?.password_hash ?? "")).toBe(false);
    expect(await countTips(db)).toBe(6);
  });

  it.skipIf(skip)("reads, lists and updates users", async () => {
    const alice = await findUserByUsername(db, "alice");
    expect(alice).toMatchObject({ username: "alice", plan: "pro" });
    expect(alice?.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(await findUserById(db, 999_999)).toBeNull();
    const page = await listUsers(db, { offset: 1, limit: 2 });
    expect(page.total).toBe(5);
    expect(page.items.map((u) => u.username)).toEqual(["bob", "carol"]);
    const updated = await db.transaction((tx) =>
      updateUser(tx, alice?.id ?? 0, { displayName: "Alice R." }),
    );
    expect(updated).toMatchObject({ displayName: "Alice R.", plan: "pro" });
  });

  it.skipIf(skip)("rolls a failed transaction back", async () => {
    const alice = await findUserByUsername(db, "alice");
    await expect(
      db.transaction(async (tx) => {
        await updateUser(tx, alice?.id ?? 0, { displayName: "Rolled back" });
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect((await findUserById(db, alice?.id ?? 0))?.displayName).toBe("Alice R.");
  });

  it.skipIf(skip)(
    "inserts a tip exactly once per (sender, idempotency key), amounts exact",
    async () => {
      const dave = await findUserByUsername(db, "dave");
      const carol = await findUserByUsername(db, "carol");
      const stream = await startStream(db, carol?.id ?? 0, "Live now");
      expect(stream.live).toBe(true);
      const input = {
        streamId: stream.id,
        fromUserId: dave?.id ?? 0,
        amountCents: 1999,
        idempotencyKey: "k-1",
      };
      const results = await Promise.all(Array.from({ length: 10 }, () => insertTipOnce(db, input)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.tip.id)).size).toBe(1);
      expect(results[0]?.tip).toMatchObject({
        amount: "19.99",
        amountCents: 1999,
        creatorId: carol?.id,
      });
      expect(await countTips(db, { streamId: stream.id })).toBe(1);
      await expect(
        insertTipOnce(db, { ...input, amountCents: 0, idempotencyKey: "k-2" }),
      ).rejects.toThrow();
      const stopped = await stopStream(db, carol?.id ?? 0);
      expect(stopped?.live).toBe(false);
      expect((await findStreamById(db, stream.id))?.live).toBe(false);
      expect(await stopStream(db, carol?.id ?? 0)).toBeNull();
    },
  );

  it.skipIf(skip)("rejects usernames that break the schema rules", async () => {
    await expect(
      db.query(
        "insert into users (username, display_name, password_hash) values ('Bad Name', 'x', 'x')",
      ),
    ).rejects.toThrow();
  });
});
