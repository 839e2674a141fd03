import { RELEASE_RECORD_SCRIPT } from "./idempotency-scripts.ts";
import type { Wire } from "./wire.ts";

/** First pause before releasing an abandoned claim; doubled after each attempt. */
const FIRST_RELEASE_MS = 250;

/**
 * Claims this instance sent but gave up on (Redis did not answer in time, the connection was
 * lost): the handler never ran, yet the claim may still reach Redis later — a client cannot take
 * back a command it sent — and would then hold the record "in flight" for a whole lease, with no
 * one to complete or release it. Retries answered 409 until it expired.
 *
 * Two remedies, neither of which can touch a record someone else holds (both match the token of
 * the abandoned claim, known only here): a retry reaching this instance passes the token to the
 * claim script, which takes the record over; and the record is released in the background (with
 * backoff, until the lease would have run out) for retries reaching other instances.
 */
export interface AbandonedClaims {
  /** Remembers a claim whose answer never came. */
  add(record: string, token: string): void;
  /** The token of this record's abandoned claim, or "" (the claim script's "none"). */
  tokenOf(record: string): string;
  /** The record was claimed again: its abandoned claim needs no more releasing. */
  forget(record: string): void;
  /** Stops the background releases (the store is closing). */
  stop(): void;
}

/** Creates the {@link AbandonedClaims} of one idempotency store. */
export function createAbandonedClaims(options: {
  wire: Wire;
  leaseMs: number;
  report: (error: unknown) => void;
}): AbandonedClaims {
  const { wire, leaseMs, report } = options;
  const claims = new Map<string, { token: string; timer: ReturnType<typeof setTimeout> }>();

  const forget = (record: string) => {
    const claim = claims.get(record);
    if (!claim) return;
    clearTimeout(claim.timer);
    claims.delete(record);
  };

  const schedule = (record: string, token: string, delayMs: number, giveUpAt: number) => {
    const retry = () => {
      // Still ours (not taken over meanwhile), and the claim could still be holding the record.
      if (claims.get(record)?.token !== token) return;
      if (Date.now() + delayMs * 2 > giveUpAt) forget(record);
      else schedule(record, token, delayMs * 2, giveUpAt);
    };
    const release = () =>
      wire.script(RELEASE_RECORD_SCRIPT, [record], [token]).then(
        (released) => {
          // Released: the claim had landed and is gone now (sent once, it cannot land again).
          if (Number(released) === 1) forget(record);
          else retry();
        },
        (error: unknown) => {
          report(error);
          retry();
        },
      );
    const timer = setTimeout(() => void release(), delayMs);
    (timer as { unref?: () => void }).unref?.();
    claims.set(record, { token, timer });
  };

  return {
    add(record, token) {
      forget(record);
      // A late claim expires a lease after it lands; it lands within the client's timeout plus
      // the time a command can wait in its queue, so keep trying for two leases.
      schedule(record, token, FIRST_RELEASE_MS, Date.now() + 2 * leaseMs);
    },
    tokenOf: (record) => claims.get(record)?.token ?? "",
    forget,
    stop() {
      for (const record of [...claims.keys()]) forget(record);
    },
  };
}
