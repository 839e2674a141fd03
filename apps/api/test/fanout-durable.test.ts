import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../src/db/database.ts";
import { insertFollow } from "../src/db/follows.ts";
import { insertOutboxRow } from "../src/db/outbox.ts";
import { openPostgresDatabase } from "../src/db/postgres.ts";
import { DEMO_PASSWORD } from "../src/db/seed.ts";
import { insertTipOnce } from "../src/db/tips.ts";
import { findUserByUsername, insertUser } from "../src/db/users.ts";
import { TEST_POSTGRES_URL } from "./helpers/postgres.ts";
import { startLocalQStash, type LocalQStash } from "./helpers/qstash.ts";
import {
  bearer,
  liveStreamOf,
  openTestApi,
  TEST_ADMIN_TOKEN,
  tipRequest,
  type TestApi,
} from "./helpers/runtime.ts";
import { serveLazily } from "./helpers/serve.ts";
import { waitUntil } from "./helpers/wait.ts";

const FOLLOWERS = 5;

// The fan-out of a tip is part of what its outbox row stands for: QStash down at tip time (or
// the process gone right after the commit) only delays the notifications, the relay sends them.
describe("the fan-out of a tip survives QStash being down (real PostgreSQL, local QStash)", () => {
  const schema = `hotpath_fanout_${randomBytes(4).toString("hex")}`;
  let db: Database;
  let qstash: LocalQStash;
  let http: Awaited<ReturnType<typeof serveLazily>>;
  let t: TestApi;
  let tipperToken: string;
  let tipperId: number;
  let alice: { streamId: number; creatorId: number };
  const followerIds: number[] = [];

  /** How many notifications of `tipId` each follower holds, in follower order. */
  const notificationCounts = async (tipId: number) => {
    const rows = await db.query<{ user_id: number; n: number }>(
      "select user_id, count(*)::int as n from notifications where tip_id = $1 group by user_id",
      [tipId],
    );
    const byUser = new Map(rows.map((row) => [row.user_id, row.n]));
    return followerIds.map((id) => byUser.get(id) ?? 0);
  };
  const fanoutDone = async (tipId: number) =>
    (
      await db.query<{ done: boolean }>(
        "select fanout_done_at is not null as done from tip_outbox where tip_id = $1",
        [tipId],
      )
    )[0]?.done;
  /** Tips whose fan-out is pending, as the Jobs view's overview reports them. */
  const fanoutPending = async () =>
    (await t.caller(bearer(TEST_ADMIN_TOKEN)).api.jobs.overview({ minutes: 5 })).outbox
      .fanoutPending;
  /** Runs the relay until every follower holds the tip's notification. */
  const relayUntilNotified = (tipId: number) =>
    waitUntil(
      async () => {
        await t.runtime.deps.outbox.relay();
        return (await notificationCounts(tipId)).every((n) => n === 1);
      },
      { timeoutMs: 45_000, intervalMs: 500, what: "the relay to notify every follower" },
    );

  beforeAll(async () => {
    db = await openPostgresDatabase({ url: TEST_POSTGRES_URL, schema, max: 4 });
    qstash = await startLocalQStash("fanout-durable-qstash");
    http = await serveLazily();
    t = await openTestApi({
      db,
      env: { OUTBOX_RELAY_AFTER_SECONDS: "1" },
      // Retries every 200 ms (the server scales delays by 0.001).
      runtime: { qstash: qstash.wiring(http.port, { retries: 20, retryDelay: "200000" }) },
    });
    http.serve((request) => t.handler(request));
    alice = await liveStreamOf(db, "alice");
    const hash = await t.runtime.deps.passwords.hash(DEMO_PASSWORD);
    for (let index = 0; index < FOLLOWERS; index += 1) {
      const user = await insertUser(db, {
        username: `durable_fan_${index}`,
        displayName: `Durable fan ${index}`,
        passwordHash: hash,
      });
      await insertFollow(db, user.id, alice.creatorId);
      followerIds.push(user.id);
    }
    tipperToken = await t.login("dave");
    tipperId = (await findUserByUsername(db, "dave"))!.id;
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await http?.close();
    await qstash?.close();
    if (db) {
      await db.exec(`drop schema ${schema} cascade`);
      await db.close();
    }
  });

  it("QStash stopped at tip time: the tip answers, and once QStash is back the relay notifies every follower exactly once", async () => {
    await qstash.stop();
    const response = await t.handler(
      tipRequest(tipperToken, `durable-${Date.now()}`, { streamId: alice.streamId, amount: 4 }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      result: { data: { tip: { id: number }; created: boolean; projected: boolean } };
    };
    // Redis is fine: the projections are applied inline; only the fan-out's publish fails.
    expect(body.result.data).toMatchObject({ created: true, projected: true });
    const tipId = body.result.data.tip.id;
    await waitUntil(
      () => t.logger.lines.some((line) => line.msg === "tip fan-out failed; the relay retries it"),
      { timeoutMs: 30_000, what: "the failed fan-out publish" },
    );
    expect(await notificationCounts(tipId)).toEqual(followerIds.map(() => 0));
    expect(await fanoutDone(tipId)).toBe(false);
    expect(await fanoutPending()).toBe(1);

    await qstash.restart();
    await relayUntilNotified(tipId);
    await waitUntil(async () => (await fanoutDone(tipId)) === true, {
      what: "the fan-out to be marked done",
    });

    // The relay runs again (twice): nothing is left to send, every follower still has one.
    for (let run = 0; run < 2; run += 1) {
      expect(await t.runtime.deps.outbox.relay()).toMatchObject({ fannedOut: 0, failed: 0 });
    }
    expect(await notificationCounts(tipId)).toEqual(followerIds.map(() => 1));
    expect(await fanoutPending()).toBe(0);
  });

  it("a tip whose process died right after the commit (no fan-out attempted) is fanned out by the relay, once", async () => {
    // The tip and its outbox row commit together, as tips.quick writes them; nothing runs after.
    const { tip } = await db.transaction(async (tx) => {
      const inserted = await insertTipOnce(tx, {
        streamId: alice.streamId,
        fromUserId: tipperId,
        amountCents: 150,
        idempotencyKey: `durable-died-${Date.now()}`,
      });
      await insertOutboxRow(tx, inserted.tip.id);
      return inserted;
    });
    expect(await notificationCounts(tip.id)).toEqual(followerIds.map(() => 0));

    await relayUntilNotified(tip.id);
    await waitUntil(async () => (await fanoutDone(tip.id)) === true, {
      what: "the fan-out to be marked done",
    });
    for (let run = 0; run < 2; run += 1) await t.runtime.deps.outbox.relay();
    expect(await notificationCounts(tip.id)).toEqual(followerIds.map(() => 1));
  });
});
