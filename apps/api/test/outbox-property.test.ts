import type { TcpProxy } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countPendingOutbox } from "../src/db/outbox.ts";
import { openCuttableRedis, type CuttableRedis } from "./helpers/cuttable-redis.ts";
import { startLocalQStash, type LocalQStash } from "./helpers/qstash.ts";
import { liveStreamOf, openTestApi, tipRequest, type TestApi } from "./helpers/runtime.ts";
import { serveLazily } from "./helpers/serve.ts";
import { waitUntil } from "./helpers/wait.ts";

const TIPS = 100;

describe("outbox property: every committed tip is on the leaderboard exactly once", () => {
  let cuttable: CuttableRedis;
  let proxy: TcpProxy;
  let qstash: LocalQStash;
  let http: Awaited<ReturnType<typeof serveLazily>>;
  let t: TestApi;

  beforeAll(async () => {
    cuttable = await openCuttableRedis(500);
    proxy = cuttable.proxy;
    qstash = await startLocalQStash("outbox-prop-qstash");
    http = await serveLazily();
    t = await openTestApi({
      redis: cuttable.redis,
      rateLimitPolicies: { strict: "100000/1m", "plan:free": "100000/1m" },
      env: { REDIS_TIMEOUT_MS: "500", OUTBOX_RELAY_AFTER_SECONDS: "1" },
      runtime: { qstash: qstash.wiring(http.port, { retries: 100, retryDelay: "200000" }) },
    });
    http.serve((request) => t.handler(request));
  });

  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await http?.close();
    await qstash?.close();
    await cuttable?.close();
  });

  it(`${TIPS} concurrent tips with random Redis cuts: leaderboard total = PostgreSQL sum`, async () => {
    const token = await t.login("dave");
    const { streamId, creatorId } = await liveStreamOf(t.db, "alice");
    // The flapper cuts and restores Redis at random for a bounded number of flaps while the tips
    // are in flight. Each tip behaves as a real client does: a 503 (refused while Redis was cut,
    // nothing committed: idempotency fails closed) is retried with the same Idempotency-Key after
    // its Retry-After (retrying at once, 100 clients would flood the API on a loaded machine).
    // Once the flapper has finished, Redis stays up, so every tip ends with a final answer
    // whatever the random cuts hit.
    // Redis starts cut and stays cut until a tip has met the cut, so some tips are certainly
    // refused however slowly the first requests arrive.
    let flapsLeft = 60;
    let sawRefusal = () => {};
    const firstRefusal = new Promise<void>((resolve) => (sawRefusal = resolve));
    proxy.cut();
    const flapper = (async () => {
      await firstRefusal;
      while (flapsLeft-- > 0) {
        await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 80));
        if (Math.random() < 0.5) proxy.cut();
        else proxy.restore();
      }
      proxy.restore();
    })();
    let refusals = 0;
    const deadline = Date.now() + 60_000;
    // Final answers other than 200 (stored) and 409 (the key still held by an attempt that met a
    // cut), with their bodies: a 429 here would be a limiter deciding on something else than the
    // 100000/1m policies of this test.
    const unexpected: string[] = [];
    const statuses = await Promise.all(
      Array.from({ length: TIPS }, async (_, i) => {
        const key = `prop-${i}-${Date.now()}`;
        for (;;) {
          const response = await t.handler(
            tipRequest(token, key, { streamId, amount: 1 + (i % 7) }),
          );
          if (response.status !== 503 || Date.now() > deadline) {
            if (response.status !== 200 && response.status !== 409)
              unexpected.push(`${response.status} ${await response.text()}`);
            return response.status;
          }
          refusals += 1;
          sawRefusal();
          // As a real client: after the Retry-After the answer names, with jitter.
          const retryAfterMs = Number(response.headers.get("retry-after") ?? "0.2") * 1000;
          await new Promise((resolve) => setTimeout(resolve, retryAfterMs * (0.5 + Math.random())));
        }
      }),
    );
    sawRefusal(); // no tip met the cut: let the flapper end (the assertion below fails)
    await flapper;
    // The cuts did hit requests (else the test proves nothing), and every tip got a final answer.
    expect(refusals).toBeGreaterThan(0);
    expect(unexpected).toEqual([]);
    expect(statuses.filter((status) => status === 503)).toEqual([]);
    expect(statuses).toContain(200);
    const pgSum = async () =>
      (
        await t.db.query<{ cents: number }>(
          `select coalesce(sum((t.amount * 100)::int), 0)::int as cents
           from tips t join streams s on s.id = t.stream_id where s.creator_id = $1`,
          [creatorId],
        )
      )[0]?.cents ?? 0;
    const boardSum = async () => {
      const entry = await t.runtime.deps.projections.rank("creators", "alltime", String(creatorId));
      return entry?.score ?? 0;
    };
    await waitUntil(
      async () => {
        if ((await countPendingOutbox(t.db)) > 0) return false;
        // The client's breaker may still be open for a moment after the last cut.
        return (await boardSum().catch(() => -1)) === (await pgSum());
      },
      { timeoutMs: 45_000, intervalMs: 200, what: "every committed tip on the leaderboard" },
    );
    expect(await boardSum()).toBe(await pgSum());
    // Its own deadlines (60 s of retried tips, 45 s for the leaderboard) bound it, not vitest's.
  }, 120_000);
});
