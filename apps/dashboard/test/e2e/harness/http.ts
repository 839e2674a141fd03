import { setTimeout as sleep } from "node:timers/promises";

/** Polls `url` until it answers with a status below 500 (or `deadlineMs` passes, then throws). */
export async function waitForHttp(url: string, deadlineMs = 60_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  let last = "no answer";
  while (Date.now() < until) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (response.status < 500) return;
      last = `HTTP ${response.status}`;
    } catch (error) {
      last = String(error);
    }
    await sleep(200);
  }
  throw new Error(`${url} did not come up within ${deadlineMs} ms (${last})`);
}

/** Polls `url` until it no longer answers (connection refused), or throws after `deadlineMs`. */
export async function waitForDown(url: string, deadlineMs = 30_000): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    try {
      await fetch(url, { signal: AbortSignal.timeout(1000) });
    } catch {
      return;
    }
    await sleep(200);
  }
  throw new Error(`${url} still answers after ${deadlineMs} ms`);
}
