import { escapeKeyPart, keyPattern, type KEY_WILDCARD, type KeyPart } from "@hotpath/config";
import type { BusMessage, L1Coherence } from "./cache-coherence.ts";
import type { CacheContext, LoadStamp, Prepared } from "./cache-context.ts";
import type { CacheKey, SetOptions } from "./cache-types.ts";
import { asCommandError } from "./errors.ts";
import { ttlToMs, type Ttl } from "./options.ts";
import { DELETE_SCRIPT, POP_TAG_SCRIPT, STORE_SCRIPT, VERSION_TTL_MS } from "./scripts.ts";
import { asNumber, toWireError, type PipelineItem } from "./wire.ts";

/** Writes and invalidation: set, mset, delete, tags, patterns, and the store item of loads. */
export interface CacheWrites {
  /**
   * The store script call of one entry: an explicit write (no stamp) bumps the entry's version
   * and publishes; a loader's store (with the stamp it read before loading) is conditional.
   */
  storeItem: (
    key: string,
    prepared: Prepared,
    tags: readonly string[],
    token: string,
    stamp: LoadStamp | undefined,
  ) => PipelineItem;
  /** Runs one pipeline item on its own. */
  runItem: (item: PipelineItem) => Promise<unknown>;
  set: (key: CacheKey, value: unknown, options?: SetOptions) => Promise<boolean>;
  mset: (
    entries: readonly { key: CacheKey; value: unknown; ttl?: Ttl; tags?: readonly string[] }[],
  ) => Promise<boolean>;
  delete: (key: CacheKey) => Promise<boolean>;
  invalidateTag: (tag: string) => Promise<number>;
  invalidatePattern: (
    pattern: string | readonly (KeyPart | typeof KEY_WILDCARD)[],
  ) => Promise<number>;
}

/** Creates the write and invalidation part of a cache. */
export function createCacheWrites(context: CacheContext, coherence: L1Coherence): CacheWrites {
  const { wire, l1, keys, app, namespace, defaultTtlMs, redisError } = context;

  const storeItem = (
    key: string,
    prepared: Prepared,
    tags: readonly string[],
    token: string,
    stamp: LoadStamp | undefined,
  ): PipelineItem => ({
    script: STORE_SCRIPT,
    keys: [
      key,
      keys.lease(key),
      keys.generation,
      keys.version(key),
      keys.sweep,
      ...tags.map(keys.tag),
    ],
    args: [
      prepared.encoded,
      prepared.px,
      token,
      stamp ? "0" : "1",
      stamp ? "" : keys.channel,
      stamp ? "" : coherence.busMessage({ k: [key] }),
      stamp?.version ?? "",
      stamp?.sweep ?? "",
      VERSION_TTL_MS,
    ],
  });

  const runItem = async (item: PipelineItem): Promise<unknown> => {
    if (Array.isArray(item)) return wire.command(item as readonly string[]);
    const call = item as Exclude<PipelineItem, readonly unknown[]>;
    return wire.script(call.script, call.keys, call.args);
  };

  const deleteKeys = async (
    entryKeys: readonly string[],
    message: Omit<BusMessage, "o">,
  ): Promise<number> => {
    const reply = (await wire.script(
      DELETE_SCRIPT,
      [keys.generation, ...entryKeys.flatMap((k) => [k, keys.version(k)])],
      [keys.channel, coherence.busMessage(message), VERSION_TTL_MS],
    )) as unknown[];
    coherence.adoptOwnBump(reply[1]);
    return asNumber(reply[0]);
  };

  return {
    storeItem,
    runItem,
    async set(key, value, o = {}) {
      const k = keys.entry(key);
      const ttlMs = o.ttl === undefined ? defaultTtlMs : ttlToMs(o.ttl, "ttl");
      const staleMs = o.staleWhileRevalidate
        ? ttlToMs(o.staleWhileRevalidate, "staleWhileRevalidate")
        : 0;
      const prepared = context.prepare(k, value, ttlMs, staleMs, 0);
      l1?.delete(k);
      coherence.markWrite(k);
      try {
        coherence.adoptOwnBump(await runItem(storeItem(k, prepared, o.tags ?? [], "", undefined)));
        return true;
      } catch (error) {
        redisError("set", error, k);
        return false;
      }
    },
    async mset(entries) {
      const items = entries.map((e) => {
        const k = keys.entry(e.key);
        l1?.delete(k);
        coherence.markWrite(k);
        const ttlMs = e.ttl === undefined ? defaultTtlMs : ttlToMs(e.ttl, "ttl");
        return storeItem(k, context.prepare(k, e.value, ttlMs, 0, 0), e.tags ?? [], "", undefined);
      });
      if (items.length === 0) return true;
      try {
        const replies = await wire.pipeline(items);
        for (const reply of replies) if (reply.ok) coherence.adoptOwnBump(reply.value);
        return replies.every((reply) => reply.ok);
      } catch (error) {
        redisError("mset", error);
        return false;
      }
    },
    async delete(key) {
      const k = keys.entry(key);
      l1?.delete(k);
      coherence.markWrite(k);
      try {
        return (await deleteKeys([k], { k: [k] })) > 0;
      } catch (error) {
        redisError("delete", error, k);
        return false;
      }
    },
    async invalidateTag(tag) {
      l1?.clear();
      coherence.markWriteAll();
      let removed = 0;
      const batch = 500;
      try {
        // The sweep epoch first: a load that began before it will not store (a store that
        // landed earlier is in the tag set and popped below).
        await wire.command(["INCR", keys.sweep]);
        for (let round = 0; round < 10_000; round += 1) {
          const popped = asNumber(await wire.script(POP_TAG_SCRIPT, [keys.tag(tag)], [batch]));
          removed += popped;
          if (popped < batch) break;
        }
        await deleteKeys([], { t: tag });
      } catch (error) {
        redisError("invalidateTag", error);
        throw asCommandError(toWireError(error));
      }
      return removed;
    },
    async invalidatePattern(pattern) {
      const match =
        typeof pattern === "string"
          ? `${keys.entryPrefix}${pattern
              .split("*")
              .map((piece) => (piece === "" ? "" : escapeKeyPart(piece)))
              .join("*")}`
          : keyPattern(app, "cache", namespace, "v", ...pattern);
      const regex = globToRegExp(match);
      l1?.deleteWhere((key) => regex.test(key));
      coherence.markWriteAll();
      let removed = 0;
      let cursor = "0";
      try {
        await wire.command(["INCR", keys.sweep]);
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
          const found = (reply[1] as unknown[] | undefined)?.map(String) ?? [];
          if (found.length > 0) removed += asNumber(await wire.command(["UNLINK", ...found]));
          if (cursor === "0") break;
        }
        await deleteKeys([], { all: 1 });
      } catch (error) {
        redisError("invalidatePattern", error);
        throw asCommandError(toWireError(error));
      }
      return removed;
    },
  };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, ".*")}$`);
}
