import { buildKey } from "@hotpath/config";
import { CacheError } from "./errors.ts";
import { randomId, ttlToMs, validateWith, type StandardSchema, type Ttl } from "./options.ts";
import { defaultSerializer, type Serializer } from "./serializer.ts";
import { asNumber, createWire, defineScript, type RedisClient } from "./wire.ts";

/** Update fields of an existing session and slide its expiry. KEYS: session. ARGV: px, field, value… */
const UPDATE_SESSION_SCRIPT = defineScript(
  `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`,
  "session.update",
);

/** Create a session hash and its expiry atomically. KEYS: session. ARGV: px, field, value… */
const CREATE_SESSION_SCRIPT = defineScript(
  `
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
`,
  "session.create",
);

/** Options of {@link createSessionStore}. */
export interface SessionStoreOptions<T extends Record<string, unknown>> {
  redis: RedisClient;
  /** @default "hotpath" */
  app?: string;
  /** Idle expiry, slid on every read and update. @default 1 day (TTL_EXTENDED) */
  ttl?: Ttl;
  /** Validates sessions read back; an invalid one is treated as missing. */
  schema?: StandardSchema<T>;
  /** @default superjson */
  serializer?: Serializer;
  /** @default 1000 */
  timeoutMs?: number;
}

/** Hash-backed sessions with sliding expiry (one Redis hash per session, one field per key). */
export interface SessionStore<T extends Record<string, unknown>> {
  /** Creates a session; returns its id (128 random bits, hex). */
  createSession(data: T): Promise<string>;
  /** The session (expiry slid in the same round trip), or null. */
  getSession(id: string): Promise<T | null>;
  /** Sets some fields (others are kept); false when the session does not exist. */
  updateSession(id: string, fields: Partial<T>): Promise<boolean>;
  /** Deletes a session; true when it existed. */
  destroySession(id: string): Promise<boolean>;
}

/** Creates a {@link SessionStore}. Session ids are opaque random ids: no PII in keys. */
export function createSessionStore<T extends Record<string, unknown>>(
  options: SessionStoreOptions<T>,
): SessionStore<T> {
  const app = options.app ?? "hotpath";
  const ttlMs = Math.max(1000, ttlToMs(options.ttl ?? 86_400, "ttl"));
  const serializer = options.serializer ?? defaultSerializer;
  const wire = createWire(options.redis, options.timeoutMs ?? 1000);
  const key = (id: string) => {
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(id))
      throw new CacheError("CACHE_INVALID_OPTION", "Invalid session id.", { status: 400 });
    return buildKey(app, "session", id);
  };
  const flatten = (fields: Partial<T>): string[] =>
    Object.entries(fields).flatMap(([field, value]) =>
      value === undefined ? [] : [field, serializer.serialize(value)],
    );

  return {
    async createSession(data) {
      const id = randomId(16);
      const flat = flatten(data);
      const k = key(id);
      // One script: a session never exists without its TTL.
      await wire.script(CREATE_SESSION_SCRIPT, [k], [ttlMs, "__created", Date.now(), ...flat]);
      return id;
    },
    async getSession(id) {
      let k: string;
      try {
        k = key(id);
      } catch {
        return null;
      }
      const [all] = await wire.pipeline([
        ["HGETALL", k],
        ["PEXPIRE", k, String(ttlMs)],
      ]);
      if (!all?.ok || !Array.isArray(all.value) || all.value.length === 0) return null;
      const flat = all.value as unknown[];
      const data: Record<string, unknown> = {};
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const field = String(flat[i]);
        if (field === "__created") continue;
        try {
          data[field] = serializer.deserialize(String(flat[i + 1]));
        } catch {
          return null;
        }
      }
      if (!options.schema) return data as T;
      const checked = await validateWith(options.schema, data);
      return checked.ok ? checked.value : null;
    },
    async updateSession(id, fields) {
      const flat = flatten(fields);
      if (flat.length === 0)
        return asNumber(await wire.command(["PEXPIRE", key(id), String(ttlMs)])) === 1;
      return asNumber(await wire.script(UPDATE_SESSION_SCRIPT, [key(id)], [ttlMs, ...flat])) === 1;
    },
    async destroySession(id) {
      return asNumber(await wire.command(["DEL", key(id)])) === 1;
    },
  };
}
