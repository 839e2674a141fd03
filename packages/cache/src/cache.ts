import {
  buildKey,
  keyPattern,
  escapeKeyPart,
  type KEY_WILDCARD,
  type KeyPart,
} from "@hotpath/config";
import type {
  Cache,
  CacheEvent,
  CacheKey,
  CacheOptions,
  GetOptions,
  GetOrSetOptions,
  Loader,
  LoaderContext,
  LockOptions,
  SetOptions,
} from "./cache-types.ts";
import { CacheError } from "./errors.ts";
import { L1Store, type L1Entry, type L1Options } from "./l1.ts";
import { createOptionalRecorder, type CacheCounter } from "./metrics.ts";
import { keyParts } from "./key-parts.ts";
import { randomId, ttlToMs, validateWith, type StandardSchema, type Ttl } from "./options.ts";
import {
  DELETE_SCRIPT,
  INCREMENT_SCRIPT,
  POP_TAG_SCRIPT,
  READ_SCRIPT,
  RELEASE_SCRIPT,
  RENEW_LEASE_SCRIPT,
  STORE_SCRIPT,
} from "./scripts.ts";
import {
  assertSize,
  decodeEntry,
  defaultSerializer,
  encodeEntry,
  serializeValue,
  type Entry,
} from "./serializer.ts";
import {
  asNumber,
  asString,
  createWire,
  sleep,
  toWireError,
  type PipelineItem,
  type Wire,
} from "./wire.ts";

type ReadReply = {
  entry: Entry | undefined;
  raw: string | null;
  claimed: boolean;
  generation: string | null;
};

const NEGATIVE_DEFAULT_MS = 60_000;

/**
 * Creates a namespaced cache on an `@upstash/redis` client (REST or TCP, Node or edge).
 * @example
 * const users = createCache({ redis, namespace: "user", defaultTtl: TTL_MEDIUM });
 * const user = await users.getOrSet(["profile", id], () => db.user(id), { schema: userSchema });
 */
export function createCache(options: CacheOptions): Cache {
  const app = options.app ?? "hotpath";
  const namespace = options.namespace;
  escapeKeyPart(namespace);
  const defaultTtlMs = ttlToMs(options.defaultTtl, "defaultTtl");
  const serializer = options.serializer ?? defaultSerializer;
  const maxEntryBytes = options.maxEntryBytes ?? 1024 * 1024;
  const wire: Wire = createWire(options.redis, options.timeoutMs ?? 500, {
    circuitBreakerMs: options.circuitBreakerMs ?? 1000,
  });
  const l1Options: L1Options | undefined =
    options.l1 === true
      ? {}
      : options.l1 === false || options.l1 === undefined
        ? undefined
        : options.l1;
  const l1 = l1Options ? new L1Store(l1Options) : undefined;
  const l1TtlMs = l1Options?.ttlMs ?? 10_000;
  const instanceId = randomId(8);
  let sequence = 0;

  const generationKey = buildKey(app, "cache", namespace, "g");
  const channel = buildKey(app, "cache", namespace, "bus");
  // Built keys of plain string keys are memoised (bounded): the hot path skips the escaping.
  const builtKeys = new Map<string, string>();
  const entryKey = (key: CacheKey): string => {
    if (typeof key === "string") {
      const known = builtKeys.get(key);
      if (known !== undefined) return known;
      const built = buildKey(app, "cache", namespace, "v", key);
      if (builtKeys.size >= 10_000) builtKeys.clear();
      builtKeys.set(key, built);
      return built;
    }
    return buildKey(app, "cache", namespace, "v", ...keyParts(key));
  };
  const leaseKey = (key: string): string =>
    `${buildKey(app, "lock", "cache", namespace)}:${key.slice(entryPrefix.length)}`;
  const entryPrefix = `${buildKey(app, "cache", namespace, "v")}:`;
  const tagKey = (tag: string): string => buildKey(app, "cache", namespace, "t", tag);
  const hashKey = (key: CacheKey): string =>
    buildKey(app, "cache", namespace, "h", ...keyParts(key));
  const counterKey = (key: CacheKey): string => buildKey(app, "count", namespace, ...keyParts(key));

  const counts = {
    hits: 0,
    misses: 0,
    staleHits: 0,
    negativeHits: 0,
    loads: 0,
    loadErrors: 0,
    lockWaits: 0,
    redisErrors: 0,
  };
  const recorder = createOptionalRecorder("cache", {
    redis: options.redis,
    app,
    metrics: options.metrics,
    waitUntil: options.waitUntil,
    timeoutMs: options.timeoutMs ?? 500,
  });
  const count = (counter: CacheCounter, field: keyof typeof counts) => {
    counts[field] += 1;
    recorder?.count(namespace, counter);
  };
  const emit = (event: CacheEvent) => {
    if (!options.onEvent) return;
    try {
      options.onEvent(event);
    } catch {
      // A listener's failure must not break the read path.
    }
  };
  const redisError = (operation: string, error: unknown, key?: string) => {
    count("cache_redis_errors_total", "redisErrors");
    emit({ type: "redis_error", namespace, key, operation, error });
  };
  const background = (work: Promise<unknown>, waitUntil = options.waitUntil) => {
    const guarded = work.catch(() => undefined);
    waitUntil?.(guarded);
  };

  // ---- L1 coherence ---------------------------------------------------------------------------
  let lastGeneration: string | null | undefined;
  const observeGeneration = (generation: string | null) => {
    if (!l1) return;
    if (lastGeneration !== undefined && generation !== lastGeneration) l1.clear();
    lastGeneration = generation;
  };
  /** After our own bump: if nobody else wrote in between, our L1 stays (it already reflects the write). */
  const adoptOwnBump = (generation: unknown) => {
    if (!l1) return;
    const next = asNumber(generation, Number.NaN);
    if (!Number.isFinite(next) || next <= 0) return;
    const previous =
      lastGeneration === undefined || lastGeneration === null ? 0 : Number(lastGeneration);
    if (lastGeneration !== undefined && next !== previous + 1) l1.clear();
    lastGeneration = String(next);
  };
  type BusMessage = { o: string; k?: string[]; t?: string; all?: 1 };
  const applyBusMessage = (message: BusMessage) => {
    if (!l1 || message.o === instanceId) return;
    // Entries' tags are not known to every instance (an entry read here may have been tagged
    // elsewhere): a tag invalidation drops the whole namespace from L1.
    if (message.all || message.t !== undefined) l1.clear();
    for (const key of message.k ?? []) l1.delete(key);
  };
  let unsubscribe: (() => Promise<void>) | undefined;
  if (l1 && l1Options?.bus !== false) {
    try {
      const subscriber = options.redis.subscribe<BusMessage>([channel]);
      subscriber.on("message", ({ message }) => {
        const parsed =
          typeof message === "string" ? (safeJson(message) as BusMessage | undefined) : message;
        if (parsed && typeof parsed === "object") applyBusMessage(parsed);
      });
      subscriber.on("error", () => undefined);
      unsubscribe = async () => {
        try {
          await subscriber.unsubscribe();
        } catch {
          // Closing a dead subscription is fine.
        }
      };
    } catch {
      // No pub/sub on this client: generation stamps alone keep L1 coherent.
    }
  }
  const busMessage = (body: Omit<BusMessage, "o">): string =>
    JSON.stringify({ o: instanceId, ...body });

  // ---- decoding ---------------------------------------------------------------------------------
  type Decoded<T> =
    { ok: true; value: T | null; negative: boolean } | { ok: false; reason: string };
  const decodeValue = <T>(
    entry: Entry,
    schema: StandardSchema<T> | undefined,
  ): Decoded<T> | Promise<Decoded<T>> => {
    if (entry.kind === "n") return { ok: true, value: null, negative: true };
    let value: unknown;
    try {
      value = serializer.deserialize(entry.payload);
    } catch (error) {
      return { ok: false, reason: `cannot deserialize: ${(error as Error).message}` };
    }
    if (!schema) return { ok: true, value: value as T, negative: false };
    return validateWith(schema, value).then((checked) =>
      checked.ok
        ? { ok: true, value: checked.value, negative: false }
        : { ok: false, reason: `schema: ${checked.message}` },
    );
  };

  const toL1 = (key: string, entry: Entry, value: unknown, negative: boolean) => {
    if (!l1) return;
    l1.set(key, {
      value,
      negative,
      freshUntil: entry.freshUntil,
      staleUntil: entry.staleUntil,
      l1Until: Math.min(entry.freshUntil, Date.now() + l1TtlMs),
      bytes: entry.payload.length + key.length,
    });
  };

  // ---- Redis operations -------------------------------------------------------------------------
  const read = async (
    key: string,
    claim: boolean,
    token: string,
    leaseMs: number,
  ): Promise<ReadReply> => {
    const reply = (await wire.script(
      READ_SCRIPT,
      [key, leaseKey(key), generationKey],
      [Date.now(), leaseMs, token, claim ? "1" : "0", l1 ? "1" : "0"],
    )) as unknown[];
    const raw = asString(reply[0]);
    const generation = asString(reply[2]);
    observeGeneration(generation);
    return {
      raw,
      entry: raw === null ? undefined : decodeEntry(raw),
      claimed: asNumber(reply[1]) === 1,
      generation,
    };
  };

  /** The hit path: one GET (MGET with the generation stamp when L1 is on), no script. */
  const readPlain = (key: string): Promise<ReadReply> => {
    if (l1) {
      return wire.command(["MGET", key, generationKey], (value): ReadReply => {
        const reply = value as unknown[];
        const raw = asString(reply[0]);
        const generation = asString(reply[1]);
        observeGeneration(generation);
        return {
          raw,
          entry: raw === null ? undefined : decodeEntry(raw),
          claimed: false,
          generation,
        };
      });
    }
    return wire.command(["GET", key], (value): ReadReply => {
      const raw = asString(value);
      return {
        raw,
        entry: raw === null ? undefined : decodeEntry(raw),
        claimed: false,
        generation: null,
      };
    });
  };

  type Prepared = { encoded: string; px: number; entry: Entry };
  const prepare = (
    key: string,
    value: unknown,
    ttlMs: number,
    staleMs: number,
    loadMs: number,
  ): Prepared => {
    const negative = value === null;
    const payload = negative ? "" : serializeValue(serializer, value, key);
    assertSize(payload, maxEntryBytes, key);
    const now = Date.now();
    const freshUntil = Math.round(now + ttlMs);
    const entry: Entry = {
      kind: negative ? "n" : "v",
      payload,
      freshUntil,
      staleUntil: Math.round(freshUntil + staleMs),
      loadMs,
    };
    return { encoded: encodeEntry(entry), px: Math.max(1, Math.ceil(ttlMs + staleMs)), entry };
  };

  const storeItem = (
    key: string,
    prepared: Prepared,
    tags: readonly string[],
    token: string,
    explicit: boolean,
  ): PipelineItem => ({
    script: STORE_SCRIPT,
    keys: [key, leaseKey(key), generationKey, ...tags.map(tagKey)],
    args: [
      prepared.encoded,
      prepared.px,
      token,
      explicit ? "1" : "0",
      explicit ? channel : "",
      explicit ? busMessage({ k: [key] }) : "",
    ],
  });

  const runItem = async (item: PipelineItem): Promise<unknown> => {
    if (Array.isArray(item)) return wire.command(item as readonly string[]);
    const call = item as Exclude<PipelineItem, readonly unknown[]>;
    return wire.script(call.script, call.keys, call.args);
  };

  const releaseLease = (key: string, token: string) =>
    wire
      .script(RELEASE_SCRIPT, [leaseKey(key)], [token])
      .catch((error: unknown) => redisError("release", error, key));

  // ---- getOrSet ---------------------------------------------------------------------------------
  const flights = new Map<string, Promise<unknown>>();
  const refreshing = new Set<string>();

  interface Plan<T> {
    key: string;
    loader: Loader<T>;
    schema: StandardSchema<T> | undefined;
    tags: readonly string[];
    ttlMs: number;
    staleMs: number;
    negativeMs: number;
    jitter: number;
    lock: Required<LockOptions> | undefined;
    earlyBeta: number;
    waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  }

  const planOf = <T>(key: string, loader: Loader<T>, o: GetOrSetOptions<T>): Plan<T> => {
    const ttlMs = o.ttl === undefined ? defaultTtlMs : ttlToMs(o.ttl, "ttl");
    const lockOptions =
      o.lock === false ? undefined : o.lock === true || o.lock === undefined ? {} : o.lock;
    return {
      key,
      loader,
      schema: o.schema,
      tags: o.tags ?? [],
      ttlMs,
      staleMs:
        o.staleWhileRevalidate === undefined || o.staleWhileRevalidate === false
          ? 0
          : ttlToMs(o.staleWhileRevalidate, "staleWhileRevalidate"),
      negativeMs:
        o.negativeTtl === undefined
          ? Math.min(ttlMs, NEGATIVE_DEFAULT_MS)
          : ttlToMs(o.negativeTtl, "negativeTtl"),
      jitter: Math.min(Math.max(o.jitter ?? 0.1, 0), 0.9),
      lock: lockOptions
        ? {
            leaseMs: lockOptions.leaseMs ?? 10_000,
            waitMs: lockOptions.waitMs ?? 5_000,
            pollMs: lockOptions.pollMs ?? 10,
          }
        : undefined,
      earlyBeta: typeof o.earlyRefresh === "number" ? o.earlyRefresh : 0,
      waitUntil: o.waitUntil ?? options.waitUntil,
    };
  };

  /** Runs the loader, stores its value (releasing the lease), returns the value. */
  const loadAndStore = async <T>(
    plan: Plan<T>,
    token: string,
    storeInBackground: boolean,
    refresh?: { stale: T | null },
  ): Promise<T> => {
    const started = performance.now();
    let value: T;
    let ttlOverride: number | undefined;
    let tags = plan.tags;
    let skip = false;
    const context: LoaderContext<T> = {
      key: plan.key,
      stale: refresh?.stale,
      background: refresh !== undefined,
      setTtl: (ttl) => void (ttlOverride = ttlToMs(ttl, "setTtl")),
      setTags: (next) => void (tags = [...next]),
      skip: () => void (skip = true),
    };
    // While we hold the lease, keep it alive for a slow loader (others keep waiting, not loading).
    let renewal: ReturnType<typeof setInterval> | undefined;
    const leaseMs = plan.lock?.leaseMs ?? 0;
    if (token && leaseMs > 0) {
      renewal = setInterval(
        () => {
          wire
            .script(RENEW_LEASE_SCRIPT, [leaseKey(plan.key)], [token, leaseMs])
            .catch(() => undefined);
        },
        Math.max(50, leaseMs / 2),
      );
      (renewal as { unref?: () => void }).unref?.();
    }
    try {
      value = await plan.loader(context);
    } catch (error) {
      if (renewal !== undefined) clearInterval(renewal);
      count("cache_load_errors_total", "loadErrors");
      emit({ type: "load_error", namespace, key: plan.key, error });
      if (token) background(releaseLease(plan.key, token), plan.waitUntil);
      throw error;
    }
    if (renewal !== undefined) clearInterval(renewal);
    const durationMs = performance.now() - started;
    count("cache_loads_total", "loads");
    emit({ type: "load", namespace, key: plan.key, durationMs });
    if (
      skip ||
      value === undefined ||
      (value === null && plan.negativeMs <= 0) ||
      ttlOverride === 0
    ) {
      if (token) background(releaseLease(plan.key, token), plan.waitUntil);
      return value;
    }
    const base = ttlOverride ?? (value === null ? plan.negativeMs : plan.ttlMs);
    const ttlMs = Math.max(1, base * (1 - plan.jitter * Math.random()));
    let prepared: Prepared;
    try {
      prepared = prepare(plan.key, value, ttlMs, value === null ? 0 : plan.staleMs, durationMs);
    } catch (error) {
      if (error instanceof CacheError)
        emit({ type: "write_refused", namespace, key: plan.key, error });
      if (token) background(releaseLease(plan.key, token), plan.waitUntil);
      return value;
    }
    toL1(plan.key, prepared.entry, value, value === null);
    const write = runItem(storeItem(plan.key, prepared, tags, token, false)).catch(
      (error: unknown) => redisError("store", error, plan.key),
    );
    if (storeInBackground) background(write, plan.waitUntil);
    else await write;
    return value;
  };

  const refreshInBackground = <T>(plan: Plan<T>, token: string, stale: T | null) => {
    if (refreshing.has(plan.key)) {
      if (token) background(releaseLease(plan.key, token), plan.waitUntil);
      return;
    }
    refreshing.add(plan.key);
    const work = loadAndStore(plan, token, false, { stale })
      .catch(() => undefined)
      .finally(() => refreshing.delete(plan.key));
    background(work, plan.waitUntil);
  };

  const claiming = new Set<string>();
  /** Tries to take the refresh lease (one SET NX) and refreshes when it got it. */
  const claimForRefresh = async <T>(plan: Plan<T>, current: T | null) => {
    if (claiming.has(plan.key) || refreshing.has(plan.key)) return;
    claiming.add(plan.key);
    const token = `${instanceId}:${++sequence}`;
    try {
      const claimed = await wire.command([
        "SET",
        leaseKey(plan.key),
        token,
        "NX",
        "PX",
        String(plan.lock?.leaseMs ?? 10_000),
      ]);
      if (claimed !== null) refreshInBackground(plan, token, current);
    } catch (error) {
      redisError("claim", error, plan.key);
    } finally {
      claiming.delete(plan.key);
    }
  };

  /** Serves a decoded entry: fresh or stale; undefined when it is not usable (→ miss). */
  const serve = async <T>(
    plan: Plan<T>,
    reply: ReadReply,
    token: string,
    mode: "first" | "after-miss",
  ): Promise<{ value: T | null } | undefined> => {
    const entry = reply.entry;
    if (reply.raw !== null && entry === undefined) {
      emit({ type: "invalid_value", namespace, key: plan.key, reason: "malformed entry" });
      return undefined;
    }
    if (entry === undefined) return undefined;
    const now = Date.now();
    if (entry.staleUntil <= now) return undefined;
    const maybe = decodeValue(entry, plan.schema);
    const decoded = maybe instanceof Promise ? await maybe : maybe;
    if (!decoded.ok) {
      emit({ type: "invalid_value", namespace, key: plan.key, reason: decoded.reason });
      return undefined;
    }
    const fresh = entry.freshUntil > now;
    const first = mode === "first";
    if (fresh) {
      if (first) {
        if (decoded.negative) count("cache_negative_hits_total", "negativeHits");
        else count("cache_hits_total", "hits");
        emit({
          type: decoded.negative ? "negative_hit" : "hit",
          namespace,
          key: plan.key,
          tier: "redis",
        });
      }
      toL1(plan.key, entry, decoded.value, decoded.negative);
      // Claimed although fresh (clock skew between this client and the writer): give it back.
      if (reply.claimed) background(releaseLease(plan.key, token), plan.waitUntil);
      if (plan.earlyBeta > 0 && !refreshing.has(plan.key)) {
        const delta = Math.max(entry.loadMs, 1);
        if (now - delta * plan.earlyBeta * Math.log(Math.random()) >= entry.freshUntil)
          background(claimForRefresh(plan, decoded.value), plan.waitUntil);
      }
      return { value: decoded.value };
    }
    if (first) {
      count("cache_stale_hits_total", "staleHits");
      emit({ type: "stale_hit", namespace, key: plan.key, tier: "redis" });
    }
    if (reply.claimed) refreshInBackground(plan, token, decoded.value);
    else if (!plan.lock) refreshInBackground(plan, "", decoded.value);
    else if (first && !refreshing.has(plan.key)) {
      // After the caller has its value: the claim is not on the caller's path.
      background(
        new Promise<void>((done) =>
          setTimeout(() => void claimForRefresh(plan, decoded.value).finally(done), 0),
        ),
        plan.waitUntil,
      );
    }
    return { value: decoded.value };
  };

  /** The common hit, synchronously: fresh, no schema, no early refresh. */
  const freshWithoutSchema = <T>(
    plan: Plan<T>,
    reply: ReadReply,
  ): { value: T | null } | undefined => {
    const entry = reply.entry;
    if (
      entry === undefined ||
      plan.schema !== undefined ||
      plan.earlyBeta > 0 ||
      entry.freshUntil <= Date.now()
    )
      return undefined;
    let value: unknown = null;
    if (entry.kind === "v") {
      try {
        value = serializer.deserialize(entry.payload);
      } catch {
        return undefined;
      }
      count("cache_hits_total", "hits");
    } else count("cache_negative_hits_total", "negativeHits");
    if (options.onEvent)
      emit({
        type: entry.kind === "n" ? "negative_hit" : "hit",
        namespace,
        key: plan.key,
        tier: "redis",
      });
    toL1(plan.key, entry, value, entry.kind === "n");
    return { value: value as T | null };
  };

  /** Everything after the first read that is not the common fresh hit. */
  const afterRead = async <T>(plan: Plan<T>, reply: ReadReply): Promise<T> => {
    const lock = plan.lock;
    const served = await serve(plan, reply, "", "first");
    if (served) return served.value as T;
    count("cache_misses_total", "misses");
    emit({ type: "miss", namespace, key: plan.key, tier: "redis" });
    if (!lock) return loadAndStore(plan, "", false);
    if (reply.entry !== undefined && reply.entry.freshUntil > Date.now()) {
      // A value Redis holds as fresh but that is unusable here (schema): replace it, no lease.
      return loadAndStore(plan, "", false);
    }
    // Missing (or expired/malformed): claim the lease; the same call returns a value stored meanwhile.
    const token = `${instanceId}:${++sequence}`;
    /** Reads with a lease claim; a Redis failure is reported and answers `undefined`. */
    const claimRead = async (): Promise<ReadReply | undefined> => {
      try {
        return await read(plan.key, true, token, lock.leaseMs);
      } catch (error) {
        redisError("read", error, plan.key);
        return undefined;
      }
    };
    const claim = await claimRead();
    if (!claim) return failSafe(plan);
    const meanwhile = await serve(plan, claim, token, "after-miss");
    if (meanwhile) return meanwhile.value as T;
    if (claim.claimed) return loadAndStore(plan, token, false);
    // Someone else holds the lease: wait for the value with a bound, then load ourselves.
    count("cache_lock_waits_total", "lockWaits");
    const waitStarted = Date.now();
    const waited = (outcome: "value" | "claimed" | "timeout") =>
      emit({
        type: "lock_wait",
        namespace,
        key: plan.key,
        waitedMs: Date.now() - waitStarted,
        outcome,
      });
    let pause = lock.pollMs;
    while (Date.now() - waitStarted < lock.waitMs) {
      await sleep(Math.min(pause, lock.waitMs - (Date.now() - waitStarted)));
      pause = Math.min(pause * 2, 100);
      const again = await claimRead();
      if (!again) return failSafe(plan);
      const value = await serve(plan, again, token, "after-miss");
      if (value) {
        waited("value");
        return value.value as T;
      }
      if (again.claimed) {
        waited("claimed");
        return loadAndStore(plan, token, false);
      }
    }
    waited("timeout");
    return loadAndStore(plan, "", false);
  };

  /** Redis failed: serve the local stale value if any, else the loader's value (stored in the background). */
  const failSafe = async <T>(plan: Plan<T>): Promise<T> => {
    const local = l1?.peek(plan.key);
    if (local && local.staleUntil > Date.now()) {
      count("cache_stale_hits_total", "staleHits");
      emit({ type: "stale_hit", namespace, key: plan.key, tier: "l1" });
      return local.value as T;
    }
    return loadAndStore(plan, "", true);
  };

  const fromL1 = (key: string): L1Entry | undefined => {
    if (!l1) return undefined;
    const entry = l1.get(key);
    if (entry === undefined) return undefined;
    if (entry.l1Until > Date.now()) return entry;
    if (entry.staleUntil <= Date.now()) l1.delete(key);
    return undefined;
  };

  /** Removes a key's flight once its promise settles. */
  const settle = <T>(key: string, work: Promise<T>): Promise<T> =>
    work.then(
      (value) => {
        flights.delete(key);
        return value;
      },
      (error: unknown) => {
        flights.delete(key);
        throw error;
      },
    );

  const getOrSet = <T>(
    key: CacheKey,
    loader: Loader<T>,
    o: GetOrSetOptions<T> = {},
  ): Promise<T> => {
    const k = entryKey(key);
    const local = fromL1(k);
    if (local) {
      if (local.negative) count("cache_negative_hits_total", "negativeHits");
      else count("cache_hits_total", "hits");
      emit({ type: local.negative ? "negative_hit" : "hit", namespace, key: k, tier: "l1" });
      return Promise.resolve(local.value as T);
    }
    const inFlight = flights.get(k);
    if (inFlight) return inFlight as Promise<T>;
    let plan: Plan<T>;
    try {
      plan = planOf(k, loader, o);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    // One promise hop on the common fresh hit; everything else continues in afterRead. (Handlers
    // are inline and anonymous on purpose: no per-call named closures on the hot path.)
    const flight = readPlain(k).then(
      (reply) => {
        const fast = freshWithoutSchema(plan, reply);
        if (fast) {
          flights.delete(k);
          return fast.value as T;
        }
        return settle(k, afterRead(plan, reply));
      },
      (error: unknown) => {
        redisError("read", error, k);
        return settle(k, failSafe(plan));
      },
    );
    flights.set(k, flight);
    return flight;
  };

  // ---- plain operations -------------------------------------------------------------------------
  const get = async <T>(key: CacheKey, o: GetOptions<T> = {}): Promise<T | null | undefined> => {
    const k = entryKey(key);
    const local = fromL1(k);
    if (local) {
      if (local.negative) count("cache_negative_hits_total", "negativeHits");
      else count("cache_hits_total", "hits");
      emit({ type: local.negative ? "negative_hit" : "hit", namespace, key: k, tier: "l1" });
      return local.value as T | null;
    }
    let reply: ReadReply;
    try {
      reply = await readPlain(k);
    } catch (error) {
      redisError("get", error, k);
      return undefined;
    }
    const entry = reply.entry;
    const now = Date.now();
    if (entry && (entry.freshUntil > now || (o.allowStale && entry.staleUntil > now))) {
      const decoded = await decodeValue(entry, o.schema);
      if (decoded.ok) {
        const fresh = entry.freshUntil > now;
        if (decoded.negative) count("cache_negative_hits_total", "negativeHits");
        else if (fresh) count("cache_hits_total", "hits");
        else count("cache_stale_hits_total", "staleHits");
        emit({
          type: decoded.negative ? "negative_hit" : fresh ? "hit" : "stale_hit",
          namespace,
          key: k,
          tier: "redis",
        });
        if (fresh) toL1(k, entry, decoded.value, decoded.negative);
        return decoded.value;
      }
      emit({ type: "invalid_value", namespace, key: k, reason: decoded.reason });
    } else if (reply.raw !== null && !entry) {
      emit({ type: "invalid_value", namespace, key: k, reason: "malformed entry" });
    }
    count("cache_misses_total", "misses");
    emit({ type: "miss", namespace, key: k, tier: "redis" });
    return undefined;
  };

  const set = async (key: CacheKey, value: unknown, o: SetOptions = {}): Promise<boolean> => {
    const k = entryKey(key);
    const ttlMs = o.ttl === undefined ? defaultTtlMs : ttlToMs(o.ttl, "ttl");
    const staleMs = o.staleWhileRevalidate
      ? ttlToMs(o.staleWhileRevalidate, "staleWhileRevalidate")
      : 0;
    const prepared = prepare(k, value, ttlMs, staleMs, 0);
    l1?.delete(k);
    try {
      adoptOwnBump(await runItem(storeItem(k, prepared, o.tags ?? [], "", true)));
      return true;
    } catch (error) {
      redisError("set", error, k);
      return false;
    }
  };

  const deleteKeys = async (
    keys: readonly string[],
    message: Omit<BusMessage, "o">,
  ): Promise<number> => {
    const reply = (await wire.script(
      DELETE_SCRIPT,
      [generationKey, ...keys],
      [channel, busMessage(message)],
    )) as unknown[];
    adoptOwnBump(reply[1]);
    return asNumber(reply[0]);
  };

  const del = async (key: CacheKey): Promise<boolean> => {
    const k = entryKey(key);
    l1?.delete(k);
    try {
      return (await deleteKeys([k], { k: [k] })) > 0;
    } catch (error) {
      redisError("delete", error, k);
      return false;
    }
  };

  const exists = async (key: CacheKey): Promise<boolean> => {
    const k = entryKey(key);
    try {
      return asNumber(await wire.command(["EXISTS", k])) === 1;
    } catch (error) {
      redisError("exists", error, k);
      return false;
    }
  };

  const ttl = async (key: CacheKey): Promise<number | null> => {
    const k = entryKey(key);
    let raw: string | null;
    try {
      raw = asString(await wire.command(["GET", k]));
    } catch (error) {
      redisError("ttl", error, k);
      return null;
    }
    const entry = raw === null ? undefined : decodeEntry(raw);
    if (!entry || entry.staleUntil <= Date.now()) return null;
    return Math.max(0, Math.ceil((entry.freshUntil - Date.now()) / 1000));
  };

  const invalidateTag = async (tag: string): Promise<number> => {
    l1?.clear();
    let removed = 0;
    const batch = 500;
    try {
      for (let round = 0; round < 10_000; round += 1) {
        const popped = asNumber(await wire.script(POP_TAG_SCRIPT, [tagKey(tag)], [batch]));
        removed += popped;
        if (popped < batch) break;
      }
      await deleteKeys([], { t: tag });
    } catch (error) {
      redisError("invalidateTag", error);
      throw toWireError(error);
    }
    return removed;
  };

  const invalidatePattern = async (
    pattern: string | readonly (KeyPart | typeof KEY_WILDCARD)[],
  ): Promise<number> => {
    const match =
      typeof pattern === "string"
        ? `${entryPrefix}${pattern
            .split("*")
            .map((piece) => (piece === "" ? "" : escapeKeyPart(piece)))
            .join("*")}`
        : keyPattern(app, "cache", namespace, "v", ...pattern);
    const regex = globToRegExp(match);
    l1?.deleteWhere((key) => regex.test(key));
    let removed = 0;
    let cursor = "0";
    try {
      for (let round = 0; round < 100_000; round += 1) {
        const reply = (await wire.command([
          "SCAN",
          cursor,
          "MATCH",
          match,
          "COUNT",
          "500",
        ])) as unknown[];
        cursor = String(reply[0]);
        const keys = (reply[1] as unknown[] | undefined)?.map(String) ?? [];
        if (keys.length > 0) removed += asNumber(await wire.command(["UNLINK", ...keys]));
        if (cursor === "0") break;
      }
      await deleteKeys([], { all: 1 });
    } catch (error) {
      redisError("invalidatePattern", error);
      throw toWireError(error);
    }
    return removed;
  };

  const mget = async <T>(
    keys: readonly CacheKey[],
    o: GetOptions<T> = {},
  ): Promise<(T | null | undefined)[]> => {
    if (keys.length === 0) return [];
    const ks = keys.map(entryKey);
    let raws: unknown[];
    try {
      raws = (await wire.command(["MGET", ...ks])) as unknown[];
    } catch (error) {
      redisError("mget", error);
      return ks.map(() => undefined);
    }
    const now = Date.now();
    return Promise.all(
      ks.map(async (k, index) => {
        const raw = asString(raws[index]);
        const entry = raw === null ? undefined : decodeEntry(raw);
        if (entry && (entry.freshUntil > now || (o.allowStale && entry.staleUntil > now))) {
          const decoded = await decodeValue(entry, o.schema);
          if (decoded.ok) {
            if (decoded.negative) count("cache_negative_hits_total", "negativeHits");
            else count("cache_hits_total", "hits");
            return decoded.value;
          }
          emit({ type: "invalid_value", namespace, key: k, reason: decoded.reason });
        }
        count("cache_misses_total", "misses");
        return undefined;
      }),
    );
  };

  const mset = async (
    entries: readonly { key: CacheKey; value: unknown; ttl?: Ttl; tags?: readonly string[] }[],
  ) => {
    const items = entries.map((e) => {
      const k = entryKey(e.key);
      l1?.delete(k);
      const ttlMs = e.ttl === undefined ? defaultTtlMs : ttlToMs(e.ttl, "ttl");
      return storeItem(k, prepare(k, e.value, ttlMs, 0, 0), e.tags ?? [], "", true);
    });
    if (items.length === 0) return true;
    try {
      const replies = await wire.pipeline(items);
      for (const reply of replies) if (reply.ok) adoptOwnBump(reply.value);
      return replies.every((reply) => reply.ok);
    } catch (error) {
      redisError("mset", error);
      return false;
    }
  };

  const hashSet = async (key: CacheKey, fields: Record<string, unknown>, o: { ttl?: Ttl } = {}) => {
    const k = hashKey(key);
    const flat: string[] = [];
    for (const [field, value] of Object.entries(fields)) {
      const text = serializeValue(serializer, value, `${k}#${field}`);
      assertSize(text, maxEntryBytes, `${k}#${field}`);
      flat.push(field, text);
    }
    if (flat.length === 0) return true;
    const items: PipelineItem[] = [["HSET", k, ...flat]];
    if (o.ttl !== undefined) items.push(["PEXPIRE", k, String(Math.max(1, ttlToMs(o.ttl, "ttl")))]);
    try {
      const replies = await wire.pipeline(items);
      return replies.every((reply) => reply.ok);
    } catch (error) {
      redisError("hashSet", error, k);
      return false;
    }
  };

  const decodeField = (text: string | null): unknown => {
    if (text === null) return undefined;
    try {
      return serializer.deserialize(text);
    } catch {
      return undefined;
    }
  };

  const hashGet = async <T>(key: CacheKey, field: string): Promise<T | undefined> => {
    const k = hashKey(key);
    try {
      return decodeField(asString(await wire.command(["HGET", k, field]))) as T | undefined;
    } catch (error) {
      redisError("hashGet", error, k);
      return undefined;
    }
  };

  const hashGetAll = async <T>(key: CacheKey): Promise<Record<string, T>> => {
    const k = hashKey(key);
    let flat: unknown[];
    try {
      flat = ((await wire.command(["HGETALL", k])) as unknown[] | null) ?? [];
    } catch (error) {
      redisError("hashGetAll", error, k);
      return {};
    }
    const out: Record<string, T> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const value = decodeField(asString(flat[i + 1]));
      if (value !== undefined) out[String(flat[i])] = value as T;
    }
    return out;
  };

  const increment = async (key: CacheKey, by = 1, o: { ttl?: Ttl } = {}): Promise<number> => {
    if (!Number.isSafeInteger(by))
      throw new CacheError("CACHE_INVALID_OPTION", `by must be an integer, got ${by}`);
    const px = o.ttl === undefined ? 0 : Math.max(1, ttlToMs(o.ttl, "ttl"));
    return asNumber(await wire.script(INCREMENT_SCRIPT, [counterKey(key)], [by, px]));
  };

  const cache: Cache = {
    namespace,
    get,
    set,
    delete: del,
    exists,
    ttl,
    getOrSet,
    invalidateTag,
    invalidatePattern,
    mget,
    mset,
    hashSet,
    hashGet,
    hashGetAll,
    increment,
    decrement: (key, by = 1, o) => increment(key, -by, o),
    cached(fn, o) {
      const { key, ...rest } = o;
      return (...args) => getOrSet(key(...args), () => fn(...args), rest);
    },
    stats() {
      const reads = counts.hits + counts.staleHits + counts.negativeHits + counts.misses;
      return {
        ...counts,
        hitRate: reads === 0 ? 0 : (reads - counts.misses) / reads,
        l1Entries: l1?.size ?? 0,
        l1Bytes: l1?.bytes ?? 0,
      };
    },
    flushMetrics: () => recorder?.flush() ?? Promise.resolve(),
    async close() {
      await unsubscribe?.();
      await recorder?.close();
    },
  };
  return cache;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, ".*")}$`);
}
