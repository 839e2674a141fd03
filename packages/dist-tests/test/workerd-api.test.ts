import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openPostgresDatabase } from "@hotpath/api";
import { deletePrefix, freePort, openTestRedis, testTargets, uniquePrefix } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  bundleWorker,
  startWorkerd,
  writeWorkerdConfig,
  type RunningWorkerd,
  type WorkerBundle,
} from "./workerd.ts";

const ENTRY = join(import.meta.dirname, "..", "fixtures", "api-worker", "worker.ts");
/** The PostgreSQL the API tests use (`pnpm test` provides it; trust auth, database `test`). */
const POSTGRES_URL =
  process.env.HOTPATH_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const trpcInput = (input: unknown) => encodeURIComponent(JSON.stringify(input));

describe("the whole API fetch handler in workerd (node-postgres over workerd sockets, Redis over REST)", () => {
  const app = uniquePrefix("workerd-api");
  const schema = `workerd_api_${randomBytes(4).toString("hex")}`;
  const redis = openTestRedis("tcp");
  let dir: string;
  let bundle: WorkerBundle;
  let worker: RunningWorkerd;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hotpath-workerd-api-"));
    bundle = await bundleWorker(ENTRY, dir, { node: true });
    const { gatewayUrl, gatewayToken } = testTargets();
    const port = await freePort();
    const config = await writeWorkerdConfig({
      dir,
      address: `127.0.0.1:${port}`,
      entrypoint: "api",
      // nodejs_compat is on by default at the package's compatibility date.
      bindings: {
        NODE_ENV: "production",
        UPSTASH_REDIS_REST_URL: gatewayUrl,
        UPSTASH_REDIS_REST_TOKEN: gatewayToken,
        DATABASE_URL: POSTGRES_URL,
        DATABASE_SCHEMA: schema,
        HOTPATH_APP: app,
        SEED: "true",
        // Cloudflare's hosted runtime caps PBKDF2 at 100,000 iterations.
        PASSWORD_ITERATIONS: "100000",
        LOG_LEVEL: "silent",
      },
    });
    worker = await startWorkerd(config, `http://127.0.0.1:${port}`, {
      readyPath: "/readyz",
      timeoutMs: 60_000,
    });
  });

  afterAll(async () => {
    await worker?.stop();
    const db = await openPostgresDatabase({ url: POSTGRES_URL, max: 1 });
    try {
      await db.query(`drop schema if exists ${schema} cascade`);
      await deletePrefix(redis, `${app}:`);
    } finally {
      await db.close();
      await redis.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });

  const call = (path: string, init?: RequestInit) => fetch(`${worker.url}${path}`, init);
  const mutate = (procedure: string, input: unknown, headers: Record<string, string> = {}) =>
    call(`/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(input),
    });

  it("bundles the API with node-postgres's Workers socket and no TCP Redis client", async () => {
    expect(bundle.inputs.some((input) => input.includes("/pg-cloudflare/"))).toBe(true);
    expect(bundle.inputs.some((input) => input.includes("/ioredis/"))).toBe(false);
    const ready = (await (await call("/readyz")).json()) as {
      ok: boolean;
      redis: { transport: string };
      db: { kind: string };
    };
    expect(ready).toMatchObject({
      ok: true,
      redis: { ok: true, transport: "rest" },
      db: { ok: true, kind: "postgres" },
    });
  });

  it("serves streams.status from PostgreSQL, then from the cache, with rate-limit headers", async () => {
    const path = `/trpc/streams.status?input=${trpcInput({ username: "alice" })}`;
    const first = await call(path);
    const second = await call(path);
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("miss");
    expect(second.headers.get("x-cache")).toBe("hit");
    expect(second.headers.get("ratelimit-policy")).toMatch(/^"generous";q=\d+;w=60$/);
    const body = (await second.json()) as { result: { data: { creator: { username: string } } } };
    expect(body.result.data.creator.username).toBe("alice");
    await first.body?.cancel();
  });

  it("logs in and replays an idempotent tips.quick", async () => {
    const login = await mutate("sessions.login", { username: "bob", password: "hotpath-demo" });
    expect(login.status).toBe(200);
    const { token } = ((await login.json()) as { result: { data: { token: string } } }).result.data;
    const headers = { authorization: `Bearer ${token}`, "idempotency-key": "workerd-tip-1" };
    const first = await mutate("tips.quick", { streamId: 1, amount: 5 }, headers);
    const again = await mutate("tips.quick", { streamId: 1, amount: 5 }, headers);
    expect(first.status).toBe(200);
    expect(again.status).toBe(200);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const tip = (body: unknown) => (body as { result: { data: { tip: { id: number } } } }).result;
    const created = tip(await first.json());
    expect(tip(await again.json())).toEqual(created);
  });

  it("answers 429 with the IETF RateLimit fields once the AUTH limit is spent", async () => {
    let blocked: Response | undefined;
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 10 && blocked === undefined; attempt += 1) {
      const response = await mutate("sessions.login", { username: "bob", password: "wrong-one" });
      statuses.push(response.status);
      if (response.status === 429) blocked = response;
      else await response.body?.cancel();
    }
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
    expect(blocked?.status).toBe(429);
    expect(blocked?.headers.get("ratelimit-policy")).toMatch(/^"AUTH";q=\d+;w=\d+$/);
    expect(blocked?.headers.get("ratelimit")).toMatch(/^"AUTH";r=0;t=\d+$/);
    expect(Number(blocked?.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
