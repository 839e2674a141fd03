import { expect, it } from "vitest";
import type { CreateRateLimiterOptions } from "../src/index.ts";
import { midDay, runLimitProcesses, type Tally } from "./processes.ts";

/** Processes of the accuracy runs (4 x 250 = 1,000 checks in all). */
export const ACCURACY_PROCESSES = 4;
/** Checks per process of the accuracy runs. */
export const ACCURACY_PER_PROCESS = 250;
/** The limit every accuracy policy allows per day (the daily policy allows more, never limiting). */
export const ACCURACY_LIMIT = 100;

/** The policies of the accuracy runs: day-long windows, so one run stays in one window. */
export const ACCURACY_POLICIES = {
  fixed: { limit: ACCURACY_LIMIT, window: "1d", algorithm: "fixedWindow" },
  sliding: { limit: ACCURACY_LIMIT, window: "1d", algorithm: "slidingWindow" },
  log: { limit: ACCURACY_LIMIT, window: "1d", algorithm: "slidingWindowLog" },
  bucket: { limit: ACCURACY_LIMIT, window: "1d", algorithm: "tokenBucket" },
  daily: { limit: 1000, window: "1d", algorithm: "fixedWindow" },
} as const satisfies CreateRateLimiterOptions["policies"];

/**
 * One accuracy run: 4 processes x 250 concurrent checks of one identifier against `policy` on
 * `target`, with the children's clock at {@link midDay}. Checks that no decision fell back to the
 * insurance limiter and that every check was decided; returns the summed tally.
 */
export async function runAccuracy(
  target: { url: string; token?: string },
  prefix: string,
  policy: string | string[],
): Promise<Tally> {
  const tally = await runLimitProcesses(ACCURACY_PROCESSES, {
    ...target,
    prefix,
    policies: ACCURACY_POLICIES,
    policy,
    identifier: "hot",
    count: ACCURACY_PER_PROCESS,
    now: midDay(),
  });
  if (
    tally.fallback !== 0 ||
    tally.allowed + tally.blocked !== ACCURACY_PROCESSES * ACCURACY_PER_PROCESS
  )
    throw new Error(
      `accuracy run on ${target.url} was not decided by Redis: ${JSON.stringify(tally)}`,
    );
  return tally;
}

/**
 * Registers the accuracy tests in the calling `describe`: for each algorithm, and for burst +
 * daily in one script, 4 processes x 250 concurrent checks of one identifier on `target()` allow
 * exactly {@link ACCURACY_LIMIT}. Each run takes a fresh prefix from `newPrefix()`.
 */
export function defineAccuracyTests(
  target: () => { url: string; token?: string },
  newPrefix: () => string,
): void {
  const allowed = async (policy: string | string[]) =>
    (await runAccuracy(target(), newPrefix(), policy)).allowed;
  const options = { timeout: 240_000 };

  it("fixed window allows exactly the limit", options, async () => {
    expect(await allowed("fixed")).toBe(ACCURACY_LIMIT);
  });

  it("token bucket allows exactly the limit", options, async () => {
    expect(await allowed("bucket")).toBe(ACCURACY_LIMIT);
  });

  it(
    "sliding window stays within its documented bound (exactly the limit inside one window)",
    options,
    async () => {
      // Documented bound: the current window's count never exceeds the limit; with no previous
      // window (fresh keys, the run inside one window) that is exactly the limit.
      expect(await allowed("sliding")).toBe(ACCURACY_LIMIT);
    },
  );

  it("sliding window log (exact) allows exactly the limit", options, async () => {
    expect(await allowed("log")).toBe(ACCURACY_LIMIT);
  });

  it(
    "several policies in one script (token bucket + daily) allow exactly the burst limit",
    options,
    async () => {
      expect(await allowed(["bucket", "daily"])).toBe(ACCURACY_LIMIT);
    },
  );
}
