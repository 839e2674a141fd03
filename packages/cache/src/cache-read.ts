import type { L1Coherence } from "./cache-coherence.ts";
import type { CacheContext, LoadStamp } from "./cache-context.ts";
import type { Loading, Plan } from "./cache-load.ts";
import type { CacheKey, CacheOutcome, GetOrSetOptions, Loader } from "./cache-types.ts";
import { READ_SCRIPT } from "./scripts.ts";
import type { Entry } from "./serializer.ts";
import { asNumber, asString, sleep } from "./wire.ts";

/** One read of an entry: the decoded entry, its raw text, the lease claim and the generation. */
export interface ReadReply {
  entry: Entry | undefined;
  raw: string | null;
  claimed: boolean;
  generation: string | null;
  /** The load stamp (claim reads only). */
  stamp?: LoadStamp;
}

/** The read path: the one-round-trip hit, the claim read, and `getOrSet` with single-flight. */
export interface ReadPath {
  /** The hit path: one GET (MGET with its slot group's generation stamp when L1 is on), no script. */
  readPlain: (key: string) => Promise<ReadReply>;
  /** Cache-aside with in-process and distributed single-flight (`report` receives the outcome). */
  getOrSet: <T>(
    key: CacheKey,
    loader: Loader<T>,
    options?: GetOrSetOptions<T>,
    report?: { outcome: CacheOutcome },
  ) => Promise<T>;
}

/** Creates the read path of a cache. */
export function createReadPath(
  context: CacheContext,
  coherence: L1Coherence,
  loading: Loading,
): ReadPath {
  const { wire, keys, l1, namespace, count, emit, redisError, background, serializer } = context;
  const flights = new Map<string, Promise<unknown>>();
  const { loadAndStore, refreshInBackground, claimForRefresh } = loading;

  const read = async (
    key: string,
    claim: boolean,
    token: string,
    leaseMs: number,
  ): Promise<ReadReply> => {
    const group = keys.groupOf(key);
    const reply = (await wire.script(
      READ_SCRIPT,
      [key, keys.lease(key), keys.generation(group), keys.version(key), keys.sweep(group)],
      [Date.now(), leaseMs, token, claim ? "1" : "0", l1 ? "1" : "0"],
    )) as unknown[];
    const raw = asString(reply[0]);
    const generation = asString(reply[2]);
    coherence.observeGeneration(group, generation);
    return {
      raw,
      entry: context.decodeEntry(raw),
      claimed: asNumber(reply[1]) === 1,
      generation,
      stamp: { version: asString(reply[3]) ?? "", sweep: asString(reply[4]) ?? "" },
    };
  };

  const readPlain = (key: string): Promise<ReadReply> => {
    if (l1) {
      const group = keys.groupOf(key);
      return wire.command(["MGET", key, keys.generation(group)], (value): ReadReply => {
        const reply = value as unknown[];
        const raw = asString(reply[0]);
        const generation = asString(reply[1]);
        coherence.observeGeneration(group, generation);
        return { raw, entry: context.decodeEntry(raw), claimed: false, generation };
      });
    }
    return wire.command(["GET", key], (value): ReadReply => {
      const raw = asString(value);
      return { raw, entry: context.decodeEntry(raw), claimed: false, generation: null };
    });
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
    const maybe = context.decodeValue(entry, plan.schema);
    const decoded = maybe instanceof Promise ? await maybe : maybe;
    if (!decoded.ok) {
      emit({ type: "invalid_value", namespace, key: plan.key, reason: decoded.reason });
      return undefined;
    }
    const fresh = entry.freshUntil > now;
    const first = mode === "first";
    if (plan.report)
      plan.report.outcome = !first
        ? "coalesced"
        : decoded.negative
          ? "negative"
          : fresh
            ? "hit"
            : "stale";
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
      coherence.toL1(plan.key, entry, decoded.value, decoded.negative, plan.startedAt);
      // Claimed although fresh (clock skew between this client and the writer): give it back.
      if (reply.claimed) background(context.releaseLease(plan.key, token), plan.waitUntil);
      if (plan.earlyBeta > 0 && !loading.isRefreshing(plan.key)) {
        const delta = Math.max(entry.loadMs, 1);
        if (now - delta * plan.earlyBeta * Math.log(Math.random()) >= entry.freshUntil)
          background(claimForRefresh(plan, decoded.value, true), plan.waitUntil);
      }
      return { value: decoded.value };
    }
    if (first) {
      count("cache_stale_hits_total", "staleHits");
      emit({ type: "stale_hit", namespace, key: plan.key, tier: "redis" });
    }
    if (reply.claimed) refreshInBackground(plan, token, decoded.value, reply.stamp ?? "read");
    else if (!plan.lock) refreshInBackground(plan, "", decoded.value, "read");
    else if (first && !loading.isRefreshing(plan.key)) {
      // After the caller has its value: the claim is not on the caller's path.
      background(
        new Promise<void>((done) =>
          setTimeout(() => void claimForRefresh(plan, decoded.value, false).finally(done), 0),
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
    if (plan.report) plan.report.outcome = entry.kind === "n" ? "negative" : "hit";
    if (context.options.onEvent)
      emit({
        type: entry.kind === "n" ? "negative_hit" : "hit",
        namespace,
        key: plan.key,
        tier: "redis",
      });
    coherence.toL1(plan.key, entry, value, entry.kind === "n", plan.startedAt);
    return { value: value as T | null };
  };

  /** Redis failed: serve the local stale value if any, else the loader's value (stored in the background). */
  const failSafe = async <T>(plan: Plan<T>): Promise<T> => {
    const local = l1?.peek(plan.key);
    if (local && local.staleUntil > Date.now()) {
      if (plan.report) plan.report.outcome = "stale";
      count("cache_stale_hits_total", "staleHits");
      emit({ type: "stale_hit", namespace, key: plan.key, tier: "l1" });
      return local.value as T;
    }
    // No stamp can be read: the value is served, not stored.
    return loadAndStore(plan, "", true, "none");
  };

  /** Everything after the first read that is not the common fresh hit. */
  const afterRead = async <T>(plan: Plan<T>, reply: ReadReply): Promise<T> => {
    const lock = plan.lock;
    const served = await serve(plan, reply, "", "first");
    if (served) return served.value as T;
    count("cache_misses_total", "misses");
    emit({ type: "miss", namespace, key: plan.key, tier: "redis" });
    if (!lock) return loadAndStore(plan, "", false, "read");
    if (reply.entry !== undefined && reply.entry.freshUntil > Date.now()) {
      // A value Redis holds as fresh but that is unusable here (schema): replace it, no lease.
      return loadAndStore(plan, "", false, "read");
    }
    // Missing (or expired/malformed): claim the lease; the same call returns a value stored meanwhile.
    const token = context.nextToken();
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
    if (claim.claimed) return loadAndStore(plan, token, false, claim.stamp ?? "read");
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
    let last = claim;
    while (Date.now() - waitStarted < lock.waitMs) {
      await sleep(Math.min(pause, lock.waitMs - (Date.now() - waitStarted)));
      pause = Math.min(pause * 2, 100);
      const again = await claimRead();
      if (!again) return failSafe(plan);
      last = again;
      const value = await serve(plan, again, token, "after-miss");
      if (value) {
        waited("value");
        return value.value as T;
      }
      if (again.claimed) {
        waited("claimed");
        return loadAndStore(plan, token, false, again.stamp ?? "read");
      }
    }
    waited("timeout");
    return loadAndStore(plan, "", false, last.stamp ?? "read");
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
    report?: { outcome: CacheOutcome },
  ): Promise<T> => {
    const k = keys.entry(key);
    const local = coherence.fromL1(k);
    if (local) {
      if (report) report.outcome = local.negative ? "negative" : "hit";
      if (local.negative) count("cache_negative_hits_total", "negativeHits");
      else count("cache_hits_total", "hits");
      emit({ type: local.negative ? "negative_hit" : "hit", namespace, key: k, tier: "l1" });
      return Promise.resolve(local.value as T);
    }
    const inFlight = flights.get(k);
    if (inFlight) {
      if (report) report.outcome = "coalesced";
      return inFlight as Promise<T>;
    }
    let plan: Plan<T>;
    try {
      plan = loading.planOf(k, loader, o, report);
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
        try {
          redisError("read", error, k);
        } catch (commandError) {
          flights.delete(k);
          throw commandError;
        }
        return settle(k, failSafe(plan));
      },
    );
    flights.set(k, flight);
    return flight;
  };

  return { readPlain, getOrSet };
}
