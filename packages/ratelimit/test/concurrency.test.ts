import {
  TRANSPORTS,
  openTestRedis,
  deletePrefix,
  testTargets,
  uniquePrefix,
} from "@hotpath/testing";
import type { HotpathRedis } from "@hotpath/redis";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreateRateLimiterOptions } from "../src/index.ts";
import { sleep } from "./helpers.ts";
import { TS_ENTRY_ARGS } from "@hotpath/testing";

const CHILD = fileURLToPath(new URL("./fixtures/concurrent-child.ts", import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const PROCESSES = 4;
const PER_PROCESS = 250;
const LIMIT = 100;

const POLICIES = {
  fixed: { limit: LIMIT, window: "1d", algorithm: "fixedWindow" },
  sliding: { limit: LIMIT, window: "1d", algorithm: "slidingWindow" },
  log: { limit: LIMIT, window: "1d", algorithm: "slidingWindowLog" },
  bucket: { limit: LIMIT, window: "1d", algorithm: "tokenBucket" },
  daily: { limit: 1000, window: "1d", algorithm: "fixedWindow" },
} as const satisfies CreateRateLimiterOptions["policies"];

interface Tally {
  allowed: number;
  blocked: number;
  fallback: number;
  cacheBlock: number;
}

/** Runs 4 processes x 250 concurrent checks for one identifier and sums their tallies. */
async function runProcesses(args: Record<string, unknown>): Promise<Tally> {
  const children = Array.from({ length: PROCESSES }, () =>
    spawn(process.execPath, [...TS_ENTRY_ARGS, CHILD, JSON.stringify(args)], {
      cwd: PACKAGE_DIR,
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
  const outputs = children.map(
    (child) =>
      new Promise<string[]>((resolve, reject) => {
        let stdout = "";
        let stderr = "";
        const timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(new Error(`child timed out; stderr: ${stderr}`));
        }, 90_000);
        child.stdout.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          child.emit("progress", stdout);
        });
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        child.once("exit", (code) => {
          clearTimeout(timer);
          if (code === 0) resolve(stdout.trim().split("\n"));
          else reject(new Error(`child exited with ${String(code)}: ${stderr}`));
        });
      }),
  );
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.on("progress", (stdout: string) => {
            if (stdout.includes("ready\n")) resolve();
          });
        }),
    ),
  );
  for (const child of children) child.stdin.write("go\n");
  const lines = await Promise.all(outputs);
  const total: Tally = { allowed: 0, blocked: 0, fallback: 0, cacheBlock: 0 };
  for (const output of lines) {
    const tally = JSON.parse(output.at(-1) ?? "{}") as Tally;
    total.allowed += tally.allowed;
    total.blocked += tally.blocked;
    total.fallback += tally.fallback;
    total.cacheBlock += tally.cacheBlock;
  }
  return total;
}

const DAY_MS = 86_400_000;

/**
 * Keeps a run inside one day-long window (the windows are epoch aligned): a run starting within
 * 3 minutes of midnight UTC first waits for it (a run takes ~15 s, 90 s at most per child).
 */
async function awayFromDayBoundary(): Promise<void> {
  const untilBoundary = DAY_MS - (Date.now() % DAY_MS);
  if (untilBoundary < 180_000) await sleep(untilBoundary + 100);
}

describe.each(TRANSPORTS)(
  "accuracy under concurrency over %s: 1,000 requests from 4 processes, limit 100",
  (transport) => {
    let redis: HotpathRedis;
    const prefixes: string[] = [];
    const target = () => {
      const { redisUrl, gatewayUrl, gatewayToken } = testTargets();
      return transport === "tcp" ? { url: redisUrl } : { url: gatewayUrl, token: gatewayToken };
    };
    const run = async (policy: string | string[]) => {
      const prefix = uniquePrefix(`rl-conc-${transport}`);
      prefixes.push(prefix);
      await awayFromDayBoundary();
      const tally = await runProcesses({
        ...target(),
        prefix,
        policies: POLICIES,
        policy,
        identifier: "hot",
        count: PER_PROCESS,
      });
      expect(tally.fallback).toBe(0);
      expect(tally.allowed + tally.blocked).toBe(PROCESSES * PER_PROCESS);
      return tally;
    };

    beforeAll(() => {
      redis = openTestRedis(transport);
    });
    afterAll(async () => {
      for (const prefix of prefixes) await deletePrefix(redis, prefix);
      await redis.close();
    });

    it("fixed window allows exactly 100", { timeout: 240_000 }, async () => {
      expect((await run("fixed")).allowed).toBe(LIMIT);
    });

    it("token bucket allows exactly 100", { timeout: 240_000 }, async () => {
      expect((await run("bucket")).allowed).toBe(LIMIT);
    });

    it(
      "sliding window stays within its documented bound (exactly the limit inside one window)",
      { timeout: 240_000 },
      async () => {
        // Documented bound: the current window's count never exceeds the limit; with no previous
        // window (fresh keys, the run inside one window) that is exactly the limit.
        expect((await run("sliding")).allowed).toBe(LIMIT);
      },
    );

    it("sliding window log (exact) allows exactly 100", { timeout: 240_000 }, async () => {
      expect((await run("log")).allowed).toBe(LIMIT);
    });

    it(
      "several policies in one script (token bucket 100 + daily 1000) allow exactly 100",
      { timeout: 240_000 },
      async () => {
        expect((await run(["bucket", "daily"])).allowed).toBe(LIMIT);
      },
    );
  },
);
