import { Redis, type Requester } from "@upstash/redis";
import type { BreakerOptions, BreakerState } from "./breaker.ts";
import { CommandExecutor } from "./executor.ts";
import { RedisClientError } from "./errors.ts";
import { GuardedRequester } from "./guarded-requester.ts";
import { TracedRequester } from "./traced-requester.ts";
import { RestRequester } from "./rest-requester.ts";
import { SlotGuardRequester } from "./slot-guard.ts";
import { AutoPipelinedRedis } from "./sdk-client.ts";
import { TcpRequester } from "./tcp-requester.ts";
import { clusterUrlOfNodes, isClusterUrl, parseClusterUrl } from "./cluster-url.ts";

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
 * Creates an `@upstash/redis` client whose transport is chosen by the URL: `https://`/`http://`
 * is the Upstash REST API (as in production), `redis://`/`rediss://` is TCP in-process with the
 * same result shapes, pipelines, transactions and script handling.
 * @example const redis = createRedis({ url: "redis://127.0.0.1:6379" });
 * @throws RedisClientError REDIS_CONFIG for an unknown scheme or a REST URL without token.
 */
export function createRedis(options: CreateRedisOptions): HotpathRedis {
  const timeoutMs = options.timeoutMs ?? 1000;
  if (isClusterUrl(options.url)) {
    // Spans name the first seed as the server (a cluster has no one address).
    const seed = parseClusterUrl(options.url).seeds[0];
    return createTcpRedis(options, timeoutMs, `redis://${seed?.host}:${seed?.port}`);
  }
  let protocol: string;
  try {
    protocol = new URL(options.url).protocol;
  } catch (error) {
    throw new RedisClientError("REDIS_CONFIG", `Invalid Redis URL "${redact(options.url)}"`, {
      cause: error,
    });
  }
  if (protocol === "https:" || protocol === "http:") {
    if (!options.token) {
      throw new RedisClientError(
        "REDIS_CONFIG",
        `A token is required for the REST URL ${redact(options.url)}`,
      );
    }
    // Reads may be sent again after a lost connection; writes never are (they may have run).
    const { requester, breaker } = wrap(
      new RestRequester({ url: options.url, token: options.token, timeoutMs }),
      options,
      "rest",
    );
    const redis =
      (options.autoPipelining ?? true) ? new AutoPipelinedRedis(requester) : new Redis(requester);
    return extend(redis, "rest", requester, breaker, () => Promise.resolve());
  }
  if (protocol === "redis:" || protocol === "rediss:") return createTcpRedis(options, timeoutMs);
  throw new RedisClientError(
    "REDIS_CONFIG",
    `Unsupported Redis URL scheme "${protocol}" in ${redact(options.url)}: use https://, http://, redis://, rediss:// or redis+cluster://`,
  );
}

function createTcpRedis(
  options: CreateRedisOptions,
  timeoutMs: number,
  traceUrl = options.url,
): HotpathRedis {
  const executor = new CommandExecutor({
    url: options.url,
    timeoutMs,
    connectionName: options.connectionName,
  });
  const { requester, breaker } = wrap(new TcpRequester(executor), options, "tcp", traceUrl);
  return extend(new Redis(requester), "tcp", requester, breaker, () => executor.close());
}

/**
 * The transport behind its circuit breaker, behind the slot guard when asked for, behind the
 * tracing of each round trip (outermost, so a call the open breaker refuses shows in the trace too).
 */
function wrap(
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

function extend(
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

/**
 * Creates a client from environment values: the Upstash REST pair when set, else `REDIS_URL`, else
 * `REDIS_CLUSTER_NODES`.
 * @throws RedisClientError REDIS_CONFIG naming both options when neither is set.
 */
export function redisFromEnv(
  env: RedisEnv,
  options: Omit<CreateRedisOptions, "url" | "token"> = {},
): HotpathRedis {
  if (env.UPSTASH_REDIS_REST_URL) {
    if (!env.UPSTASH_REDIS_REST_TOKEN) {
      throw new RedisClientError(
        "REDIS_CONFIG",
        "UPSTASH_REDIS_REST_URL is set but UPSTASH_REDIS_REST_TOKEN is not",
      );
    }
    return createRedis({
      ...options,
      url: env.UPSTASH_REDIS_REST_URL,
      token: env.UPSTASH_REDIS_REST_TOKEN,
    });
  }
  if (env.REDIS_URL) return createRedis({ ...options, url: env.REDIS_URL });
  if (env.REDIS_CLUSTER_NODES) {
    return createRedis({ ...options, url: clusterUrlOfNodes(env.REDIS_CLUSTER_NODES) });
  }
  throw new RedisClientError(
    "REDIS_CONFIG",
    "No Redis configured: set UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (Upstash REST), REDIS_URL (redis://… over TCP), or REDIS_CLUSTER_NODES (host:port,… of a Redis Cluster)",
  );
}
