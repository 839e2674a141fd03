import { startRedisServer, type RedisServerHandle } from "@hotpath/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createScratchDatabase,
  POSTGRES_REQUIRED,
  postgresAnswers,
  type ScratchDatabase,
} from "./helpers/postgres.ts";
import { startApiProcess, type ApiProcess } from "./helpers/processes.ts";

interface ErrorBody {
  error: { message: string; data: Record<string, unknown> };
}

// Under `pnpm test` a PostgreSQL is always provided; run alone without one, this is skipped (counted).
const skip = !POSTGRES_REQUIRED && !(await postgresAnswers());

// What a deployment gets when it sets nothing but where Redis and PostgreSQL are.
describe.skipIf(skip)("the API process with only REDIS_URL and DATABASE_URL set", () => {
  let redisServer: RedisServerHandle;
  let database: ScratchDatabase;
  let api: ApiProcess;

  beforeAll(async () => {
    // Its own Redis: the default key prefix `hotpath:` must not touch the shared test Redis.
    redisServer = await startRedisServer();
    database = await createScratchDatabase("proddefault");
    api = await startApiProcess({ REDIS_URL: redisServer.url, DATABASE_URL: database.url });
  });
  afterAll(async () => {
    const code = await api?.stop();
    await database?.drop();
    await redisServer?.stop();
    expect(code, api?.output()).toBe(0);
  });

  it("runs in production mode and seeds nothing: no demo user, no known password", async () => {
    expect(api.output()).not.toMatch(/hotpath-demo|seeded demo data/);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: string }>("select count(*) from users");
      expect(rows[0]?.count).toBe("0");
    } finally {
      await client.end();
    }
    const login = await fetch(`${api.url}/trpc/sessions.login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "hotpath-demo" }),
    });
    expect(login.status).toBe(401);
  });

  it("answers an internal error without a stack or the internal message", async () => {
    // Break the source of truth under the running API: the query fails inside the driver.
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query("alter table users rename to users_gone");
    } finally {
      await client.end();
    }
    const response = await fetch(
      `${api.url}/trpc/users.list?input=${encodeURIComponent(JSON.stringify({ page: 1 }))}`,
    );
    expect(response.status).toBe(500);
    const body = (await response.json()) as ErrorBody;
    expect(body.error.message).toBe("Internal server error");
    expect(body.error.data.stack).toBeUndefined();
    expect(JSON.stringify(body)).not.toMatch(/relation|does not exist|"stack"|\bat \/|\.ts:\d/);
  });
});
