import { CacheError } from "./errors.ts";
import { RENEW_RECORD_SCRIPT } from "./idempotency-scripts.ts";
import { asNumber, type Wire } from "./wire.ts";

/** The in-flight lease of a claimed record while its handler runs. */
export interface RecordLease {
  /** Aborts (reason: CacheError IDEMPOTENCY_LEASE_LOST) when the lease is lost or may be. */
  readonly signal: AbortSignal;
  /** Stops renewing. */
  stop(): void;
}

/**
 * Renews a claimed record's lease every third of it while the handler runs, and aborts the
 * handler's signal when a renewal finds the record taken or gone, or when renewals have failed
 * for longer than half the lease (counted from the send time of the last successful renewal, so
 * the handler stops well before anyone else can claim the record).
 */
export function holdRecordLease(options: {
  wire: Wire;
  record: string;
  token: string;
  leaseMs: number;
  /** When the claim was sent. */
  claimSentAt: number;
  report: (error: unknown) => void;
}): RecordLease {
  const { wire, record, token, leaseMs, report } = options;
  const controller = new AbortController();
  let stopped = false;
  let renewTimer: ReturnType<typeof setTimeout> | undefined;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const lose = (message: string, cause?: unknown) => {
    if (stopped || controller.signal.aborted) return;
    const lost = new CacheError("IDEMPOTENCY_LEASE_LOST", message, { cause, status: 503 });
    report(lost);
    controller.abort(lost);
  };
  const armDeadline = (sentAt: number) => {
    if (deadline !== undefined) clearTimeout(deadline);
    deadline = setTimeout(
      () =>
        lose(
          `The idempotency lease could not be renewed for ${Math.round(leaseMs / 2)} ms; the handler was aborted before the record could expire.`,
        ),
      Math.max(0, sentAt + leaseMs / 2 - Date.now()),
    );
  };
  const renew = () => {
    renewTimer = setTimeout(() => {
      const sentAt = Date.now();
      void wire.script(RENEW_RECORD_SCRIPT, [record], [token, leaseMs]).then(
        (renewed) => {
          if (stopped || controller.signal.aborted) return;
          if (asNumber(renewed) !== 1)
            return lose("The idempotency lease was lost while the handler ran.");
          armDeadline(sentAt);
          renew();
        },
        (error: unknown) => {
          report(error);
          if (!stopped && !controller.signal.aborted) renew();
        },
      );
    }, leaseMs / 3);
  };
  armDeadline(options.claimSentAt);
  renew();
  return {
    signal: controller.signal,
    stop() {
      stopped = true;
      if (renewTimer !== undefined) clearTimeout(renewTimer);
      if (deadline !== undefined) clearTimeout(deadline);
    },
  };
}
