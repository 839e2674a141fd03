import { buildKey } from "@hotpath/config";
import { withChildSpan } from "@hotpath/redis/tracing";
import { trace, type Span } from "@opentelemetry/api";
import {
  CacheError,
  IdempotencyInFlightError,
  IdempotencyMismatchError,
  IdempotencyUnavailableError,
  asCommandError,
  isRedisCommandError,
} from "./errors.ts";
import { createAbandonedClaims } from "./abandoned-claims.ts";
import { createWithIdempotency } from "./idempotency-http.ts";
import { parseIdempotencyKey } from "./idempotency-key.ts";
import { CLAIM_SCRIPT, COMPLETE_SCRIPT, RELEASE_RECORD_SCRIPT } from "./idempotency-scripts.ts";
import { holdRecordLease } from "./idempotency-lease.ts";
import type {
  IdempotencyStore,
  IdempotencyStoreOptions,
  IdempotentResult,
  StoredOutcome,
} from "./idempotency-types.ts";
import { createOptionalRecorder, type IdempotencyCounter } from "./metrics.ts";
import { randomId, ttlToMs } from "./options.ts";
import { defaultSerializer } from "./serializer.ts";
import { asNumber, asString, createWire } from "./wire.ts";

export { IDEMPOTENCY_KEY_MAX_LENGTH, parseIdempotencyKey } from "./idempotency-key.ts";
export type {
  IdempotencyStore,
  IdempotencyStoreOptions,
  IdempotentResult,
  WithIdempotencyOptions,
} from "./idempotency-types.ts";

/** Tracer of the idempotency store (instrumentation scope `@hotpath/cache`). */
const tracer = trace.getTracer("@hotpath/cache");
/** Span attribute: `claimed` (the handler runs), `replayed`, `conflict` (in flight) or `mismatch`. */
const OUTCOME = "hotpath.idempotency.outcome";

/** Pause between background attempts to write a completion Redis did not take. */
const COMPLETION_RETRY_MS = 100;

/** Creates an {@link IdempotencyStore}. */
export function createIdempotencyStore(options: IdempotencyStoreOptions): IdempotencyStore {
  const app = options.app ?? "hotpath";
  const name = options.name ?? "default";
  const leaseMs = Math.max(100, ttlToMs(options.leaseTtl ?? 30, "leaseTtl"));
  const retentionMs = Math.max(1000, ttlToMs(options.retention ?? 86_400, "retention"));
  const serializer = options.serializer ?? defaultSerializer;
  const wire = createWire(options.redis, options.timeoutMs ?? 1000);
  const recorder = createOptionalRecorder("idempotency", {
    redis: options.redis,
    app,
    metrics: options.metrics,
    waitUntil: options.waitUntil,
  });
  const count = (counter: IdempotencyCounter) => recorder?.count(name, counter);
  const report = (error: unknown) => {
    try {
      options.onError?.(error);
    } catch {
      // Reporting must not fail the request.
    }
  };
  const abandoned = createAbandonedClaims({
    release: async (record, token) =>
      asNumber(await wire.script(RELEASE_RECORD_SCRIPT, [record], [token])) === 1,
    report,
  });
  const recordKey = (principal: string, key: string) => buildKey(app, "idem", name, principal, key);

  const encodeOutcome = (outcome: StoredOutcome): string =>
    outcome.kind === "value" ? `v${outcome.text}` : `e${JSON.stringify(outcome)}`;
  const decodeOutcome = (text: string): StoredOutcome => {
    if (text.startsWith("v")) return { kind: "value", text: text.slice(1) };
    return JSON.parse(text.slice(1)) as StoredOutcome;
  };

  const spanOptions = { attributes: { "hotpath.idempotency.store": name } };
  /**
   * {@link claimRunComplete} in an `idempotency` span carrying the store name and the outcome;
   * the claim, the handler's own spans and the completion are its children. Never the key.
   * Only inside a recorded trace (none outside one).
   */
  const execute = <T>(
    key: string,
    fingerprint: string,
    principal: string,
    run: (signal: AbortSignal) => Promise<{ output: T; store: StoredOutcome | null }>,
    replay: (stored: StoredOutcome) => T,
  ): Promise<IdempotentResult<T>> =>
    withChildSpan(tracer, "idempotency", spanOptions, (span) =>
      claimRunComplete(span, key, fingerprint, principal, run, replay),
    );

  /** Claims, runs, completes: the shared core of both entry points. */
  const claimRunComplete = async <T>(
    span: Span | undefined,
    key: string,
    fingerprint: string,
    principal: string,
    run: (signal: AbortSignal) => Promise<{ output: T; store: StoredOutcome | null }>,
    replay: (stored: StoredOutcome) => T,
  ): Promise<IdempotentResult<T>> => {
    const idempotencyKey = parseIdempotencyKey(key);
    if (!principal)
      throw new CacheError(
        "CACHE_INVALID_OPTION",
        "principal is required (keys are scoped per principal)",
      );
    const record = recordKey(principal, idempotencyKey);
    const local = unwritten.get(record);
    if (local) {
      // Completed here, not yet written to Redis: replay it (never run the handler again).
      if (local.fingerprint !== fingerprint) {
        span?.setAttribute(OUTCOME, "mismatch");
        count("idempotency_mismatches_total");
        throw new IdempotencyMismatchError();
      }
      span?.setAttribute(OUTCOME, "replayed");
      count("idempotency_replays_total");
      return { value: replay(local.stored), replayed: true };
    }
    const token = randomId(16);
    const claimSentAt = Date.now();
    let reply: unknown[];
    try {
      reply = (await wire.script(
        CLAIM_SCRIPT,
        [record],
        [fingerprint, token, leaseMs, abandoned.tokenOf(record)],
      )) as unknown[];
    } catch (error) {
      count("idempotency_redis_errors_total");
      // Redis refusing the command is a bug (500), not an outage (503).
      if (isRedisCommandError(error)) throw asCommandError(error);
      // No answer: the claim may still land, and must not hold the record for a whole lease.
      abandoned.add(record, token, leaseMs);
      throw new IdempotencyUnavailableError(error);
    }
    const state = asString(reply[0]);
    if (state === "mismatch") {
      span?.setAttribute(OUTCOME, "mismatch");
      count("idempotency_mismatches_total");
      throw new IdempotencyMismatchError();
    }
    if (state === "inflight") {
      span?.setAttribute(OUTCOME, "conflict");
      count("idempotency_conflicts_total");
      const pttl = asNumber(reply[1], leaseMs);
      const leaseLeft = Math.ceil((pttl > 0 ? pttl : leaseMs) / 1000);
      throw new IdempotencyInFlightError(
        Math.max(1, Math.min(options.inFlightRetryAfterSeconds ?? 1, leaseLeft)),
      );
    }
    if (state === "done") {
      span?.setAttribute(OUTCOME, "replayed");
      count("idempotency_replays_total");
      return { value: replay(decodeOutcome(asString(reply[1]) ?? "v")), replayed: true };
    }
    span?.setAttribute(OUTCOME, "claimed");
    count("idempotency_first_total");
    abandoned.forget(record);

    // We own the record: renew the lease while the handler runs (aborting it if that fails).
    const lease = holdRecordLease({ wire, record, token, leaseMs, claimSentAt, report });
    const stop = () => lease.stop();

    let outcome: { output: T; store: StoredOutcome | null };
    try {
      outcome = await run(lease.signal);
    } catch (error) {
      stop();
      const status = (error as { status?: unknown } | null)?.status;
      if (
        options.storeClientErrors &&
        typeof status === "number" &&
        status >= 400 &&
        status < 500
      ) {
        const stored: StoredOutcome = {
          kind: "error",
          status,
          message: error instanceof Error ? error.message : String(error),
          code:
            typeof (error as { code?: unknown }).code === "string"
              ? (error as { code: string }).code
              : undefined,
        };
        await complete(record, token, fingerprint, stored);
      } else {
        await release(record, token);
      }
      throw error;
    }
    stop();
    if (outcome.store === null) await release(record, token);
    else await complete(record, token, fingerprint, outcome.store);
    return { value: outcome.output, replayed: false };
  };

  // Outcomes whose completion could not be written yet: replayed to retries reaching this
  // instance and written in the background until Redis takes them (never left to expire and re-run).
  const unwritten = new Map<string, { fingerprint: string; stored: StoredOutcome }>();

  const writeCompletion = async (
    record: string,
    token: string,
    fingerprint: string,
    stored: StoredOutcome,
  ): Promise<void> => {
    const done = await wire.script(
      COMPLETE_SCRIPT,
      [record],
      [token, encodeOutcome(stored), retentionMs, fingerprint],
    );
    if (asNumber(done) !== 1)
      report(
        new CacheError(
          "IDEMPOTENCY_LEASE_LOST",
          "The idempotency record was taken by another request before completion; the result was not stored.",
        ),
      );
  };

  const complete = async (
    record: string,
    token: string,
    fingerprint: string,
    stored: StoredOutcome,
  ) => {
    let failure: unknown;
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await writeCompletion(record, token, fingerprint, stored);
        return;
      } catch (error) {
        failure = error;
      }
    }
    report(failure);
    unwritten.set(record, { fingerprint, stored });
    const startedAt = Date.now();
    const retry = () => {
      const timer = setTimeout(() => {
        writeCompletion(record, token, fingerprint, stored).then(
          () => unwritten.delete(record),
          () => {
            if (Date.now() - startedAt < retentionMs) retry();
            else unwritten.delete(record);
          },
        );
      }, COMPLETION_RETRY_MS);
      (timer as { unref?: () => void }).unref?.();
    };
    retry();
  };

  const release = async (record: string, token: string) => {
    count("idempotency_released_total");
    try {
      await wire.script(RELEASE_RECORD_SCRIPT, [record], [token]);
    } catch (error) {
      report(error);
    }
  };

  const runIdempotent = <T>(
    key: string,
    fingerprint: string,
    fn: (signal: AbortSignal) => T | Promise<T>,
    runOptions: { principal: string },
  ): Promise<IdempotentResult<T>> =>
    execute<T>(
      key,
      fingerprint,
      runOptions.principal,
      async (signal) => {
        const output = await fn(signal);
        return { output, store: { kind: "value", text: serializer.serialize(output) } };
      },
      (stored) => {
        if (stored.kind === "error") {
          throw new CacheError("IDEMPOTENCY_STORED_ERROR", stored.message, {
            status: stored.status,
          });
        }
        return serializer.deserialize(stored.text) as T;
      },
    );

  const withIdempotency = createWithIdempotency(execute, options.storeClientErrors ?? false);

  return {
    runIdempotent,
    withIdempotency,
    flushMetrics: () => recorder?.flush() ?? Promise.resolve(),
    close: () => {
      abandoned.stop();
      return recorder?.close() ?? Promise.resolve();
    },
  };
}
