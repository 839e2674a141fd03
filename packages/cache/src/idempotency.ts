import { buildKey } from "@hotpath/config";
import { fingerprintPayload } from "./canonical-json.ts";
import {
  CacheError,
  IdempotencyInFlightError,
  IdempotencyKeyError,
  IdempotencyMismatchError,
  IdempotencyUnavailableError,
} from "./errors.ts";
import { createOptionalRecorder, type IdempotencyCounter, type MetricsOption } from "./metrics.ts";
import { randomId, ttlToMs, type Ttl } from "./options.ts";
import { defaultSerializer, type Serializer } from "./serializer.ts";
import { asNumber, asString, createWire, defineScript, type RedisClient } from "./wire.ts";

/** Claim a record atomically. KEYS: record. ARGV: fingerprint, token, lease ms. */
const CLAIM_SCRIPT = defineScript(`
local r = redis.call('HMGET', KEYS[1], 's', 'f', 'r')
if not r[1] then
  redis.call('HSET', KEYS[1], 's', 'p', 'f', ARGV[1], 't', ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'claimed'}
end
if r[2] ~= ARGV[1] then return {'mismatch'} end
if r[1] == 'p' then return {'inflight', redis.call('PTTL', KEYS[1])} end
return {'done', r[3]}
`);

/** Complete the record if we still own it. KEYS: record. ARGV: token, result, retention ms. */
const COMPLETE_SCRIPT = defineScript(`
if redis.call('HGET', KEYS[1], 't') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 's', 'd', 'r', ARGV[2])
redis.call('HDEL', KEYS[1], 't')
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`);

/** Delete the record if we own it. KEYS: record. ARGV: token. */
const RELEASE_RECORD_SCRIPT = defineScript(`
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);

/** Renew the in-flight lease if we own it. KEYS: record. ARGV: token, lease ms. */
const RENEW_RECORD_SCRIPT = defineScript(`
if redis.call('HGET', KEYS[1], 't') == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`);

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

/** Longest accepted key (Stripe, IETF). */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 255;

/**
 * Validates an Idempotency-Key: 1..255 printable ASCII characters. A structured-field string
 * (`"abc"`, as the IETF draft sends it) is unquoted first.
 * @throws IdempotencyKeyError (400) naming the problem.
 */
export function parseIdempotencyKey(raw: string | null | undefined): string {
  if (raw === null || raw === undefined || raw.trim() === "") {
    throw new IdempotencyKeyError("Idempotency-Key is required for this operation.");
  }
  let key = raw.trim();
  if (key.length >= 2 && key.startsWith('"') && key.endsWith('"')) key = key.slice(1, -1);
  if (key.length === 0 || key.length > IDEMPOTENCY_KEY_MAX_LENGTH) {
    throw new IdempotencyKeyError(
      `Idempotency-Key must be 1 to ${IDEMPOTENCY_KEY_MAX_LENGTH} characters long (got ${key.length}).`,
    );
  }
  if (!/^[\x20-\x7E]+$/.test(key)) {
    throw new IdempotencyKeyError("Idempotency-Key must contain printable ASCII characters only.");
  }
  return key;
}

type StoredOutcome =
  | { kind: "value"; text: string }
  | { kind: "error"; status: number; message: string; code?: string };

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
  const recordKey = (principal: string, key: string) => buildKey(app, "idem", name, principal, key);

  const encodeOutcome = (outcome: StoredOutcome): string =>
    outcome.kind === "value" ? `v${outcome.text}` : `e${JSON.stringify(outcome)}`;
  const decodeOutcome = (text: string): StoredOutcome => {
    if (text.startsWith("v")) return { kind: "value", text: text.slice(1) };
    return JSON.parse(text.slice(1)) as StoredOutcome;
  };

  /** Claims, runs, completes: the shared core of both entry points. */
  const execute = async <T>(
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
    const token = randomId(16);
    let reply: unknown[];
    try {
      reply = (await wire.script(
        CLAIM_SCRIPT,
        [record],
        [fingerprint, token, leaseMs],
      )) as unknown[];
    } catch (error) {
      count("idempotency_redis_errors_total");
      throw new IdempotencyUnavailableError(error);
    }
    const state = asString(reply[0]);
    if (state === "mismatch") {
      count("idempotency_mismatches_total");
      throw new IdempotencyMismatchError();
    }
    if (state === "inflight") {
      count("idempotency_conflicts_total");
      const pttl = asNumber(reply[1], leaseMs);
      const leaseLeft = Math.ceil((pttl > 0 ? pttl : leaseMs) / 1000);
      throw new IdempotencyInFlightError(
        Math.max(1, Math.min(options.inFlightRetryAfterSeconds ?? 1, leaseLeft)),
      );
    }
    if (state === "done") {
      count("idempotency_replays_total");
      return { value: replay(decodeOutcome(asString(reply[1]) ?? "v")), replayed: true };
    }
    count("idempotency_first_total");

    // We own the record: renew the lease while the handler runs.
    const controller = new AbortController();
    let renewTimer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const renew = () => {
      renewTimer = setTimeout(() => {
        void wire
          .script(RENEW_RECORD_SCRIPT, [record], [token, leaseMs])
          .then((renewed) => {
            if (stopped) return;
            if (asNumber(renewed) !== 1) {
              const lost = new CacheError(
                "IDEMPOTENCY_IN_FLIGHT",
                "The idempotency lease was lost while the handler ran.",
              );
              report(lost);
              controller.abort(lost);
              return;
            }
            renew();
          })
          .catch((error: unknown) => {
            report(error);
            if (!stopped) renew();
          });
      }, leaseMs / 3);
    };
    renew();
    const stop = () => {
      stopped = true;
      if (renewTimer !== undefined) clearTimeout(renewTimer);
    };

    let outcome: { output: T; store: StoredOutcome | null };
    try {
      outcome = await run(controller.signal);
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
        await complete(record, token, stored);
      } else {
        await release(record, token);
      }
      throw error;
    }
    stop();
    if (outcome.store === null) await release(record, token);
    else await complete(record, token, outcome.store);
    return { value: outcome.output, replayed: false };
  };

  const complete = async (record: string, token: string, stored: StoredOutcome) => {
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        const done = await wire.script(
          COMPLETE_SCRIPT,
          [record],
          [token, encodeOutcome(stored), retentionMs],
        );
        if (asNumber(done) !== 1)
          report(
            new CacheError(
              "IDEMPOTENCY_IN_FLIGHT",
              "The idempotency record was lost before completion; the result was not stored.",
            ),
          );
        return;
      } catch (error) {
        if (attempt === 2) report(error);
      }
    }
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

  const withIdempotency = async (
    request: Request,
    handler: (request: Request, signal: AbortSignal) => Response | Promise<Response>,
    o: WithIdempotencyOptions,
  ): Promise<Response> => {
    const header = request.headers.get("idempotency-key");
    if (header === null && o.optional) return handler(request, new AbortController().signal);
    const replayHeaders = o.replayHeaders ?? ["content-type", "location"];
    try {
      const body = request.body === null ? "" : await request.clone().text();
      const url = new URL(request.url);
      const fingerprint = await fingerprintPayload({
        method: request.method,
        path: url.pathname + url.search,
        body: parseMaybeJson(body),
      });
      const result = await execute<Response>(
        header ?? "",
        fingerprint,
        o.principal,
        async (signal) => {
          const response = await handler(request, signal);
          const storable =
            response.status < 400 || (options.storeClientErrors && response.status < 500);
          if (!storable) return { output: response, store: null };
          const text = await response.clone().text();
          const headers: [string, string][] = [];
          for (const name of replayHeaders) {
            const value = response.headers.get(name);
            if (value !== null) headers.push([name, value]);
          }
          return {
            output: response,
            store: {
              kind: "value",
              text: JSON.stringify({ status: response.status, headers, body: text }),
            },
          };
        },
        (stored) => {
          if (stored.kind === "error") return problem(stored.status, stored.message);
          const saved = JSON.parse(stored.text) as {
            status: number;
            headers: [string, string][];
            body: string;
          };
          const headers = new Headers(saved.headers);
          headers.set("idempotent-replayed", "true");
          return new Response(saved.status === 204 || saved.status === 304 ? null : saved.body, {
            status: saved.status,
            headers,
          });
        },
      );
      return result.value;
    } catch (error) {
      if (error instanceof CacheError && error.status !== undefined) {
        return problem(error.status, error.message, error.retryAfter);
      }
      throw error;
    }
  };

  return {
    runIdempotent,
    withIdempotency,
    flushMetrics: () => recorder?.flush() ?? Promise.resolve(),
    close: () => recorder?.close() ?? Promise.resolve(),
  };
}

function parseMaybeJson(text: string): unknown {
  if (text === "") return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function problem(status: number, message: string, retryAfter?: number): Response {
  const headers = new Headers({ "content-type": "application/json" });
  if (retryAfter !== undefined) headers.set("retry-after", String(retryAfter));
  const error =
    status === 400
      ? "Bad Request"
      : status === 409
        ? "Conflict"
        : status === 422
          ? "Unprocessable Content"
          : status === 503
            ? "Service Unavailable"
            : "Error";
  return new Response(
    JSON.stringify({ error, message, ...(retryAfter !== undefined ? { retryAfter } : {}) }),
    { status, headers },
  );
}
