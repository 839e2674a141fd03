import { TS_ENTRY_ARGS } from "@hotpath/testing";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { CreateRateLimiterOptions } from "../src/index.ts";

const CHILD = fileURLToPath(new URL("./fixtures/concurrent-child.ts", import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

/** Decisions of the child processes, summed. */
export interface Tally {
  allowed: number;
  blocked: number;
  fallback: number;
  cacheBlock: number;
}

/** What every child of {@link runLimitProcesses} gets (see fixtures/concurrent-child.ts). */
export interface LimitProcessArgs {
  /** Any URL `createRedis` takes: `redis://`, `redis+cluster://` or a gateway's `http://`. */
  url: string;
  token?: string;
  prefix: string;
  policies: NonNullable<CreateRateLimiterOptions["policies"]>;
  policy: string | string[];
  identifier: string;
  /** Concurrent checks per process. */
  count: number;
  /**
   * The children's clock when they start (ms epoch): their `Date.now()` runs from it at real speed, so
   * upstream's scripts and the limiter decide at a known place in the window, wherever the wall
   * clock is.
   */
  now: number;
}

const DAY_MS = 86_400_000;

/**
 * Noon UTC of the day after tomorrow: a clock for the children that is hours away from a day
 * window's edges (a run takes seconds), and ahead of the real clock (relative expiries hold).
 */
export function midDay(): number {
  return (Math.floor(Date.now() / DAY_MS) + 2) * DAY_MS + DAY_MS / 2;
}

/** Runs `processes` children, each firing `args.count` concurrent checks at once on "go"; sums their tallies. */
export async function runLimitProcesses(
  processes: number,
  args: LimitProcessArgs,
  timeoutMs = 90_000,
): Promise<Tally> {
  const children = Array.from({ length: processes }, () =>
    spawn(process.execPath, [...TS_ENTRY_ARGS, CHILD, JSON.stringify(args)], {
      cwd: PACKAGE_DIR,
      stdio: ["pipe", "pipe", "pipe"],
    }),
  );
  const ready: Promise<void>[] = [];
  const outputs = children.map((child) => {
    let signalReady = () => {};
    ready.push(new Promise<void>((resolve) => (signalReady = resolve)));
    return new Promise<string[]>((resolve, reject) => {
      let stdout = "";
      let stderr = "";
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`child timed out; stderr: ${stderr}`));
      }, timeoutMs);
      child.stdout.on("data", (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes("ready\n")) signalReady();
      });
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      child.once("exit", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout.trim().split("\n"));
        else reject(new Error(`child exited with ${String(code)}: ${stderr}`));
      });
    });
  });
  // A child that fails before "ready" rejects here instead of leaving the run waiting.
  await Promise.all(ready.map((isReady, i) => Promise.race([isReady, outputs[i]])));
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
