/** First pause before releasing an abandoned claim; doubled after each attempt. */
const FIRST_RELEASE_MS = 250;

/**
 * Claims this instance sent but gave up on (Redis did not answer in time, the connection was
 * lost): an idempotency record or a lock the caller was told it did not get. Yet the claim may
 * still reach Redis later — a client cannot take back a command it sent — and would then hold
 * the record or lock for its whole lease with nobody to finish or release it (retries answered
 * 409 "in flight" after a failover until the lease ran out).
 *
 * Each is released in the background (with backoff, until two leases have passed), matching the
 * claim's token, which only this instance knows: nobody else's claim can be touched. The token is
 * also kept for the owner's retry (the idempotency claim script takes its own abandoned record
 * over at once).
 */
export interface AbandonedClaims {
  /** Remembers a claim whose answer never came; `leaseMs` is how long it would hold. */
  add(key: string, token: string, leaseMs: number): void;
  /** The token of this key's abandoned claim, or "" (none). */
  tokenOf(key: string): string;
  /** The key was claimed again: no abandoned claim of it to take over any more. */
  forget(key: string): void;
  /** Stops the background releases (the owner is closing). */
  stop(): void;
}

/**
 * Creates {@link AbandonedClaims}; `release` deletes `key` if `token` holds it and says whether
 * it did (a compare-and-delete script).
 */
export function createAbandonedClaims(options: {
  release: (key: string, token: string) => Promise<boolean>;
  report: (error: unknown) => void;
}): AbandonedClaims {
  const { release, report } = options;
  /** Background releases by claim (one key may have several abandoned claims). */
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** The newest abandoned claim's token per key, for the owner's retry. */
  const newest = new Map<string, string>();

  const done = (key: string, token: string) => {
    timers.delete(`${key}\n${token}`);
    if (newest.get(key) === token) newest.delete(key);
  };

  const schedule = (key: string, token: string, delayMs: number, giveUpAt: number) => {
    const id = `${key}\n${token}`;
    const retry = () => {
      if (!timers.has(id)) return; // stopped
      if (Date.now() + delayMs * 2 > giveUpAt) done(key, token);
      else schedule(key, token, delayMs * 2, giveUpAt);
    };
    const attempt = () =>
      release(key, token).then(
        // Released: the claim had landed and is gone now (sent once, it cannot land again).
        (released) => (released ? done(key, token) : retry()),
        (error: unknown) => {
          report(error);
          retry();
        },
      );
    const timer = setTimeout(() => void attempt(), delayMs);
    (timer as { unref?: () => void }).unref?.();
    timers.set(id, timer);
  };

  return {
    add(key, token, leaseMs) {
      newest.set(key, token);
      // A late claim lands within the client's timeout plus the time a command can wait in its
      // queue, then holds for a lease: keep trying for two leases. Releasing a claim that was
      // taken over or never landed changes nothing (the token no longer matches).
      schedule(key, token, FIRST_RELEASE_MS, Date.now() + 2 * leaseMs);
    },
    tokenOf: (key) => newest.get(key) ?? "",
    forget: (key) => void newest.delete(key),
    stop() {
      for (const timer of timers.values()) clearTimeout(timer);
      timers.clear();
      newest.clear();
    },
  };
}
