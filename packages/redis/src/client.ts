// What every entry point of @hotpath/redis shares: the client's types, the wrapping of a transport
// (breaker, slot guard, tracing) and the extras added to the SDK client. Nothing here opens a TCP
// connection or imports a TCP client, so the REST-only entry (rest.ts) stays edge-safe.
import { Redis, type Requester } from "@upstash/redis";
import type { BreakerOptions, BreakerState } from "./breaker.ts";
import { GuardedRequester } from "./guarded-requester.ts";
import { AutoPipelinedRedis } from "./sdk-client.ts";
import { SlotGuardRequester } from "./slot-guard.ts";
import { TracedRequester } from "./traced-requester.ts";

/** Which wire a client uses. */
export type RedisTransport = "rest" | "tcp";

/** Options of {@link createRedis}. */
export interface CreateRedisOptions {
  /**
   * `https://` / `http://` (Upstash REST, needs `token`), `redis://` / `rediss://` (TCP), or
   * `redis+cluster://h1:p1,h2:p2` / `rediss+cluster://…` (TCP to a Redis Cluster, any nodes as seeds).
   */
  url: string;
  /** Bearer token of the REST API. */
  token?: string;
  /** Per-command timeout in ms: the call rejects after it, nothing hangs. @default 1000 */
  timeoutMs?: number;
  /** REST only: batch concurrent commands into one /pipeline request. @default true */
  autoPipelining?: boolean;
  /** TCP only: connection name shown by CLIENT LIST. @default "hotpath" */
  connectionName?: string;
  /**
   * The client's circuit breaker: after a connection-level failure (refused, reset, timeout — not
   * a command error), commands fail at once with `REDIS_UNAVAILABLE` until a probe gets through,
   * so an outage costs nothing per call. `false` turns it off. @default { failureThreshold: 1, probeIntervalMs: 250 }
   */
  breaker?: BreakerOptions | false;
  /**
   * Refuse, before sending, a script, MULTI or multi-key command whose keys are in different
   * Redis Cluster slots (what a cluster answers with CROSSSLOT): for development and tests on a
   * single Redis. Costs a CRC16 per key. @default false
   */
  guardSlots?: boolean;
}

/** Result of {@link HotpathRedisExtras.ping}. */
export interface RedisHealth {
  ok: boolean;
  transport: RedisTransport;
  latencyMs: number;
  error?: string;
}

/** What `createRedis` adds to an `@upstash/redis` client. */
export interface HotpathRedisExtras {
  /** The transport the URL selected. */
  readonly transport: RedisTransport;
  /**
   * The `Requester` (public interface of `@upstash/redis`) this client sends everything through,
   * breaker and tracing included: for code that needs raw replies (no SDK decoding) on the same
   * transport.
   */
  readonly requester: Requester;
  /** `"open"` while the circuit breaker refuses calls (always `"closed"` without a breaker). */
  circuit(): BreakerState;
  /** PING with its round-trip time; never throws. */
  health(): Promise<RedisHealth>;
  /** Releases connections (TCP). Safe to call twice. */
  close(): Promise<void>;
}

/** An `@upstash/redis` client created by {@link createRedis}. */
export type HotpathRedis = Redis & HotpathRedisExtras;

/**
 * The transport behind its circuit breaker, behind the slot guard when asked for, behind the
 * tracing of each round trip (outermost, so a call the open breaker refuses shows in the trace too).
 */
export function wrap(
  transport: Requester,
  options: CreateRedisOptions,
  kind: RedisTransport,
  traceUrl = options.url,
): { requester: Requester; breaker: GuardedRequester["breaker"] | undefined } {
  const guarded =
    options.breaker === false ? undefined : new GuardedRequester(transport, options.breaker);
  const inner = guarded ?? transport;
  return {
    requester: new TracedRequester(options.guardSlots ? new SlotGuardRequester(inner) : inner, {
      transport: kind,
      url: traceUrl,
    }),
    breaker: guarded?.breaker,
  };
}

/** Adds {@link HotpathRedisExtras} to an SDK client (plain properties, visible through auto-pipelining). */
export function extend(
  redis: Redis,
  transport: RedisTransport,
  requester: Requester,
  breaker: GuardedRequester["breaker"] | undefined,
  closeTransport: () => Promise<void>,
): HotpathRedis {
  let closed: Promise<void> | undefined;
  const extras: HotpathRedisExtras = {
    transport,
    requester,
    circuit: () => breaker?.state ?? "closed",
    async health() {
      const started = performance.now();
      try {
        await redis.ping();
        return { ok: true, transport, latencyMs: performance.now() - started };
      } catch (error) {
        return {
          ok: false,
          transport,
          latencyMs: performance.now() - started,
          error: error instanceof Error ? error.message : String(error),
        };
      }
    },
    close() {
      breaker?.stop();
      closed ??= closeTransport();
      return closed;
    },
  };
  // Plain properties: also visible through the SDK's auto-pipelining proxy.
  return Object.assign(redis, extras);
}

/**
 * A client over the same connection whose round trips go through `wrap(requester)` (e.g. to time
 * or account them): transport, breaker, health and `close` are `redis`'s own, and a REST client
 * keeps its auto-pipelining. Nothing is added to the wire unless `wrap` adds it.
 * @example const timed = withRequester(redis, (inner) => ({ request: (req) => time(() => inner.request(req)) }));
 */
export function withRequester(
  redis: HotpathRedis,
  wrap: (requester: Requester) => Requester,
): HotpathRedis {
  const requester = wrap(redis.requester);
  const client =
    redis instanceof AutoPipelinedRedis ? new AutoPipelinedRedis(requester) : new Redis(requester);
  const extras: HotpathRedisExtras = {
    transport: redis.transport,
    requester,
    circuit: () => redis.circuit(),
    health: () => redis.health(),
    close: () => redis.close(),
  };
  return Object.assign(client, extras);
}

/** Hides the password of a URL in messages. */
export function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):([^@/]*)@/, "//$1:***@");
}

/** The environment variables {@link redisFromEnv} reads (passed in, never read from `process`). */
export interface RedisEnv {
  UPSTASH_REDIS_REST_URL?: string | undefined;
  UPSTASH_REDIS_REST_TOKEN?: string | undefined;
  REDIS_URL?: string | undefined;
  /** `h1:p1,h2:p2,…`: seeds of a Redis Cluster (instead of `REDIS_URL`). */
  REDIS_CLUSTER_NODES?: string | undefined;
}
