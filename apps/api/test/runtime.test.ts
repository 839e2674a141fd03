import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deletePrefix, openTestRedis, uniquePrefix } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRuntime } from "../src/deps.ts";
import { loadEnv } from "../src/env.ts";
import { silentLogger } from "../src/logger.ts";
import type { HotpathRedis } from "@hotpath/redis";

describe("createRuntime", () => {
  let redis: HotpathRedis;
  let scratch: string;
  const app = uniquePrefix("runtime");

  beforeAll(async () => {
    redis = openTestRedis("tcp");
    scratch = await mkdtemp(join(tmpdir(), "hotpath-runtime-"));
  });
  afterAll(async () => {
    await deletePrefix(redis, `${app}:`);
    await redis.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it("creates a nested PGlite folder that does not exist yet (mkdir -p)", async () => {
    const dataDir = join(scratch, "not", "there", "yet");
    const runtime = await createRuntime({
      env: loadEnv({ NODE_ENV: "test", HOTPATH_APP: app, DATA_DIR: dataDir }),
      redis,
      logger: silentLogger,
    });
    try {
      expect(await runtime.deps.db.health()).toMatchObject({ ok: true, kind: "pglite" });
      expect((await stat(join(dataDir, "pglite"))).isDirectory()).toBe(true);
    } finally {
      await runtime.close();
    }
  }, 120_000);

  it("defaults to production: no seed unless SEED=true, development only when asked", async () => {
    expect(loadEnv({}).NODE_ENV).toBe("production");
    const runtime = await createRuntime({
      env: loadEnv({ NODE_ENV: "test", HOTPATH_APP: app }),
      redis,
      logger: silentLogger,
    });
    try {
      expect(runtime.seed).toBeUndefined();
      expect(runtime.deps.settings.development).toBe(false);
    } finally {
      await runtime.close();
    }
  }, 60_000);
});
