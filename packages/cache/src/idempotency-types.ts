import type { MetricsOption } from "./metrics.ts";
import type { Ttl } from "./options.ts";
import type { Serializer } from "./serializer.ts";
import type { RedisClient } from "./wire.ts";

/** Options of {@link createIdempotencyStore}. */
export interface IdempotencyStoreOptions {
  redis: RedisClient;
  /** App prefix. @default "hotpath" */
  app?: string;
  /** Store name: a key part and the metrics label (e.g. "tips"). @default "default" */
  name?: string;
  /** In-flight lease, renewed every third of it while the handler runs. @default 30 s */
  leaseTtl?: Ttl;
  /** How long a completed result is replayed. @default 24 h */
  retention?: Ttl;
  /** Store 4xx outcomes (thrown errors with a 4xx `status`, or 4xx Responses) and replay them. @default false (released) */
  storeClientErrors?: boolean;
  /** Timeout of each Redis call (ms). @default 1000 */
  timeoutMs?: number;
  /** Retry-After (seconds) of the in-flight error; capped by the lease time left. @default 1 */
  inFlightRetryAfterSeconds?: number;
  /** Serializer of results. @default superjson */
  serializer?: Serializer;
  /** Write per-minute metrics. @default true */
  metrics?: MetricsOption;
  /** Serverless hook for background work (metrics flush). */
  waitUntil?: (promise: Promise<unknown>) => void;
  /** Failures after the handler ran (result not stored, lease lost) are reported here. */
  onError?: (error: unknown) => void;
}

/** The outcome of {@link IdempotencyStore.runIdempotent}. */
export interface IdempotentResult<T> {
  value: T;
  /** True when this is the stored result of an earlier request. */
  replayed: boolean;
}

/** Options of {@link IdempotencyStore.withIdempotency}. */
export interface WithIdempotencyOptions {
  /** Who is calling (user id, API key id…): keys are scoped per principal. */
  principal: string;
  /** A missing key runs the handler without idempotency instead of answering 400. @default false */
  optional?: boolean;
  /** Response headers stored and replayed (lower-case). @default ["content-type", "location"] */
  replayHeaders?: readonly string[];
}

/** A Redis-backed idempotency store (IETF idempotency-key draft + Stripe semantics). */
export interface IdempotencyStore {
  /**
   * Runs `fn` at most once per (principal, key) within the retention: the first call runs it,
   * concurrent duplicates get {@link IdempotencyInFlightError} (409), reuse with another
   * fingerprint {@link IdempotencyMismatchError} (422), later duplicates the stored result with
   * `replayed: true`. A throwing `fn` releases the record (or stores a 4xx by policy).
   * Redis unreachable → {@link IdempotencyUnavailableError} (503, fail closed; `fn` did not run).
   */
  runIdempotent<T>(
    key: string,
    fingerprint: string,
    fn: (signal: AbortSignal) => T | Promise<T>,
    options: { principal: string },
  ): Promise<IdempotentResult<T>>;
  /**
   * Fetch-style wrapper for plain Request/Response routes: reads `Idempotency-Key`, fingerprints
   * method + path + body, replays stored responses with `Idempotent-Replayed: true`, and answers
   * 400/409/422/503 (problem JSON, `Retry-After`) itself.
   */
  withIdempotency(
    request: Request,
    handler: (request: Request, signal: AbortSignal) => Response | Promise<Response>,
    options: WithIdempotencyOptions,
  ): Promise<Response>;
  /** Flushes metrics. */
  flushMetrics(): Promise<void>;
  /** Stops the metrics timer (flushes). */
  close(): Promise<void>;
}

/** What a completed record holds: a serialized value, or a stored 4xx failure. */
export type StoredOutcome =
  | { kind: "value"; text: string }
  | { kind: "error"; status: number; message: string; code?: string };

/** The claim-run-complete core shared by both entry points of the store. */
export type Execute = <T>(
  key: string,
  fingerprint: string,
  principal: string,
  run: (signal: AbortSignal) => Promise<{ output: T; store: StoredOutcome | null }>,
  replay: (stored: StoredOutcome) => T,
) => Promise<IdempotentResult<T>>;
