import type { CacheContext } from "./cache-context.ts";
import type { L1Entry } from "./l1.ts";
import type { Entry } from "./serializer.ts";
import { asNumber } from "./wire.ts";
import { outsideTraces } from "@hotpath/redis/tracing";

/** An invalidation sent to the other instances: keys, a tag, or everything. */
export interface BusMessage {
  /** The sending instance (its own messages are ignored). */
  o: string;
  k?: string[];
  t?: string;
  all?: 1;
}

/** Keeps the L1 tier coherent: generation stamps, the pub/sub bus, reads and fills of L1. */
export interface L1Coherence {
  /**
   * A slot group's generation stamp read from Redis: a change means someone wrote in that group,
   * so L1 is dropped.
   */
  observeGeneration(group: string, generation: string | null): void;
  /** After our own bump of a group: if nobody else wrote in between, L1 stays (it reflects the write). */
  adoptOwnBump(group: string, generation: unknown): void;
  /** The bus message of an invalidation, stamped with this instance. */
  busMessage(body: Omit<BusMessage, "o">): string;
  /** The local write clock now: taken when a read starts, checked when its result fills L1. */
  epoch(): number;
  /** A local write of `key` (set, delete): reads that started before it must not fill L1. */
  markWrite(key: string): void;
  /** A local write of possibly every key (tag or pattern invalidation). */
  markWriteAll(): void;
  /** An L1 entry usable as fresh, or undefined. */
  fromL1(key: string): L1Entry | undefined;
  /**
   * Keeps a decoded value in L1 (no-op without L1) unless this instance wrote the key after the
   * read that produced it started (`readStartedAt`, from `epoch()`).
   */
  toL1(key: string, entry: Entry, value: unknown, negative: boolean, readStartedAt: number): void;
  /** Resolves once the bus subscription is confirmed (at once without L1 or bus). */
  ready(): Promise<void>;
  /** Stops the bus subscription. */
  close(): Promise<void>;
}

/** Creates the L1 coherence part of a cache (subscribes to the bus when L1 is on). */
export function createL1Coherence(context: CacheContext): L1Coherence {
  const { l1, l1Options, instanceId, options, keys } = context;
  const l1TtlMs = l1Options?.ttlMs ?? 10_000;
  // The last generation seen per slot group (a group not in the map has not been read yet).
  const lastGenerations = new Map<string, string | null>();
  // Local write epochs: a per-key clock of this instance's writes, bounded; `floor` drops every
  // read that started before the last bulk write (or before the map was last trimmed).
  let clock = 0;
  let floor = 0;
  const lastWrite = new Map<string, number>();
  const writtenSince = (key: string, startedAt: number): boolean =>
    startedAt < floor || (lastWrite.get(key) ?? 0) > startedAt;

  const applyBusMessage = (message: BusMessage) => {
    if (!l1 || message.o === instanceId) return;
    // Entries' tags are not known to every instance (an entry read here may have been tagged
    // elsewhere): a tag invalidation drops the whole namespace from L1.
    if (message.all || message.t !== undefined) l1.clear();
    for (const key of message.k ?? []) l1.delete(key);
  };

  let unsubscribe: (() => Promise<void>) | undefined;
  let subscribed: Promise<void> = Promise.resolve();
  if (l1 && l1Options?.bus !== false) {
    try {
      // Long-lived: not part of the call that happened to create this cache.
      const subscriber = outsideTraces(() => options.redis.subscribe<BusMessage>([keys.channel]));
      subscribed = new Promise<void>((resolve) => subscriber.on("subscribe", () => resolve()));
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

  return {
    observeGeneration(group, generation) {
      if (!l1) return;
      const last = lastGenerations.get(group);
      if (last !== undefined && generation !== last) l1.clear();
      lastGenerations.set(group, generation);
    },
    adoptOwnBump(group, generation) {
      if (!l1) return;
      const next = asNumber(generation, Number.NaN);
      if (!Number.isFinite(next) || next <= 0) return;
      const last = lastGenerations.get(group);
      const previous = last === undefined || last === null ? 0 : Number(last);
      if (last !== undefined && next !== previous + 1) l1.clear();
      lastGenerations.set(group, String(next));
    },
    busMessage: (body) => JSON.stringify({ o: instanceId, ...body }),
    epoch: () => clock,
    markWrite(key) {
      if (!l1) return;
      if (lastWrite.size >= 10_000) {
        lastWrite.clear();
        floor = clock + 1;
      }
      lastWrite.set(key, ++clock);
    },
    markWriteAll() {
      if (!l1) return;
      lastWrite.clear();
      floor = ++clock;
    },
    fromL1(key) {
      if (!l1) return undefined;
      const entry = l1.get(key);
      if (entry === undefined) return undefined;
      if (entry.l1Until > Date.now()) return entry;
      if (entry.staleUntil <= Date.now()) l1.delete(key);
      return undefined;
    },
    toL1(key, entry, value, negative, readStartedAt) {
      if (!l1 || writtenSince(key, readStartedAt)) return;
      l1.set(key, {
        value,
        negative,
        freshUntil: entry.freshUntil,
        staleUntil: entry.staleUntil,
        l1Until: Math.min(entry.freshUntil, Date.now() + l1TtlMs),
        bytes: entry.payload.length + key.length,
      });
    },
    ready: () => subscribed,
    close: async () => {
      await unsubscribe?.();
    },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
