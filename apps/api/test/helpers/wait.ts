/** Options of {@link waitUntil}. */
export interface WaitOptions {
  /** Give up after this long (generous: CI machines are loaded). @default 15000 */
  timeoutMs?: number;
  /** Pause between checks. @default 25 */
  intervalMs?: number;
  /** What was awaited, for the error. */
  what?: string;
}

/** Polls `check` until it returns true; throws when the deadline passes (a wait on a condition, not a sleep). */
export async function waitUntil(
  check: () => boolean | Promise<boolean>,
  options: WaitOptions = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${options.what ?? "condition"}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}

/**
 * Waits, only when needed, until at least `neededMs` remain in the current rate-limit window
 * (windows of `windowMs` aligned to the epoch, as the limiters' are): a burst that must hit a
 * limit then cannot straddle a window boundary, wherever the wall clock falls.
 */
export async function alignToWindow(windowMs = 60_000, neededMs = 20_000): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left >= neededMs) return;
  const nextWindow = Date.now() + left;
  await waitUntil(() => Date.now() >= nextWindow + 50, {
    timeoutMs: left + 5_000,
    intervalMs: 100,
    what: "the next rate-limit window",
  });
}
