import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { deletePrefix, freePort, openTestRedis, testTargets, uniquePrefix } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "./helpers/wait.ts";
import { TS_ENTRY_ARGS } from "@hotpath/testing";

const ROOT = fileURLToPath(new URL("../../..", import.meta.url));

// `pnpm dev` (scripts/dev.ts) as a user runs it: on free ports, its own key prefix and data folder.
describe("the dev stack (scripts/dev.ts)", () => {
  const app = uniquePrefix("devstack");
  let dataDir: string;
  let dev: ChildProcess;
  let output = "";
  let exited: Promise<number | null>;
  let apiPort: number;
  let readyzWhenUp: number | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "hotpath-dev-stack-"));
    apiPort = await freePort();
    dev = spawn(process.execPath, [...TS_ENTRY_ARGS, "scripts/dev.ts"], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/tmp",
        REDIS_URL: testTargets().redisUrl,
        HOTPATH_APP: app,
        DATA_DIR: dataDir,
        PASSWORD_ITERATIONS: "10000",
        PORT: String(apiPort),
        GATEWAY_PORT: String(await freePort()),
        DASHBOARD_PORT: String(await freePort()),
        SHUTDOWN_GRACE_SECONDS: "5",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    exited = new Promise((resolve) => dev.once("exit", (code) => resolve(code)));
    const onData = (chunk: Buffer) => {
      const before = output;
      output += chunk.toString();
      // Probe readiness at the moment the banner appears (not after the test's own wait).
      if (!before.includes("Hotpath is up") && output.includes("Hotpath is up")) {
        void fetch(`http://127.0.0.1:${apiPort}/readyz`)
          .then((response) => (readyzWhenUp = response.status))
          .catch(() => (readyzWhenUp = 0));
      }
    };
    dev.stdout?.on("data", onData);
    dev.stderr?.on("data", onData);
  });
  afterAll(async () => {
    if (dev?.exitCode === null) {
      dev.kill("SIGKILL");
      await exited;
    }
    const redis = openTestRedis("tcp");
    await deletePrefix(redis, `${app}:`).finally(() => redis.close());
    await rm(dataDir, { recursive: true, force: true });
  });

  it("says 'Hotpath is up' only once the API answers /readyz", async () => {
    await waitUntil(() => output.includes("Hotpath is up") || dev.exitCode !== null, {
      timeoutMs: 200_000,
      intervalMs: 100,
      what: "Hotpath is up",
    });
    expect(output, output).toContain("Hotpath is up");
    expect(output.indexOf("HOTPATH_API_READY")).toBeGreaterThanOrEqual(0);
    expect(output.indexOf("HOTPATH_API_READY")).toBeLessThan(output.indexOf("Hotpath is up"));
    await waitUntil(() => readyzWhenUp !== undefined, { what: "the /readyz probe" });
    expect(readyzWhenUp).toBe(200);
  }, 240_000);

  it("on Ctrl-C stops the API (drained, metrics flushed) before the gateway, and exits 0", async () => {
    dev.kill("SIGINT");
    const code = await exited;
    expect(code, output).toBe(0);
    // The API logs "stopped" after its drain and its final metrics flush (runtime.close()).
    const apiStopped = output.search(/"msg":"stopped"/);
    const gatewayStopped = output.indexOf("[dev] gateway stopped");
    expect(apiStopped, output).toBeGreaterThanOrEqual(0);
    expect(gatewayStopped, output).toBeGreaterThan(apiStopped);
    expect(output.indexOf("[dev] api stopped")).toBeLessThan(gatewayStopped);
    expect(output.indexOf("[dev] dashboard stopped")).toBeLessThan(gatewayStopped);
    await expect(fetch(`http://127.0.0.1:${apiPort}/healthz`)).rejects.toThrow();
  }, 120_000);
});
