import { createKeyspace } from "@hotpath/config";
import type { Redis } from "@upstash/redis";
import { z } from "zod";
import type { SessionData, SessionStore } from "../trpc/deps.ts";

const sessionSchema = z.object({ userId: z.number().int(), username: z.string(), createdAt: z.number() });

/** Options of {@link createRedisSessionStore}. */
export interface RedisSessionStoreOptions {
  redis: Redis;
  app: string;
  /** Sliding lifetime in seconds. */
  ttlSeconds: number;
  /** Clock (tests). @default Date.now */
  now?: () => number;
}

function randomToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * Sessions in Redis under `<app>:session:<id>` (a 256-bit random id; the value holds ids only).
 * Reads slide the expiry in the same round trip (GETEX … EX). Values read back are validated.
 */
export function createRedisSessionStore(options: RedisSessionStoreOptions): SessionStore {
  const keys = createKeyspace(options.app);
  const now = options.now ?? Date.now;
  const keyOf = (id: string) => keys.key("session", id);
  return {
    async create(data: SessionData) {
      const id = randomToken();
      await options.redis.set(keyOf(id), JSON.stringify(data), { ex: options.ttlSeconds });
      return { id, expiresAt: now() + options.ttlSeconds * 1000 };
    },
    async get(id) {
      const raw = await options.redis.getex<unknown>(keyOf(id), { ex: options.ttlSeconds });
      if (raw === null || raw === undefined) return null;
      const parsed = sessionSchema.safeParse(typeof raw === "string" ? JSON.parse(raw) : raw);
      if (!parsed.success) return null;
      return { data: parsed.data, expiresAt: now() + options.ttlSeconds * 1000 };
    },
    async destroy(id) {
      await options.redis.del(keyOf(id));
    },
  };
}
