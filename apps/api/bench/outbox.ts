/**
 * Outbox latency benchmark (`tsx bench/outbox.ts`, also a section of `bench/index.ts`): the p50
 * of one `tips.quick` with the transactional outbox against the pre-outbox path, measured in the
 * same run, same process, same Redis and database, in interleaved rounds. The API runs in-process
 * (its fetch handler, no HTTP: the socket would only add the same noise to both); Redis is a
 * redis-server started here over TCP, PostgreSQL is in-memory PGlite. The pre-outbox path is the
 * same code with the outbox's statements skipped at the database (the tip row's insert, the inline
 * apply and the invalidations stay), so the difference is exactly what the outbox adds.
 */
import { pathToFileURL } from "node:url";
import { createRedis } from "@hotpath/redis";
import { startRedisServer } from "@hotpath/testing";
import type { Database, SqlExecutor } from "../src/db/database.ts";
import { openPgliteDatabase } from "../src/db/pglite.ts";
import { createRuntime } from "../src/deps.ts";
import { loadEnv } from "../src/env.ts";
import { createFetchHandler } from "../src/http/handler.ts";
import { createMemoryLogger } from "../src/logger.ts";

// Many short rounds: on a loaded machine, load drifts within seconds; pairs of 20-tip blocks
// measured back to back see the same load.
const ROUNDS = 60;
const TIPS_PER_ROUND = 20;
const WARMUP = 100;
const OUTBOX_SQL = /^\s*(insert into|update) tip_outbox\b/i;

const log = (message: string) => process.stderr.write(`[bench outbox] ${message}\n`);

/** The database, with the outbox's statements skipped while `enabled()` is false. */
function switchableOutbox(db: Database, enabled: () => boolean): Database {
  const wrap = (executor: SqlExecutor): SqlExecutor => ({
    query: (sql, params) =>
      !enabled() && OUTBOX_SQL.test(sql) ? Promise.resolve([]) : executor.query(sql, params),
  });
  return {
    kind: db.kind,
    query: (sql, params) => wrap(db).query(sql, params),
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    exec: (sql) => db.exec(sql),
    health: () => db.health(),
    close: () => db.close(),
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** Runs the benchmark and returns its markdown section. */
export async function outboxLatencySection(): Promise<string> {
  const server = await startRedisServer();
  const redis = createRedis({ url: `redis://127.0.0.1:${server.port}` });
  const memory = await openPgliteDatabase();
  let outbox = true;
  const db = switchableOutbox(memory, () => outbox);
  const runtime = await createRuntime({
    env: loadEnv({ NODE_ENV: "production", HOTPATH_APP: "bench", PASSWORD_ITERATIONS: "10000" }),
    redis,
    db,
    logger: createMemoryLogger(),
    seed: true,
    // Far above the load: every tip is measured on its allowed path.
    rateLimitPolicies: {
      strict: "1000000000/1m",
      "plan:free": "1000000000/1m",
      "plan:pro": "1000000000/1m",
    },
  });
  try {
    const handler = createFetchHandler({ deps: runtime.deps, waitUntil: runtime.waitUntil });
    const call = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      handler(
        new Request(`http://bench.local/trpc/${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...headers },
          body: JSON.stringify(body),
        }),
        { peerIp: "127.0.0.1" },
      );
    const login = await call("sessions.login", { username: "dave", password: "hotpath-demo" });
    const { result } = (await login.json()) as { result: { data: { token: string } } };
    const [stream] = await memory.query<{ id: number }>(
      "select s.id from streams s join users u on u.id = s.creator_id where u.username = 'alice' and s.live",
    );
    let key = 0;
    const tip = async (): Promise<number> => {
      key += 1;
      const started = performance.now();
      const response = await call(
        "tips.quick",
        { streamId: stream?.id, amount: 1 },
        { authorization: `Bearer ${result.data.token}`, "idempotency-key": `bench-${key}` },
      );
      await response.arrayBuffer();
      const elapsed = performance.now() - started;
      if (response.status !== 200) throw new Error(`tips.quick answered ${response.status}`);
      return elapsed;
    };
    for (let i = 0; i < WARMUP; i++) {
      outbox = i % 2 === 0;
      await tip();
    }
    const samples = { outbox: [] as number[], inline: [] as number[] };
    const roundP50 = { outbox: [] as number[], inline: [] as number[] };
    for (let round = 1; round <= ROUNDS; round++) {
      // Alternate which mode goes first, so drift over the run hits both alike.
      for (const mode of round % 2 === 0 ? ["inline", "outbox"] : ["outbox", "inline"]) {
        outbox = mode === "outbox";
        if (mode === "outbox" && round % 10 === 0) log(`round ${round}/${ROUNDS}`);
        const times: number[] = [];
        for (let i = 0; i < TIPS_PER_ROUND; i++) times.push(await tip());
        samples[mode as "outbox" | "inline"].push(...times);
        roundP50[mode as "outbox" | "inline"].push(percentile(times, 0.5));
      }
    }
    const [pending] = await memory.query<{ n: number }>(
      "select count(*)::int as n from tip_outbox where state = 'pending'",
    );
    const p50 = {
      outbox: percentile(samples.outbox, 0.5),
      inline: percentile(samples.inline, 0.5),
    };
    const p99 = {
      outbox: percentile(samples.outbox, 0.99),
      inline: percentile(samples.inline, 0.99),
    };
    const ratios = roundP50.outbox.map((value, index) => value / (roundP50.inline[index] ?? value));
    const quartiles = [0.25, 0.5, 0.75].map((q) => percentile(ratios, q).toFixed(2));
    const ratio = p50.outbox / p50.inline;
    const medianRatio = percentile(ratios, 0.5);
    return [
      "### `tips.quick`: the transactional outbox vs the pre-outbox path",
      "",
      `One process, its fetch handler called in sequence (no HTTP), own redis-server over TCP, in-memory PGlite;`,
      `${ROUNDS} interleaved rounds × ${TIPS_PER_ROUND} tips per path (after ${WARMUP} warm-up tips), same run.`,
      "Pre-outbox = the same code with the `tip_outbox` insert (in the tip's transaction) and the",
      "`done` and fan-out-done updates (off the critical path) skipped at the database; the per-tip applied marker lives in",
      "the same Lua script as the increments, so both paths pay it.",
      "",
      "| path | tips | p50 ms | p99 ms |",
      "|---|---:|---:|---:|",
      `| pre-outbox (tip row + inline apply) | ${samples.inline.length} | ${p50.inline.toFixed(2)} | ${p99.inline.toFixed(2)} |`,
      `| outbox (tip row + outbox row in one transaction, inline apply, row marked done, fan-out marked done) | ${samples.outbox.length} | ${p50.outbox.toFixed(2)} | ${p99.outbox.toFixed(2)} |`,
      "",
      `p50 outbox / pre-outbox over all tips: **${ratio.toFixed(2)}x** (target ≤ 1.1x); median of the per-round` +
        ` ratios ${medianRatio.toFixed(2)}x (quartiles ${quartiles.join(" / ")}).` +
        ` Outbox rows left pending after the run: ${pending?.n ?? "?"}.`,
      "",
    ].join("\n");
  } finally {
    await runtime.close();
    await redis.close();
    await memory.close();
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  outboxLatencySection().then(
    (section) => process.stdout.write(`${section}\n`),
    (error: unknown) => {
      process.stderr.write(
        `[bench outbox] failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
