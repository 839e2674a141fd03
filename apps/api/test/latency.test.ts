import { readLatency } from "@hotpath/cache";
import { latencySeries } from "@hotpath/config";
import { withRequester, type HotpathRedis } from "@hotpath/redis";
import { openTestRedis } from "@hotpath/testing";
import type { UpstashRequest } from "@upstash/redis";
import { readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LatencyReport } from "../src/latency/report.ts";
import {
  TEST_ADMIN_TOKEN,
  bearer,
  liveStreamOf,
  openTestApi,
  tipRequest,
  type TestApi,
} from "./helpers/runtime.ts";
import { parseExposition } from "./helpers/prometheus.ts";
import { waitUntil } from "./helpers/wait.ts";

const DELAY_MS = 200;
const GRAFANA_BOARD = new URL("../../../deploy/grafana/hotpath.json", import.meta.url);

/** A GET of a tRPC query through the fetch handler. */
function query(t: TestApi, path: string, input: unknown): Promise<Response> {
  return t.handler(
    new Request(`http://api.test/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`, {
      headers: { "x-forwarded-for": "10.20.30.40" },
    }),
  );
}

async function ok(response: Promise<Response>): Promise<void> {
  const answer = await response;
  expect(answer.status, await answer.clone().text()).toBe(200);
}

describe("latency histograms of the API (real Redis, PGlite)", () => {
  let t: TestApi;
  let report: LatencyReport;

  beforeAll(async () => {
    t = await openTestApi({ env: { TEST_PROCEDURE_DELAY: `users.byId=${DELAY_MS}` } });
    const ids = await t.db.query<{ id: number }>("select id from users order by id limit 3");
    for (let i = 0; i < 5; i++) await ok(query(t, "streams.status", { username: "alice" }));
    for (const { id } of ids) await ok(query(t, "users.byId", { id }));
    const token = await t.login("bob");
    const stream = await liveStreamOf(t.db, "alice");
    await ok(
      t.handler(tipRequest(token, "latency-tip-1", { streamId: stream.streamId, amount: 1 })),
    );
    const admin = t.caller(bearer(TEST_ADMIN_TOKEN)).api;
    // The histograms reach Redis in the next batched flush (100 ms here): wait for them.
    await waitUntil(
      async () => {
        report = await admin.metrics.latency({ minutes: 5 });
        const count = (path: string) =>
          report.procedures.find((p) => p.procedure === path)?.count ?? 0;
        return (
          count("streams.status") === 5 && count("users.byId") === 3 && count("tips.quick") === 1
        );
      },
      { what: "the latency histograms in Redis" },
    );
  }, 240_000);
  afterAll(() => t?.close());

  it("shows the procedure made slow on purpose at its delay, ahead of the fast ones", () => {
    const order = report.procedures.map((p) => p.procedure);
    const slow = report.procedures.find((p) => p.procedure === "users.byId");
    // Every call took at least the delay: its median is in the delay's bucket or above.
    expect(slow?.p50).toBeGreaterThanOrEqual(DELAY_MS);
    expect(slow?.p99).toBeGreaterThanOrEqual(slow?.p50 ?? Infinity);
    expect(slow?.meanMs).toBeGreaterThanOrEqual(DELAY_MS);
    // The cached status reads are faster at the median (their first, cold call may not be at p99).
    const status = report.procedures.find((p) => p.procedure === "streams.status");
    expect(status?.p50).toBeLessThan(slow?.p50 ?? 0);
    // Slowest first: the list is ordered by p99.
    expect(order).toContain("users.byId");
    const p99s = report.procedures.map((p) => p.p99 ?? 0);
    expect(p99s).toEqual([...p99s].sort((a, b) => b - a));
  });

  it("gives each procedure its per-minute series, adding up to its count", () => {
    for (const procedure of report.procedures) {
      expect(procedure.series.length).toBeGreaterThan(0);
      expect(procedure.series.reduce((sum, point) => sum + point.count, 0)).toBe(procedure.count);
    }
  });

  it("splits a procedure's time into Redis and database waits", () => {
    const of = (path: string) => report.procedures.find((p) => p.procedure === path);
    // users.byId: cache misses loaded from PostgreSQL; the delay is neither Redis nor the database.
    const byId = of("users.byId");
    expect(byId?.dbMeanMs).toBeGreaterThan(0);
    expect(byId?.redisMeanMs).toBeGreaterThan(0);
    expect(byId?.share?.other).toBeGreaterThan(0.5);
    // tips.quick: one transaction, then projections, idempotency and the rate limit in Redis.
    const tip = of("tips.quick");
    expect(tip?.dbMeanMs).toBeGreaterThan(0);
    expect(tip?.redisMeanMs).toBeGreaterThan(0);
    for (const procedure of report.procedures) {
      const share = procedure.share;
      expect(share).not.toBeNull();
      expect((share?.redis ?? 0) + (share?.db ?? 0) + (share?.other ?? 0)).toBeGreaterThan(0.99);
      expect((procedure.redisMeanMs ?? 0) + (procedure.dbMeanMs ?? 0)).toBeLessThanOrEqual(
        2 * (procedure.meanMs ?? 0),
      );
    }
    // streams.status never reads PostgreSQL on a cache hit, so its database time is at most the first load's.
    const status = of("streams.status");
    expect(status?.redisMeanMs).toBeGreaterThan(0);
  });

  it("/metrics exposes them as Prometheus histograms (buckets in seconds, _sum, _count)", async () => {
    const response = await t.handler(
      new Request("http://api.test/metrics", { headers: bearer(TEST_ADMIN_TOKEN) }),
    );
    expect(response.status).toBe(200);
    const { samples, types } = parseExposition(await response.text());
    const family = "hotpath_procedure_duration_seconds";
    expect(types.get(family)).toBe("histogram");
    expect(types.get("hotpath_redis_operation_duration_seconds")).toBe("histogram");
    expect(types.get("hotpath_procedure_db_seconds")).toBe("histogram");
    const of = (name: string, procedure: string) =>
      samples.filter((s) => s.name === name && s.labels.procedure === procedure);
    const buckets = of(`${family}_bucket`, "users.byId");
    const count = of(`${family}_count`, "users.byId")[0]?.value;
    expect(count).toBe(3);
    // Cumulative, ending at +Inf with the count; nothing at or under 0.2 s (each call was delayed 0.2 s).
    const values = buckets.map((b) => b.value);
    expect(values).toEqual([...values].sort((a, b) => a - b));
    expect(buckets.at(-1)?.labels.le).toBe("+Inf");
    expect(buckets.at(-1)?.value).toBe(count);
    expect(buckets.find((b) => b.labels.le === "0.2")?.value).toBe(0);
    expect(of(`${family}_sum`, "users.byId")[0]?.value).toBeGreaterThanOrEqual(
      3 * (DELAY_MS / 1000),
    );
    expect(of(`${family}_count`, "streams.status")[0]?.value).toBe(5);
    const claims = samples.find(
      (s) =>
        s.name === "hotpath_redis_operation_duration_seconds_count" &&
        s.labels.operation === "idempotency_claim",
    );
    expect(claims?.value).toBe(1);
  });

  it("the Grafana board (deploy/grafana/hotpath.json) queries only metrics /metrics exports", async () => {
    const board = JSON.parse(await readFile(GRAFANA_BOARD, "utf8")) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const response = await t.handler(
      new Request("http://api.test/metrics", { headers: bearer(TEST_ADMIN_TOKEN) }),
    );
    const { samples, types } = parseExposition(await response.text());
    const exported = (name: string): boolean => {
      if (types.has(name) || samples.some((sample) => sample.name === name)) return true;
      const family = name.replace(/_(bucket|sum|count)$/, "");
      return family !== name && types.get(family) === "histogram";
    };
    const queried = board.panels.flatMap((panel) =>
      panel.targets.flatMap((target) => target.expr.match(/\bhotpath_[a-z0-9_]+/g) ?? []),
    );
    expect(board.panels.length).toBeGreaterThan(0);
    expect(queried).toEqual(
      expect.arrayContaining([
        "hotpath_procedure_duration_seconds_bucket",
        "hotpath_cache_hits_total",
        "hotpath_ratelimit_events_total",
        "hotpath_jobs_events_total",
      ]),
    );
    expect(queried.filter((name) => !exported(name))).toEqual([]);
  });

  it("times the Redis operation groups", () => {
    const operation = (name: string) => report.operations.find((o) => o.operation === name);
    // 5 status reads + 3 user reads; rate-limit checks of every limited call; one claim.
    expect(operation("cache_read")?.count).toBeGreaterThanOrEqual(8);
    expect(operation("ratelimit_check")?.count).toBeGreaterThanOrEqual(9);
    expect(operation("idempotency_claim")?.count).toBe(1);
    for (const found of report.operations) expect(found.p50).not.toBeNull();
  });
});

/** A Redis client that logs the commands of each round trip while `log` is set. */
function countingRedis(): {
  redis: HotpathRedis;
  start(): void;
  stop(): string[];
  inFlight(): number;
} {
  const base = openTestRedis("tcp");
  let log: string[] | undefined;
  let inFlight = 0;
  const describe = (req: UpstashRequest): string => {
    const name = (command: unknown) =>
      Array.isArray(command) ? String(command[0]).toUpperCase() : "?";
    const endpoint = req.path?.[0] ?? "";
    if (endpoint === "") return name(req.body);
    const commands = Array.isArray(req.body) ? (req.body as unknown[]) : [];
    return `${endpoint}[${commands.map(name).join(",")}]`;
  };
  const redis = withRequester(base, (inner) => ({
    request: <T>(req: UpstashRequest) => {
      log?.push(describe(req));
      inFlight += 1;
      return inner.request<T>(req).finally(() => (inFlight -= 1));
    },
  }));
  return {
    redis,
    start: () => void (log = []),
    stop() {
      const logged = log ?? [];
      log = undefined;
      return logged;
    },
    inFlight: () => inFlight,
  };
}

/** How the limiter's background re-read of its deny list and overrides shows in a command log. */
const CONTROLS_REFRESH = "pipeline[SMEMBERS,HGETALL]";

describe("Redis commands on the caller's path: the same with latency histograms on and off", () => {
  const apis: { t: TestApi; counter: ReturnType<typeof countingRedis>; token: string }[] = [];

  beforeAll(async () => {
    for (const histograms of ["true", "false"]) {
      const counter = countingRedis();
      const t = await openTestApi({
        redis: counter.redis,
        env: { LATENCY_HISTOGRAMS: histograms },
        // No timed metric flush in the middle of a measured call: every batch waits for close().
        runtime: { metricsFlushMs: 3_600_000 },
      });
      apis.push({ t, counter, token: await t.login("bob") });
    }
  }, 240_000);
  afterAll(async () => {
    for (const { t, counter } of apis) {
      await t.close();
      await counter.redis.close();
    }
  });

  it("sends the same round trips for status reads, a cache miss to PostgreSQL and a tip", async () => {
    const stream = await liveStreamOf(apis[0]?.t.db as TestApi["db"], "alice");
    const scenarios: [string, (t: TestApi, token: string, round: string) => Promise<Response>][] = [
      [
        "streams.status (miss)",
        (t, _, round) =>
          query(t, "streams.status", { username: round === "warm" ? "alice" : "carol" }),
      ],
      [
        "users.byId (miss)",
        (t, _, round) => query(t, "users.byId", { id: round === "warm" ? 1 : 4 }),
      ],
      [
        "tips.quick",
        (t, token, round) =>
          t.handler(
            tipRequest(token, `latency-cmds-${round}`, { streamId: stream.streamId, amount: 1 }),
          ),
      ],
    ];
    const logs = new Map<string, string[][]>();
    for (const round of ["warm", "measured"]) {
      for (const [name, send] of scenarios) {
        for (const { t, counter, token } of apis) {
          // Background work of the previous call (cache writes after the response) has landed.
          await new Promise((resolve) => setImmediate(resolve));
          await waitUntil(() => counter.inFlight() === 0, { what: "Redis to go quiet" });
          counter.start();
          const response = await send(t, token, round);
          // The rate limiter re-reads its deny list and overrides (one SMEMBERS + HGETALL
          // pipeline) in the background every 5 s of wall time, started by whichever call comes
          // next and not awaited by it: background work, not the caller's path, and present in
          // one API's log and not the other's depending on where the clock falls.
          const log = counter.stop().filter((entry) => entry !== CONTROLS_REFRESH);
          expect(response.status, `${name}: ${await response.clone().text()}`).toBe(200);
          if (round === "measured") logs.set(name, [...(logs.get(name) ?? []), log]);
        }
      }
    }
    for (const [name, [on, off]] of logs) {
      expect(on?.length, name).toBeGreaterThan(0);
      expect(on, name).toEqual(off);
      expect(on?.join(" "), name).not.toMatch(/HINCRBY/);
    }
    // And the histograms were recorded all along: close() flushes the batch.
    const [on, off] = apis;
    for (const api of [on, off]) await api?.t.runtime.close();
    const rows = async (app: string) =>
      (
        await readLatency(on?.t.redis as HotpathRedis, { app, sinceMs: Date.now() - 10 * 60_000 })
      ).map((row) => row.series);
    expect(await rows(on?.t.app ?? "")).toEqual(
      expect.arrayContaining([
        latencySeries("procedure", "streams.status"),
        latencySeries("procedure_db", "users.byId"),
        latencySeries("redis", "idempotency_claim"),
      ]),
    );
    expect(await rows(off?.t.app ?? "")).toEqual([]);
  });
});
