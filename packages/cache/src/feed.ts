import { buildKey, type KeyPart } from "@hotpath/config";
import { keyParts } from "./key-parts.ts";
import { CacheError } from "./errors.ts";
import { defaultSerializer, type Serializer } from "./serializer.ts";
import { createWire, type RedisClient } from "./wire.ts";

/** Options of {@link createFeed}. */
export interface FeedOptions {
  redis: RedisClient;
  /** @default "hotpath" */
  app?: string;
  /** Default number of items kept per feed. @default 100 */
  keep?: number;
  /** Feeds idle this long expire (seconds); 0 keeps them. @default 0 */
  ttlSeconds?: number;
  /** @default superjson */
  serializer?: Serializer;
  /** @default 1000 */
  timeoutMs?: number;
}

/** Capped activity feeds (newest first) on Redis lists. */
export interface Feed {
  /** Prepends an item and trims the feed to `keep` (LPUSH + LTRIM in one round trip). */
  push(
    feedKey: KeyPart | readonly KeyPart[],
    item: unknown,
    options?: { keep?: number },
  ): Promise<void>;
  /** The newest `n` items. */
  recent<T = unknown>(feedKey: KeyPart | readonly KeyPart[], n?: number): Promise<T[]>;
}

/** Creates a {@link Feed}. */
export function createFeed(options: FeedOptions): Feed {
  const app = options.app ?? "hotpath";
  const serializer = options.serializer ?? defaultSerializer;
  const wire = createWire(options.redis, options.timeoutMs ?? 1000);
  const key = (feedKey: KeyPart | readonly KeyPart[]) =>
    buildKey(app, "feed", ...keyParts(feedKey));
  return {
    async push(feedKey, item, o = {}) {
      const keep = Math.max(1, Math.floor(o.keep ?? options.keep ?? 100));
      const k = key(feedKey);
      const commands: string[][] = [
        ["LPUSH", k, serializer.serialize(item)],
        ["LTRIM", k, "0", String(keep - 1)],
      ];
      if (options.ttlSeconds) commands.push(["EXPIRE", k, String(options.ttlSeconds)]);
      const replies = await wire.pipeline(commands);
      const failed = replies.find((reply) => !reply.ok);
      if (failed && !failed.ok) throw new CacheError("CACHE_REDIS_ERROR", failed.error);
    },
    async recent<T>(feedKey: KeyPart | readonly KeyPart[], n = 10) {
      const items =
        ((await wire.command([
          "LRANGE",
          key(feedKey),
          "0",
          String(Math.max(1, Math.floor(n)) - 1),
        ])) as unknown[] | null) ?? [];
      const out: T[] = [];
      for (const item of items) {
        try {
          out.push(serializer.deserialize(String(item)) as T);
        } catch {
          // A malformed item is skipped, never thrown at the reader.
        }
      }
      return out;
    },
  };
}
