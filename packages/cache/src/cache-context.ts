import { buildKey, escapeKeyPart, hashTag, keySlot, type KeyPart } from "@hotpath/config";
import type { CacheEvent, CacheKey, CacheOptions } from "./cache-types.ts";
import { asCommandError, isRedisCommandError } from "./errors.ts";
import { L1Store, type L1Options } from "./l1.ts";
import { createOptionalRecorder, type CacheCounter, type MetricsRecorder } from "./metrics.ts";
import { keyParts } from "./key-parts.ts";
import { randomId, ttlToMs, validateWith, type StandardSchema } from "./options.ts";
import { RELEASE_SCRIPT } from "./scripts.ts";
import {
  assertSize,
  decodeEntry,
  defaultSerializer,
  encodeEntry,
  serializeValue,
  type Entry,
  type Serializer,
} from "./serializer.ts";
import { createWire, type Wire } from "./wire.ts";

/** In-process counters of one cache (the fields of `stats()` besides the derived ones). */
export interface CacheCounts {
  hits: number;
  misses: number;
  staleHits: number;
  negativeHits: number;
  loads: number;
  loadErrors: number;
  lockWaits: number;
  redisErrors: number;
}

/** A value decoded from an entry, or why it could not be. */
export type Decoded<T> =
  { ok: true; value: T | null; negative: boolean } | { ok: false; reason: string };

/** An entry ready to store: its encoded text, its Redis TTL and the entry itself. */
export interface Prepared {
  encoded: string;
  px: number;
  entry: Entry;
}

/**
 * What a load saw before it began: the entry's write version and the namespace sweep epoch
 * ("" when unset). Its store is refused when either moved meanwhile.
 */
export interface LoadStamp {
  version: string;
  sweep: string;
}

/**
 * Key builders of one cache namespace. Entries are spread over {@link SLOT_GROUPS} slot groups
 * (hash tags `{<namespace>:<n>}`, n from the key's CRC16): an entry, its lease and its write
 * version share its group's tag, and so do the group's generation stamp, sweep epoch and tag sets,
 * so every script touches one Redis Cluster slot, and a namespace is spread over the cluster
 * instead of sitting on one node.
 */
export interface CacheKeys {
  /** `<app>:cache:<ns>:v:{<ns>:<group>}:<key…>` (plain string keys memoised). */
  entry: (key: CacheKey) => string;
  /** The slot group tag (`{<ns>:<n>}`) of an entry key. */
  groupOf: (entryKey: string) => string;
  /** Every slot group tag of the namespace (invalidations visit each). */
  readonly groups: readonly string[];
  /** The single-flight lease of an entry key. */
  lease: (entryKey: string) => string;
  /** The per-entry write version (bumped by every write and invalidation of the entry). */
  version: (entryKey: string) => string;
  /** The set of a slot group's entries carrying `tag`. */
  tag: (group: string, tag: string) => string;
  /** Hash helpers' key. */
  hash: (key: CacheKey) => string;
  /** Counter helpers' key. */
  counter: (key: CacheKey) => string;
  /** A slot group's generation stamp (L1 coherence). */
  generation: (group: string) => string;
  /** A slot group's sweep epoch (bumped by tag and pattern invalidations). */
  sweep: (group: string) => string;
  /** The namespace invalidation channel. */
  readonly channel: string;
  /** Prefix of every entry key (`…:v:`). */
  readonly entryPrefix: string;
}

/** What the parts of a cache share: options, keys, the wire, L1, counters and reporting. */
export interface CacheContext {
  readonly options: CacheOptions;
  readonly app: string;
  readonly namespace: string;
  readonly defaultTtlMs: number;
  readonly serializer: Serializer;
  readonly wire: Wire;
  readonly l1: L1Store | undefined;
  readonly l1Options: L1Options | undefined;
  readonly instanceId: string;
  readonly keys: CacheKeys;
  readonly counts: CacheCounts;
  readonly recorder: MetricsRecorder | undefined;
  /** A fresh lease token (unique per instance and call). */
  nextToken: () => string;
  /** Counts one event in-process and in the per-minute metrics. */
  count: (counter: CacheCounter, field: keyof CacheCounts) => void;
  /** Hands an event to `onEvent` (a throwing listener is ignored). */
  emit: (event: CacheEvent) => void;
  /**
   * Counts and reports a Redis failure; rethrows it as a RedisCommandError when Redis refused the
   * command (only an unreachable or slow Redis is fallen back from).
   */
  redisError: (operation: string, error: unknown, key?: string) => void;
  /** Runs work off the caller's path (handed to `waitUntil` when given). */
  background: (work: Promise<unknown>, waitUntil?: (promise: Promise<unknown>) => void) => void;
  /** Decodes an entry's value (and validates it when a schema is given). */
  decodeValue: <T>(
    entry: Entry,
    schema: StandardSchema<T> | undefined,
  ) => Decoded<T> | Promise<Decoded<T>>;
  /** Decodes an entry text read from Redis. */
  decodeEntry: (raw: string | null) => Entry | undefined;
  /** Serializes, size-checks and envelopes a value. */
  prepare: (
    key: string,
    value: unknown,
    ttlMs: number,
    staleMs: number,
    loadMs: number,
  ) => Prepared;
  /** Releases a single-flight lease we hold (failures are reported). */
  releaseLease: (key: string, token: string) => Promise<unknown>;
}

/** Builds the shared {@link CacheContext} of one `createCache` call. */
export function createCacheContext(options: CacheOptions): CacheContext {
  const app = options.app ?? "hotpath";
  const namespace = options.namespace;
  escapeKeyPart(namespace);
  const defaultTtlMs = ttlToMs(options.defaultTtl, "defaultTtl");
  const serializer = options.serializer ?? defaultSerializer;
  const maxEntryBytes = options.maxEntryBytes ?? 1024 * 1024;
  const wire = createWire(options.redis, options.timeoutMs ?? 500, {
    circuitBreakerMs: options.circuitBreakerMs ?? 1000,
  });
  const l1Options: L1Options | undefined =
    options.l1 === true
      ? {}
      : options.l1 === false || options.l1 === undefined
        ? undefined
        : options.l1;
  const l1 = l1Options ? new L1Store(l1Options) : undefined;
  const instanceId = randomId(8);
  let sequence = 0;
  const keys = createCacheKeys(app, namespace);

  const counts: CacheCounts = {
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
  const emit = (event: CacheEvent) => {
    if (!options.onEvent) return;
    try {
      options.onEvent(event);
    } catch {
      // A listener's failure must not break the read path.
    }
  };
  const count = (counter: CacheCounter, field: keyof CacheCounts) => {
    counts[field] += 1;
    recorder?.count(namespace, counter);
  };
  const redisError = (operation: string, error: unknown, key?: string) => {
    count("cache_redis_errors_total", "redisErrors");
    emit({ type: "redis_error", namespace, key, operation, error });
    // Redis refusing a command (WRONGTYPE, a Lua error) is a bug: surfaced, never served around.
    if (isRedisCommandError(error)) throw asCommandError(error);
  };
  const background = (work: Promise<unknown>, waitUntil = options.waitUntil) => {
    const guarded = work.catch(() => undefined);
    waitUntil?.(guarded);
  };

  return {
    options,
    app,
    namespace,
    defaultTtlMs,
    serializer,
    wire,
    l1,
    l1Options,
    instanceId,
    keys,
    counts,
    recorder,
    nextToken: () => `${instanceId}:${++sequence}`,
    count,
    emit,
    redisError,
    background,
    decodeValue<T>(entry: Entry, schema: StandardSchema<T> | undefined) {
      if (entry.kind === "n") return { ok: true, value: null, negative: true };
      let value: unknown;
      try {
        value = serializer.deserialize(entry.payload);
      } catch (error) {
        return { ok: false, reason: `cannot deserialize: ${(error as Error).message}` };
      }
      if (!schema) return { ok: true, value: value as T, negative: false };
      return validateWith(schema, value).then((checked): Decoded<T> =>
        checked.ok
          ? { ok: true, value: checked.value, negative: false }
          : { ok: false, reason: `schema: ${checked.message}` },
      );
    },
    decodeEntry: (raw) => (raw === null ? undefined : decodeEntry(raw)),
    prepare(key, value, ttlMs, staleMs, loadMs) {
      const negative = value === null;
      const payload = negative ? "" : serializeValue(serializer, value, key);
      assertSize(payload, maxEntryBytes, key);
      const freshUntil = Math.round(Date.now() + ttlMs);
      const entry: Entry = {
        kind: negative ? "n" : "v",
        payload,
        freshUntil,
        staleUntil: Math.round(freshUntil + staleMs),
        loadMs,
      };
      return { encoded: encodeEntry(entry), px: Math.max(1, Math.ceil(ttlMs + staleMs)), entry };
    },
    releaseLease: (key, token) =>
      wire
        .script(RELEASE_SCRIPT, [keys.lease(key)], [token])
        .catch((error: unknown) => redisError("release", error, key)),
  };
}

/**
 * How many slot groups a namespace's entries are spread over: enough to balance a namespace across
 * the masters of a cluster, few enough that an invalidation (one command per group, pipelined)
 * stays cheap. Part of the key layout: changing it moves every entry.
 */
export const SLOT_GROUPS = 64;

function createCacheKeys(app: string, namespace: string): CacheKeys {
  // Built keys of plain string keys are memoised (bounded): the hot path skips the escaping.
  const builtKeys = new Map<string, string>();
  const entryPrefix = `${buildKey(app, "cache", namespace, "v")}:`;
  const leasePrefix = `${buildKey(app, "lock", "cache", namespace)}:`;
  const versionPrefix = `${buildKey(app, "cache", namespace, "w")}:`;
  const tagged = (n: number, parts: readonly KeyPart[]) =>
    buildKey(app, "cache", namespace, "v", hashTag(namespace, n), ...parts);
  const groups = Array.from({ length: SLOT_GROUPS }, (_, n) =>
    tagged(n, []).slice(entryPrefix.length),
  );
  const groupPrefix = (area: string) => `${buildKey(app, "cache", namespace, area)}:`;
  const [tagPrefix, generationPrefix, sweepPrefix] = ["t", "g", "s"].map(groupPrefix);
  // The group of a key: the CRC16 of its escaped parts (stable across instances and languages).
  const build = (parts: readonly KeyPart[]) =>
    tagged(keySlot(parts.map(escapeKeyPart).join(":")) % SLOT_GROUPS, parts);
  return {
    entry(key) {
      if (typeof key === "string") {
        const known = builtKeys.get(key);
        if (known !== undefined) return known;
        const built = build([key]);
        if (builtKeys.size >= 10_000) builtKeys.clear();
        builtKeys.set(key, built);
        return built;
      }
      return build(keyParts(key));
    },
    groupOf: (entryKey) =>
      entryKey.slice(entryPrefix.length, entryKey.indexOf("}", entryPrefix.length) + 1),
    groups,
    lease: (entryKey) => `${leasePrefix}${entryKey.slice(entryPrefix.length)}`,
    version: (entryKey) => `${versionPrefix}${entryKey.slice(entryPrefix.length)}`,
    tag: (group, tag) => `${tagPrefix as string}${group}:${escapeKeyPart(tag)}`,
    hash: (key) => buildKey(app, "cache", namespace, "h", ...keyParts(key)),
    counter: (key) => buildKey(app, "count", namespace, ...keyParts(key)),
    generation: (group) => `${generationPrefix as string}${group}`,
    sweep: (group) => `${sweepPrefix as string}${group}`,
    channel: buildKey(app, "cache", namespace, "bus"),
    entryPrefix,
  };
}

/**
 * The Redis key of a cache entry, as `createCache({ app, namespace })` builds it (for inspection,
 * migrations and tests).
 * @example cacheEntryKey("hotpath", "user", ["profile", 7]) // "hotpath:cache:user:v:{user:<n>}:profile:7"
 */
export function cacheEntryKey(app: string, namespace: string, key: CacheKey): string {
  return createCacheKeys(app, namespace).entry(key);
}
