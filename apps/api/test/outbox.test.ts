import type { HotpathRedis } from "@hotpath/redis";
import type { TcpProxy } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countPendingOutbox } from "../src/db/outbox.ts";
import { findTipById } from "../src/db/tips.ts";
import { openCuttableRedis, type CuttableRedis } from "./helpers/cuttable-redis.ts";
import { startLocalQStash, type LocalQStash } from "./helpers/qstash.ts";
import { liveStreamOf, openTestApi, tipRequest, type TestApi } from "./helpers/runtime.ts";
import { serveLazily } from "./helpers/serve.ts";
import { waitUntil } from "./helpers/wait.ts";

const REDIS_TIMEOUT_MS = 500;

describe("the tip outbox under faults (own redis-server behind a proxy, local QStash)", () => {
  let cuttable: CuttableRedis;
  let proxy: TcpProxy;
  let redis: HotpathRedis;
  let qstash: LocalQStash;
  let http: Awaited<ReturnType<typeof serveLazily>>;
  let t: TestApi;
  let token: string;
  let stream: { streamId: number; creatorId: number };
  let cutAfterNextCommit = false;

  const creatorScore = async () =>
    (await t.runtime.deps.projections.rank("creators", "alltime", String(stream.creatorId)))
      ?.score ?? 0;

  beforeAll(async () => {
    cuttable = await openCuttableRedis(REDIS_TIMEOUT_MS);
    ({ redis, proxy } = cuttable);
    qstash = await startLocalQStash("outbox-qstash");
    http = await serveLazily();
    t = await openTestApi({
      redis,
      env: { REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS), OUTBOX_RELAY_AFTER_SECONDS: "1" },
      runtime: {
        // Retries every 200 ms (the server scales delays by 0.001), up to 100 times (its maximum).
        qstash: qstash.wiring(http.port, { retries: 100, retryDelay: "200000" }),
        onTipCommitted: () => {
          if (!cutAfterNextCommit) return;
          cutAfterNextCommit = false;
          proxy.cut();
        },
      },
    });
    http.serve((request) => t.handler(request));
    token = await t.login("carol");
    stream = await liveStreamOf(t.db, "alice");
  });

  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await http?.close();
    await qstash?.close();
    await cuttable?.close();
  });

  it("a tip committed while Redis is cut answers projected:false and reaches the leaderboard exactly once after Redis returns", async () => {
    const before = await creatorScore();
    cutAfterNextCommit = true;
    const response = await t.handler(
      tipRequest(token, `outbox-cut-${Date.now()}`, { streamId: stream.streamId, amount: 7.25 }),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      result: { data: { tip: { id: number }; created: boolean; projected: boolean } };
    };
    expect(body.result.data).toMatchObject({ created: true, projected: false });
    const tipId = body.result.data.tip.id;
    expect(await findTipById(t.db, tipId)).toBeDefined();
    proxy.restore();
    // Nobody touches anything: QStash retries apply-tip until Redis answers again.
    await waitUntil(async () => (await countPendingOutbox(t.db)) === 0, {
      timeoutMs: 45_000,
      what: "the outbox row to be applied by the job",
    });
    expect(await creatorScore()).toBe(before + 725);
    // A later relay or redelivery changes nothing.
    expect(await t.runtime.deps.outbox.applyById(tipId)).toBe("already-applied");
    await t.runtime.deps.outbox.relay();
    expect(await creatorScore()).toBe(before + 725);
  });

  it("applying the same tip twice counts it once (marker in the same script)", async () => {
    const response = await t.handler(
      tipRequest(token, `outbox-twice-${Date.now()}`, { streamId: stream.streamId, amount: 1 }),
    );
    const { result } = (await response.json()) as {
      result: { data: { tip: { id: number }; projected: boolean } };
    };
    expect(result.data.projected).toBe(true);
    const after = await creatorScore();
    const tip = await findTipById(t.db, result.data.tip.id);
    expect(await t.runtime.deps.projections.apply(tip!)).toBe(false);
    expect(await t.runtime.deps.outbox.applyById(result.data.tip.id)).toBe("already-applied");
    expect(await creatorScore()).toBe(after);
  });

  it("QStash stopped at tip time: the relay publishes the pending row once QStash is back", async () => {
    const before = await creatorScore();
    await qstash.stop();
    cutAfterNextCommit = true;
    const response = await t.handler(
      tipRequest(token, `outbox-noqstash-${Date.now()}`, {
        streamId: stream.streamId,
        amount: 3.5,
      }),
    );
    const { result } = (await response.json()) as {
      result: { data: { tip: { id: number }; projected: boolean } };
    };
    expect(result.data.projected).toBe(false);
    proxy.restore();
    // The background publish fails (QStash is down): the row stays pending.
    await waitUntil(
      () =>
        t.logger.lines.some((line) => line.msg === "outbox publish failed; the relay retries it"),
      { timeoutMs: 45_000, what: "the failed publish" },
    );
    // Pending until the relay runs (a timed-out apply may still land once Redis returns: the
    // marker keeps it single, and the row stays pending until a delivery confirms it).
    expect(await countPendingOutbox(t.db)).toBe(1);
    await qstash.restart();
    await waitUntil(
      async () => {
        await t.runtime.deps.outbox.relay();
        return (await countPendingOutbox(t.db)) === 0;
      },
      { timeoutMs: 45_000, intervalMs: 500, what: "the relay to deliver the pending tip" },
    );
    expect(await creatorScore()).toBe(before + 350);
  });
});
