import { deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import type { PolicyInput } from "@hotpath/ratelimit";
import { createRuntime, type ApiRuntime, type CreateRuntimeOptions } from "../../src/deps.ts";
import type { Database } from "../../src/db/database.ts";
import { openPgliteDatabase } from "../../src/db/pglite.ts";
import { loadEnv } from "../../src/env.ts";
import { createFetchHandler, type FetchHandler } from "../../src/http/handler.ts";
import { createMemoryLogger } from "../../src/logger.ts";
import { createContextInner } from "../../src/trpc/context.ts";
import { createCaller } from "../../src/trpc/router.ts";

/** The admin token of test runtimes. */
export const TEST_ADMIN_TOKEN = "test-admin-token-0123456789";

/** A test API: real Redis (its own key prefix), in-memory PGlite, seeded demo data. */
export interface TestApi {
  runtime: ApiRuntime;
  redis: HotpathRedis;
  db: Database;
  app: string;
  handler: FetchHandler;
  logger: ReturnType<typeof createMemoryLogger>;
  /** A server-side caller with these request headers (resHeaders are returned for assertions). */
  caller(headers?: Record<string, string>): {
    api: ReturnType<typeof createCaller>;
    resHeaders: Headers;
  };
  /** Logs in (via the router) and returns the session token. */
  login(username: string): Promise<string>;
  /** Deletes the prefix's keys, closes everything. */
  close(): Promise<void>;
}

/** Options of {@link openTestApi}. */
export interface TestApiOptions {
  transport?: "tcp" | "rest";
  redis?: HotpathRedis;
  rateLimitPolicies?: Record<string, PolicyInput>;
  env?: Record<string, string>;
  db?: Database;
  /** QStash wiring, test hooks and the metrics flush interval (100 ms unless given) of the runtime. */
  runtime?: Pick<CreateRuntimeOptions, "qstash" | "onTipCommitted" | "metricsFlushMs">;
}

/** Builds a {@link TestApi}. */
export async function openTestApi(options: TestApiOptions = {}): Promise<TestApi> {
  const app = uniquePrefix("api");
  const redis = options.redis ?? openTestRedis(options.transport ?? "tcp");
  const db = options.db ?? (await openPgliteDatabase());
  const logger = createMemoryLogger();
  const env = loadEnv({
    NODE_ENV: "test",
    HOTPATH_APP: app,
    PASSWORD_ITERATIONS: "10000",
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    TRUSTED_PROXY_COUNT: "1",
    ...options.env,
  });
  const runtime = await createRuntime({
    env,
    redis,
    db,
    logger,
    seed: true,
    metricsFlushMs: 100,
    ...options.runtime,
    ...(options.rateLimitPolicies ? { rateLimitPolicies: options.rateLimitPolicies } : {}),
  });
  const handler = createFetchHandler({
    deps: runtime.deps,
    waitUntil: runtime.waitUntil,
    collectors: runtime.collectors,
  });
  const caller = (headers: Record<string, string> = {}) => {
    const resHeaders = new Headers();
    const ctx = createContextInner({
      deps: runtime.deps,
      headers: new Headers(headers),
      resHeaders,
      peerIp: "127.0.0.1",
      waitUntil: runtime.waitUntil,
    });
    return { api: createCaller(ctx), resHeaders };
  };
  return {
    runtime,
    redis,
    db,
    app,
    handler,
    logger,
    caller,
    async login(username) {
      const { api } = caller({
        "x-forwarded-for": `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
      });
      const result = await api.sessions.login({ username, password: "hotpath-demo" });
      return result.token;
    },
    async close() {
      await runtime.close();
      await deletePrefix(redis, `${app}:`).catch(() => undefined);
      if (!options.redis) await redis.close();
      if (!options.db) await db.close();
    },
  };
}

/** Headers of a bearer-authenticated call. */
export function bearer(token: string, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...extra };
}

/** A tRPC mutation request for the fetch handler (POST JSON body). */
export function trpcMutation(
  path: string,
  input: unknown,
  headers: Record<string, string> = {},
): Request {
  return new Request(`http://api.test/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(input),
  });
}

/** A tRPC query request for the fetch handler (GET with the input in the query string). */
export function trpcQuery(
  path: string,
  input: unknown,
  headers: Record<string, string> = {},
): Request {
  return new Request(
    `http://api.test/trpc/${path}?input=${encodeURIComponent(JSON.stringify(input))}`,
    { headers },
  );
}

/** A `tips.quick` request from `token` with an Idempotency-Key. */
export function tipRequest(
  token: string,
  idempotencyKey: string,
  input: { streamId: number; amount: number },
): Request {
  return trpcMutation("tips.quick", input, bearer(token, { "idempotency-key": idempotencyKey }));
}

/** Id and creator id of the live stream of a seeded creator. */
export async function liveStreamOf(
  db: Database,
  username: string,
): Promise<{ streamId: number; creatorId: number }> {
  const rows = await db.query<{ id: number; creator_id: number }>(
    "select s.id, s.creator_id from streams s join users u on u.id = s.creator_id where u.username = $1 and s.live",
    [username],
  );
  const row = rows[0];
  if (!row) throw new Error(`the seed has no live stream of ${username}`);
  return { streamId: row.id, creatorId: row.creator_id };
}
