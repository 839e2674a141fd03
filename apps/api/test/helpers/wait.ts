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
