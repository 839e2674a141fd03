import { escapeKeyPart, hashTag, KEY_WILDCARD, keyPattern, type KeyPart } from "@hotpath/config";
import type { BusMessage, L1Coherence } from "./cache-coherence.ts";
import type { CacheContext, LoadStamp, Prepared } from "./cache-context.ts";
import type { CacheKey, SetOptions } from "./cache-types.ts";
import { asCommandError, RedisUnavailableError } from "./errors.ts";
import { ttlToMs, type Ttl } from "./options.ts";
import { DELETE_SCRIPT, STORE_SCRIPT, UNLINK_TAGGED_SCRIPT, VERSION_TTL_MS } from "./scripts.ts";
import {
  asNumber,
  toWireError,
  type PipelineItem,
  type PipelineReply,
  type WireArg,
} from "./wire.ts";

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
  ): PipelineItem => {
    const group = keys.groupOf(key);
    return {
      script: STORE_SCRIPT,
      keys: [
        key,
        keys.lease(key),
        keys.generation(group),
        keys.version(key),
        keys.sweep(group),
        ...tags.map((tag) => keys.tag(group, tag)),
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
    };
  };

  const runItem = async (item: PipelineItem): Promise<unknown> => {
    if (Array.isArray(item)) return wire.command(item as readonly string[]);
    const call = item as Exclude<PipelineItem, readonly unknown[]>;
    return wire.script(call.script, call.keys, call.args);
  };

  /** Deletes one entry, bumps its version and its group's generation, publishes. */
  const deleteEntry = async (key: string): Promise<number> => {
    const group = keys.groupOf(key);
    const reply = (await wire.script(
      DELETE_SCRIPT,
      [keys.generation(group), key, keys.version(key)],
      [keys.channel, coherence.busMessage({ k: [key] }), VERSION_TTL_MS],
    )) as unknown[];
    coherence.adoptOwnBump(group, reply[1]);
    return asNumber(reply[0]);
  };

  /** One pipeline of a command per slot group; throws the first command error. */
  const eachGroup = async (
    command: (group: string) => readonly WireArg[],
    extra: readonly PipelineItem[] = [],
  ): Promise<unknown[]> => {
    const replies = await wire.pipeline([...keys.groups.map(command), ...extra]);
    return replies.map((reply) => {
      if (!reply.ok) throw new RedisUnavailableError("CACHE_REDIS_ERROR", reply.error);
      return reply.value;
    });
  };

  /** Unlinks keys found by SCAN: one UNLINK per slot group (a multi-key command stays in one slot). */
  const unlinkByGroup = async (found: readonly string[]): Promise<number> => {
    if (found.length === 0) return 0;
    const byGroup = new Map<string, string[]>();
    for (const key of found) {
      const group = keys.groupOf(key);
      const list = byGroup.get(group);
      if (list) list.push(key);
      else byGroup.set(group, [key]);
    }
    const replies = await wire.pipeline([...byGroup.values()].map((list) => ["UNLINK", ...list]));
    let unlinked = 0;
    for (const reply of replies) {
      if (!reply.ok) throw new RedisUnavailableError("CACHE_REDIS_ERROR", reply.error);
      unlinked += asNumber(reply.value);
    }
    return unlinked;
  };

  /** After a bulk invalidation: every group's generation bumped, one bus message. */
  const bumpAll = async (message: Omit<BusMessage, "o">) => {
    const replies = await eachGroup(
      (group) => ["INCR", keys.generation(group)],
      [["PUBLISH", keys.channel, coherence.busMessage(message)]],
    );
    keys.groups.forEach((group, n) => coherence.adoptOwnBump(group, replies[n]));
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
        const generation = await runItem(storeItem(k, prepared, o.tags ?? [], "", undefined));
        coherence.adoptOwnBump(keys.groupOf(k), generation);
        return true;
      } catch (error) {
        redisError("set", error, k);
        return false;
      }
    },
    async mset(entries) {
      const groups: string[] = [];
      const items = entries.map((e) => {
        const k = keys.entry(e.key);
        l1?.delete(k);
        coherence.markWrite(k);
        const ttlMs = e.ttl === undefined ? defaultTtlMs : ttlToMs(e.ttl, "ttl");
        groups.push(keys.groupOf(k));
        return storeItem(k, context.prepare(k, e.value, ttlMs, 0, 0), e.tags ?? [], "", undefined);
      });
      if (items.length === 0) return true;
      try {
        const replies = await wire.pipeline(items);
        replies.forEach((reply, n) => {
          if (reply.ok) coherence.adoptOwnBump(groups[n] as string, reply.value);
        });
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
        return (await deleteEntry(k)) > 0;
      } catch (error) {
        redisError("delete", error, k);
        return false;
      }
    },
    async invalidateTag(tag) {
      l1?.clear();
      coherence.markWriteAll();
      let removed = 0;
      try {
        // In each slot group, the sweep epoch first (a load that began before it will not store;
        // a store that landed earlier is in the group's tag set), then the members, batch by batch.
        const first = await eachGroup(
          (group) => ["INCR", keys.sweep(group)],
          keys.groups.map((group) => ["SRANDMEMBER", keys.tag(group, tag), TAG_BATCH]),
        );
        let batches = keys.groups.map((group, n) => ({
          group,
          members: (first[keys.groups.length + n] as unknown[] | null)?.map(String) ?? [],
        }));
        for (let round = 0; round < 10_000; round += 1) {
          batches = batches.filter((batch) => batch.members.length > 0);
          if (batches.length === 0) break;
          const replies = await wire.pipeline(
            batches.flatMap(({ group, members }) => [
              { script: UNLINK_TAGGED_SCRIPT, keys: [keys.tag(group, tag), ...members], args: [] },
              ["SRANDMEMBER", keys.tag(group, tag), TAG_BATCH],
            ]),
          );
          batches = batches.map(({ group }, n) => {
            const [unlinked, next] = [replies[2 * n], replies[2 * n + 1]];
            if (!unlinked?.ok)
              throw new RedisUnavailableError("CACHE_REDIS_ERROR", errorOf(unlinked));
            if (!next?.ok) throw new RedisUnavailableError("CACHE_REDIS_ERROR", errorOf(next));
            removed += asNumber(unlinked.value);
            return { group, members: (next.value as unknown[] | null)?.map(String) ?? [] };
          });
        }
        await bumpAll({ t: tag });
      } catch (error) {
        redisError("invalidateTag", error);
        throw asCommandError(toWireError(error));
      }
      return removed;
    },
    async invalidatePattern(pattern) {
      // Any slot group: the group tag is matched by a wildcard of its own.
      const anyGroup = hashTag(namespace, KEY_WILDCARD);
      const match =
        typeof pattern === "string"
          ? `${keyPattern(app, "cache", namespace, "v", anyGroup)}:${pattern
              .split("*")
              .map((piece) => (piece === "" ? "" : escapeKeyPart(piece)))
              .join("*")}`
          : keyPattern(app, "cache", namespace, "v", anyGroup, ...pattern);
      const regex = globToRegExp(match);
      l1?.deleteWhere((key) => regex.test(key));
      coherence.markWriteAll();
      let removed = 0;
      let cursor = "0";
      try {
        await eachGroup((group) => ["INCR", keys.sweep(group)]);
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
          removed += await unlinkByGroup(found);
          if (cursor === "0") break;
        }
        await bumpAll({ all: 1 });
      } catch (error) {
        redisError("invalidatePattern", error);
        throw asCommandError(toWireError(error));
      }
      return removed;
    },
  };
}

/** Members unlinked per script call of a tag invalidation. */
const TAG_BATCH = 500;

function errorOf(reply: PipelineReply | undefined): string {
  return reply && !reply.ok ? reply.error : "no reply";
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\?]/g, "\\$&").replace(/\*/g, ".*")}$`);
}
