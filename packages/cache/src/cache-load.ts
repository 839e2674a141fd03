import type { L1Coherence } from "./cache-coherence.ts";
import type { CacheContext, LoadStamp, Prepared } from "./cache-context.ts";
import type { CacheWrites } from "./cache-writes.ts";
import type {
  CacheOutcome,
  GetOrSetOptions,
  Loader,
  LoaderContext,
  LockOptions,
} from "./cache-types.ts";
import { CacheError } from "./errors.ts";
import { ttlToMs, type StandardSchema } from "./options.ts";
import { READ_SCRIPT, RENEW_LEASE_SCRIPT } from "./scripts.ts";
import { asNumber, asString } from "./wire.ts";

const NEGATIVE_DEFAULT_MS = 60_000;

/** One `getOrSet` call's resolved options. */
export interface Plan<T> {
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
  /** Where the call's outcome is reported (only when the caller asked for it). */
  report: { outcome: CacheOutcome } | undefined;
  /** The local write epoch when the call began (its reads fill L1 only if no local write followed). */
  startedAt: number;
}

/** Where a load's stamp comes from: known, to be read before loading, or none (no store). */
export type StampSource = LoadStamp | "read" | "none";

/** Runs loaders and stores their values: the miss path and background refreshes. */
export interface Loading {
  /** Resolves a call's options against the cache's defaults (throws on invalid options). */
  planOf: <T>(
    key: string,
    loader: Loader<T>,
    options: GetOrSetOptions<T>,
    report?: { outcome: CacheOutcome },
  ) => Plan<T>;
  /**
   * Runs the loader, stores its value (releasing the lease `token`), returns the value. The store
   * is checked against `stamp` (read before the loader began; `"read"`: read it first; `"none"`:
   * do not store), so a set, delete or invalidation during the load is never overwritten.
   */
  loadAndStore: <T>(
    plan: Plan<T>,
    token: string,
    storeInBackground: boolean,
    stamp: StampSource,
    refresh?: { stale: T | null },
  ) => Promise<T>;
  /** Refreshes a stale entry in the background (one refresh per key in this process). */
  refreshInBackground: <T>(
    plan: Plan<T>,
    token: string,
    stale: T | null,
    stamp: StampSource,
  ) => void;
  /**
   * Tries to take the refresh lease (one SET NX) and refreshes when it got it. `early`: refresh a
   * fresh entry (XFetch); otherwise only an entry that is still stale when the claim runs (the
   * claim is deferred, and a refresh may have landed meanwhile).
   */
  claimForRefresh: <T>(plan: Plan<T>, current: T | null, early: boolean) => Promise<void>;
  /** True while a background refresh of `key` runs here. */
  isRefreshing: (key: string) => boolean;
}

/** Creates the loading part of a cache. */
export function createLoading(
  context: CacheContext,
  coherence: L1Coherence,
  writes: Pick<CacheWrites, "storeItem" | "runItem">,
): Loading {
  const { wire, keys, namespace, count, emit, redisError, background, options } = context;
  const refreshing = new Set<string>();
  const claiming = new Set<string>();

  const planOf = <T>(
    key: string,
    loader: Loader<T>,
    o: GetOrSetOptions<T>,
    report?: { outcome: CacheOutcome },
  ): Plan<T> => {
    const ttlMs = o.ttl === undefined ? context.defaultTtlMs : ttlToMs(o.ttl, "ttl");
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
      startedAt: coherence.epoch(),
      report,
    };
  };

  /** Reads the stamp a load's store is checked against; undefined when Redis failed. */
  const readStamp = async (key: string): Promise<LoadStamp | undefined> => {
    try {
      const sweep = keys.sweep(keys.groupOf(key));
      const reply = (await wire.command(["MGET", keys.version(key), sweep])) as unknown[];
      return { version: asString(reply[0]) ?? "", sweep: asString(reply[1]) ?? "" };
    } catch (error) {
      redisError("read", error, key);
      return undefined;
    }
  };

  const loadAndStore = async <T>(
    plan: Plan<T>,
    token: string,
    storeInBackground: boolean,
    source: StampSource,
    refresh?: { stale: T | null },
  ): Promise<T> => {
    if (plan.report && !refresh) plan.report.outcome = source === "none" ? "bypass" : "miss";
    const stamp =
      source === "read" ? await readStamp(plan.key) : source === "none" ? undefined : source;
    const started = performance.now();
    let value: T;
    let ttlOverride: number | undefined;
    let tags = plan.tags;
    let skip = false;
    const loaderContext: LoaderContext<T> = {
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
            .script(RENEW_LEASE_SCRIPT, [keys.lease(plan.key)], [token, leaseMs])
            .catch(() => undefined);
        },
        Math.max(50, leaseMs / 2),
      );
      (renewal as { unref?: () => void }).unref?.();
    }
    try {
      value = await plan.loader(loaderContext);
    } catch (error) {
      if (renewal !== undefined) clearInterval(renewal);
      count("cache_load_errors_total", "loadErrors");
      emit({ type: "load_error", namespace, key: plan.key, error });
      if (token) background(context.releaseLease(plan.key, token), plan.waitUntil);
      throw error;
    }
    if (renewal !== undefined) clearInterval(renewal);
    const durationMs = performance.now() - started;
    count("cache_loads_total", "loads");
    emit({ type: "load", namespace, key: plan.key, durationMs });
    if (
      stamp === undefined ||
      skip ||
      value === undefined ||
      (value === null && plan.negativeMs <= 0) ||
      ttlOverride === 0
    ) {
      if (token) background(context.releaseLease(plan.key, token), plan.waitUntil);
      return value;
    }
    const base = ttlOverride ?? (value === null ? plan.negativeMs : plan.ttlMs);
    const ttlMs = Math.max(1, base * (1 - plan.jitter * Math.random()));
    let prepared: Prepared;
    try {
      prepared = context.prepare(
        plan.key,
        value,
        ttlMs,
        value === null ? 0 : plan.staleMs,
        durationMs,
      );
    } catch (error) {
      if (error instanceof CacheError)
        emit({ type: "write_refused", namespace, key: plan.key, error });
      if (token) background(context.releaseLease(plan.key, token), plan.waitUntil);
      return value;
    }
    const write = writes.runItem(writes.storeItem(plan.key, prepared, tags, token, stamp)).then(
      (stored) => {
        if (asNumber(stored) < 0) {
          emit({ type: "store_refused", namespace, key: plan.key });
          return;
        }
        coherence.toL1(plan.key, prepared.entry, value, value === null, plan.startedAt);
      },
      (error: unknown) => redisError("store", error, plan.key),
    );
    if (storeInBackground) background(write, plan.waitUntil);
    else await write;
    return value;
  };

  const refreshInBackground = <T>(
    plan: Plan<T>,
    token: string,
    stale: T | null,
    stamp: StampSource,
  ) => {
    if (refreshing.has(plan.key)) {
      if (token) background(context.releaseLease(plan.key, token), plan.waitUntil);
      return;
    }
    refreshing.add(plan.key);
    const work = loadAndStore(plan, token, false, stamp, { stale })
      .catch(() => undefined)
      .finally(() => refreshing.delete(plan.key));
    background(work, plan.waitUntil);
  };

  const claimForRefresh = async <T>(plan: Plan<T>, current: T | null, early: boolean) => {
    if (claiming.has(plan.key) || refreshing.has(plan.key)) return;
    claiming.add(plan.key);
    const token = context.nextToken();
    try {
      // "2": claim regardless of freshness (early refresh); "1": only while missing or stale.
      const group = keys.groupOf(plan.key);
      const reply = (await wire.script(
        READ_SCRIPT,
        [
          plan.key,
          keys.lease(plan.key),
          keys.generation(group),
          keys.version(plan.key),
          keys.sweep(group),
        ],
        [Date.now(), plan.lock?.leaseMs ?? 10_000, token, early ? "2" : "1", "0"],
      )) as unknown[];
      if (asNumber(reply[1]) === 1)
        refreshInBackground(plan, token, current, {
          version: asString(reply[3]) ?? "",
          sweep: asString(reply[4]) ?? "",
        });
    } catch (error) {
      redisError("claim", error, plan.key);
    } finally {
      claiming.delete(plan.key);
    }
  };

  return {
    planOf,
    loadAndStore,
    refreshInBackground,
    claimForRefresh,
    isRefreshing: (key) => refreshing.has(key),
  };
}
