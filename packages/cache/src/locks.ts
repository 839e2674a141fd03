import { buildKey, hashTag, type KeyPart } from "@hotpath/config";
import { asCommandError, isRedisCommandError, LockError } from "./errors.ts";
import { createOptionalRecorder, type LockCounter, type MetricsOption } from "./metrics.ts";
import { createAbandonedClaims } from "./abandoned-claims.ts";
import { keyParts } from "./key-parts.ts";
import { randomId, ttlToMs, type Ttl } from "./options.ts";
import { asNumber, createWire, defineScript, sleep, type RedisClient } from "./wire.ts";

/** How long an unused lock's fence counter is kept (refreshed on every grant). */
const FENCE_TTL_MS = 7 * 86_400_000;

/**
 * SET NX PX and, when granted, the next fencing token. The fence counter has a TTL; when it is
 * gone it restarts from Redis's clock in microseconds, so tokens keep increasing across expiry.
 * KEYS: lock, fence. ARGV: token, px, fence ttl ms.
 */
const ACQUIRE_SCRIPT = defineScript(
  `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  if redis.call('EXISTS', KEYS[2]) == 0 then
    local now = redis.call('TIME')
    redis.call('SET', KEYS[2], string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2])))
  end
  local fence = redis.call('INCR', KEYS[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[3])
  return fence
end
return false
`,
  "lock.acquire",
);

/** Compare-and-delete. KEYS: lock. ARGV: token. */
const UNLOCK_SCRIPT = defineScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  "lock.release",
);

/** Compare-and-pexpire. KEYS: lock. ARGV: token, px. */
const EXTEND_SCRIPT = defineScript(
  `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`,
  "lock.extend",
);

/** A lock name: one part or several (escaped by the key builder). */
export type LockName = KeyPart | readonly KeyPart[];

/** A granted lock. */
export interface Lock {
  /** The lock's key. */
  readonly key: string;
  /** Random owner token (release and extend check it). */
  readonly token: string;
  /**
   * Monotonic per lock name (INCR): pass it to the protected resource and reject writes carrying
   * a lower token than one already seen — this, not the lease, makes the lock safe for correctness.
   */
  readonly fencingToken: number;
  /** Renews the lease to `ttl` (default: the acquire TTL); false when we no longer own it. */
  extend(ttl?: Ttl): Promise<boolean>;
  /** Releases the lock if we still own it (compare-and-delete); false otherwise. */
  release(): Promise<boolean>;
}

/** Options of {@link Locks.acquireLock}. */
export interface AcquireOptions {
  /** Lease. @default 10 s */
  ttl?: Ttl;
  /** How long to keep trying before LOCK_NOT_ACQUIRED; 0 tries once. @default 0 */
  wait?: Ttl;
  /** Delay between attempts (ms); jittered ±50 %. @default 50 */
  retryDelayMs?: number;
  /** Retry policy (same as `retryDelayMs`, plus a cap on attempts within `wait`). */
  retry?: { delayMs?: number; attempts?: number };
  /** Stops waiting early. */
  signal?: AbortSignal;
}

/** Options of {@link Locks.withLock}. */
export interface WithLockOptions extends AcquireOptions {
  /** Renew the lease this often (ms). @default a third of the TTL */
  renewEveryMs?: number;
  /**
   * `fn`'s signal aborts this long before the lease could expire (counted from the send time of
   * the last successful renewal), so no two holders run un-aborted. @default max(20 ms, TTL / 10)
   */
  safetyMarginMs?: number;
}

/** Distributed locks (single Redis, lease-based) with fencing tokens. */
export interface Locks {
  /** Acquires or throws {@link LockError} (LOCK_NOT_ACQUIRED after `wait`, LOCK_UNAVAILABLE when Redis fails: fail closed). */
  acquireLock(name: LockName, options?: AcquireOptions): Promise<Lock>;
  /** Like {@link acquireLock} but null when not acquired in time. */
  tryAcquireLock(name: LockName, options?: AcquireOptions): Promise<Lock | null>;
  /**
   * Runs `fn` holding the lock: the lease is renewed while it runs, `fn`'s signal aborts (reason:
   * LockError LOCK_LOST) when the lease is lost or could expire before a renewal gets through
   * (send time of the last successful renewal + TTL - margin), or when `options.signal` aborts;
   * released afterwards. When the lease was lost, `withLock` throws LOCK_LOST after `fn` ends.
   */
  withLock<T>(
    name: LockName,
    fn: (signal: AbortSignal, lock: Lock) => T | Promise<T>,
    options?: WithLockOptions,
  ): Promise<T>;
  /** Flushes metrics. */
  flushMetrics(): Promise<void>;
  /** Stops the metrics timer. */
  close(): Promise<void>;
}

/** Options of {@link createLocks}. */
export interface LocksOptions {
  redis: RedisClient;
  /** @default "hotpath" */
  app?: string;
  /** Metrics label (a lock group, never a raw name). @default "default" */
  group?: string;
  /** Timeout of each Redis call (ms). @default 1000 */
  timeoutMs?: number;
  /** @default true */
  metrics?: MetricsOption;
  waitUntil?: (promise: Promise<unknown>) => void;
}

/**
 * Creates lock helpers. Safety model: these are efficiency locks on one Redis (a lease can
 * expire while its holder is paused, and async replication can lose a grant on failover); for
 * correctness, check the fencing token at the resource.
 */
export function createLocks(options: LocksOptions): Locks {
  const app = options.app ?? "hotpath";
  const group = options.group ?? "default";
  const wire = createWire(options.redis, options.timeoutMs ?? 1000);
  const recorder = createOptionalRecorder("lock", {
    redis: options.redis,
    app,
    metrics: options.metrics,
    waitUntil: options.waitUntil,
  });
  const count = (counter: LockCounter) => recorder?.count(group, counter);
  // An acquire Redis answered too late may still take the lock: released in the background.
  const abandoned = createAbandonedClaims({
    release: async (key, token) => asNumber(await wire.script(UNLOCK_SCRIPT, [key], [token])) === 1,
    report: () => undefined,
  });

  const makeLock = (key: string, token: string, fencingToken: number, ttlMs: number): Lock => ({
    key,
    token,
    fencingToken,
    async extend(ttl) {
      const px = ttl === undefined ? ttlMs : ttlToMs(ttl, "ttl");
      try {
        return asNumber(await wire.script(EXTEND_SCRIPT, [key], [token, Math.max(1, px)])) === 1;
      } catch (error) {
        count("lock_redis_errors_total");
        if (isRedisCommandError(error)) throw asCommandError(error);
        abandoned.add(key, token, ttlMs);
        throw new LockError(
          "LOCK_UNAVAILABLE",
          "Redis is unreachable: the lease could not be extended.",
          { cause: error, status: 503, retryAfter: 1 },
        );
      }
    },
    async release() {
      try {
        const released = asNumber(await wire.script(UNLOCK_SCRIPT, [key], [token])) === 1;
        if (released) count("lock_released_total");
        return released;
      } catch (error) {
        count("lock_redis_errors_total");
        if (isRedisCommandError(error)) throw asCommandError(error);
        abandoned.add(key, token, ttlMs);
        throw new LockError(
          "LOCK_UNAVAILABLE",
          "Redis is unreachable: the lock could not be released (it expires with its lease).",
          { cause: error, status: 503, retryAfter: 1 },
        );
      }
    },
  });

  /** When the granting call was sent (the lease runs at least until then + TTL). */
  const grantSentAt = new WeakMap<Lock, number>();

  const tryAcquireLock = async (name: LockName, o: AcquireOptions = {}): Promise<Lock | null> => {
    // One hash tag per lock: the lock and its fence counter are in one cluster slot.
    const tag = hashTag(...keyParts(name));
    const key = buildKey(app, "lock", "l", tag);
    const fenceKey = buildKey(app, "lock", "f", tag);
    const ttlMs = Math.max(1, ttlToMs(o.ttl ?? 10, "ttl"));
    const waitMs = o.wait === undefined ? 0 : ttlToMs(o.wait, "wait");
    const delay = Math.max(1, o.retry?.delayMs ?? o.retryDelayMs ?? 50);
    const maxAttempts = Math.max(1, o.retry?.attempts ?? Number.POSITIVE_INFINITY);
    const token = randomId(16);
    const started = Date.now();
    for (let attempt = 0; ; attempt += 1) {
      let granted: unknown;
      const sentAt = Date.now();
      try {
        granted = await wire.script(ACQUIRE_SCRIPT, [key, fenceKey], [token, ttlMs, FENCE_TTL_MS]);
      } catch (error) {
        count("lock_redis_errors_total");
        if (isRedisCommandError(error)) throw asCommandError(error);
        abandoned.add(key, token, ttlMs);
        throw new LockError(
          "LOCK_UNAVAILABLE",
          "Redis is unreachable: the lock was not acquired (locks fail closed).",
          { cause: error, status: 503, retryAfter: 1 },
        );
      }
      if (granted !== null) {
        count("lock_acquired_total");
        const lock = makeLock(key, token, asNumber(granted), ttlMs);
        grantSentAt.set(lock, sentAt);
        return lock;
      }
      if (attempt === 0) count("lock_contended_total");
      const elapsed = Date.now() - started;
      if (elapsed >= waitMs || o.signal?.aborted || attempt + 1 >= maxAttempts) {
        count("lock_timeouts_total");
        return null;
      }
      await sleep(Math.min(waitMs - elapsed, delay * (0.5 + Math.random())), o.signal);
    }
  };

  const acquireLock = async (name: LockName, o: AcquireOptions = {}): Promise<Lock> => {
    const lock = await tryAcquireLock(name, o);
    if (!lock) {
      throw new LockError(
        "LOCK_NOT_ACQUIRED",
        `The lock "${keyParts(name).join(":")}" is held by someone else.`,
        { status: 409, retryAfter: 1 },
      );
    }
    return lock;
  };

  const withLock = async <T>(
    name: LockName,
    fn: (signal: AbortSignal, lock: Lock) => T | Promise<T>,
    o: WithLockOptions = {},
  ): Promise<T> => {
    o.signal?.throwIfAborted();
    const ttlMs = Math.max(1, ttlToMs(o.ttl ?? 10, "ttl"));
    const marginMs = Math.min(
      ttlMs / 2,
      Math.max(0, o.safetyMarginMs ?? Math.max(20, Math.round(ttlMs / 10))),
    );
    const lock = await acquireLock(name, o);
    // The lease surely lasts until (send time of the last granting call + TTL): Redis started its
    // clock after we sent. Abort `fn` a margin before that, renewed or not.
    const sentAt = grantSentAt.get(lock) ?? Date.now();
    const every = Math.max(1, o.renewEveryMs ?? ttlMs / 3);
    const controller = new AbortController();
    let lost: LockError | undefined;
    const lose = (reason: LockError) => {
      if (lost) return;
      lost = reason;
      count("lock_lost_total");
      if (!controller.signal.aborted) controller.abort(reason);
    };
    const onOuterAbort = () => controller.abort(o.signal?.reason);
    o.signal?.addEventListener("abort", onOuterAbort, { once: true });
    let stopped = false;
    let deadline: ReturnType<typeof setTimeout> | undefined;
    const armDeadline = (validFrom: number) => {
      if (deadline !== undefined) clearTimeout(deadline);
      deadline = setTimeout(
        () =>
          lose(
            new LockError(
              "LOCK_LOST",
              "The lease could not be renewed in time; it may be held by someone else now.",
            ),
          ),
        Math.max(0, validFrom + ttlMs - marginMs - Date.now()),
      );
    };
    armDeadline(sentAt);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      timer = setTimeout(() => {
        const renewSentAt = Date.now();
        void lock.extend().then(
          (ok) => {
            if (stopped || lost) return;
            if (!ok)
              return lose(
                new LockError(
                  "LOCK_LOST",
                  "The lock's lease was lost (expired and taken, or released).",
                ),
              );
            armDeadline(renewSentAt);
            schedule();
          },
          () => {
            // Keep trying until the deadline: a later renewal may still get through.
            if (!stopped && !lost) schedule();
          },
        );
      }, every);
    };
    schedule();
    let result: T;
    try {
      result = await fn(controller.signal, lock);
    } catch (error) {
      if (lost) throw new LockError(lost.code, lost.message, { cause: error });
      throw error;
    } finally {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      if (deadline !== undefined) clearTimeout(deadline);
      o.signal?.removeEventListener("abort", onOuterAbort);
      await lock.release().catch(() => false);
    }
    // fn finished but the lock was lost meanwhile: its result may not be relied upon.
    if (lost) throw lost;
    return result;
  };

  return {
    acquireLock,
    tryAcquireLock,
    withLock,
    flushMetrics: () => recorder?.flush() ?? Promise.resolve(),
    close: () => {
      abandoned.stop();
      return recorder?.close() ?? Promise.resolve();
    },
  };
}
