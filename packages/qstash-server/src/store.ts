import { createHash } from "node:crypto";
import type { KeyLayout } from "./key-layout.ts";
import type { DlqRecord, MessageRecord } from "./message.ts";
import type { RedisConnection } from "./redis-connection.ts";

/** One entry of the events log. */
export interface EventRecord {
  time: number;
  state: string;
  messageId: string;
  url: string;
  topicName?: string;
  endpointName?: string;
  queueName?: string;
  scheduleId?: string;
  flowControlKey?: string;
  label?: string;
  labels?: string[];
  header?: Record<string, string[]>;
  /** base64 */
  body?: string;
  nextDeliveryTime?: number;
  error?: string;
  responseStatus?: number;
  responseHeader?: Record<string, string[]>;
  responseBody?: string;
  callerIp?: string;
}

/** A Lua script run by its sha (loaded again when Redis answers NOSCRIPT, e.g. after a restart). */
class LuaScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
  }

  async run(
    redis: RedisConnection,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<unknown> {
    try {
      return await redis.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error).message).startsWith("NOSCRIPT")) throw error;
      return redis.eval(this.#source, keys.length, ...keys, ...args);
    }
  }
}

// One command each (no MULTI): a transaction would build an ioredis Pipeline per call, and on a
// connection that also carries BullMQ's scripts that costs more CPU than the whole request.

// KEYS: message, pending index, events. ARGV: message id, last event index kept, events to log.
const FINISH_SCRIPT = new LuaScript(`
if redis.call("DEL", KEYS[1]) == 0 then return 0 end
redis.call("ZREM", KEYS[2], ARGV[1])
for i = 3, #ARGV do redis.call("LPUSH", KEYS[3], ARGV[i]) end
redis.call("LTRIM", KEYS[3], 0, tonumber(ARGV[2]))
return 1`);

// KEYS: message, pending index, events. ARGV: message JSON, message id, created at, last event
// index kept, event JSON.
const PUT_SCRIPT = new LuaScript(`
redis.call("SET", KEYS[1], ARGV[1])
redis.call("ZADD", KEYS[2], ARGV[3], ARGV[2])
redis.call("LPUSH", KEYS[3], ARGV[5])
redis.call("LTRIM", KEYS[3], 0, tonumber(ARGV[4]))
return 1`);

// KEYS: events. ARGV: last event index kept, events to log.
const EVENTS_SCRIPT = new LuaScript(`
for i = 2, #ARGV do redis.call("LPUSH", KEYS[1], ARGV[i]) end
redis.call("LTRIM", KEYS[1], 0, tonumber(ARGV[1]))
return 1`);

/**
 * The server's own records in Redis (messages, DLQ, events, schedules, queues, URL groups,
 * flow-control keys, dedup ids), every key in its tenant's space (see {@link KeyLayout}: on a
 * cluster a tenant's keys share one slot, so the scripts and transactions below stay on one node).
 */
export class Store {
  readonly #redis: RedisConnection;
  readonly #layout: KeyLayout;
  readonly #maxEvents: number;

  constructor(redis: RedisConnection, layout: KeyLayout, maxEvents: number) {
    this.#redis = redis;
    this.#layout = layout;
    this.#maxEvents = maxEvents;
  }

  /** The key of `name` in `tenant`'s space. */
  key(tenant: string, name: string): string {
    return this.#layout.tenantKey(tenant, name);
  }

  /** Stores a pending message, indexes it (score = creation time) and logs `event`, in one transaction. */
  async putMessage(tenant: string, message: MessageRecord, event: EventRecord): Promise<void> {
    await PUT_SCRIPT.run(
      this.#redis,
      [
        this.key(tenant, `msg:${message.messageId}`),
        this.key(tenant, "pending"),
        this.key(tenant, "events"),
      ],
      [
        JSON.stringify(message),
        message.messageId,
        String(message.createdAt),
        String(this.#maxEvents - 1),
        JSON.stringify(event),
      ],
    );
  }

  /**
   * Removes a finished message and logs its events, in one transaction. Returns false (and logs
   * nothing) when the message was already gone, so exactly one caller finishes a message.
   */
  async finishMessage(tenant: string, messageId: string, events: EventRecord[]): Promise<boolean> {
    const removed = await FINISH_SCRIPT.run(
      this.#redis,
      [
        this.key(tenant, `msg:${messageId}`),
        this.key(tenant, "pending"),
        this.key(tenant, "events"),
      ],
      [messageId, String(this.#maxEvents - 1), ...events.map((event) => JSON.stringify(event))],
    );
    return removed === 1;
  }

  /** A pending message, or undefined once delivered, failed or cancelled. */
  async getMessage(tenant: string, messageId: string): Promise<MessageRecord | undefined> {
    const text = await this.#redis.get(this.key(tenant, `msg:${messageId}`));
    return text === null ? undefined : (JSON.parse(text) as MessageRecord);
  }

  /** Removes a message; true when this call removed it (so exactly one caller wins). */
  async deleteMessage(tenant: string, messageId: string): Promise<boolean> {
    const results = await this.#redis
      .multi()
      .del(this.key(tenant, `msg:${messageId}`))
      .zrem(this.key(tenant, "pending"), messageId)
      .exec();
    return results?.[0]?.[1] === 1;
  }

  /** Ids of pending messages, oldest first. */
  async pendingIds(tenant: string): Promise<string[]> {
    return this.#redis.zrange(this.key(tenant, "pending"), 0, -1);
  }

  /** Claims a deduplication id for the window; returns the message id that already holds it, if any. */
  async claimDeduplication(
    tenant: string,
    id: string,
    messageId: string,
    windowMs: number,
  ): Promise<string | undefined> {
    const key = this.key(tenant, `dedup:${id}`);
    const set = await this.#redis.set(key, messageId, "PX", windowMs, "NX");
    if (set === "OK") return undefined;
    return (await this.#redis.get(key)) ?? messageId;
  }

  /** Appends an event (newest first), trimming to the retention. */
  async addEvent(tenant: string, event: EventRecord): Promise<void> {
    await this.addEvents(tenant, [event]);
  }

  /** Appends events in order (the last becomes the newest), trimming to the retention. */
  async addEvents(tenant: string, events: readonly EventRecord[]): Promise<void> {
    await EVENTS_SCRIPT.run(
      this.#redis,
      [this.key(tenant, "events")],
      [String(this.#maxEvents - 1), ...events.map((event) => JSON.stringify(event))],
    );
  }

  /** Every retained event, newest first. */
  async events(tenant: string): Promise<EventRecord[]> {
    const items = await this.#redis.lrange(this.key(tenant, "events"), 0, -1);
    return items.map((item) => JSON.parse(item) as EventRecord);
  }

  /** Adds a DLQ entry. */
  async putDlq(tenant: string, entry: DlqRecord): Promise<void> {
    await this.#redis
      .multi()
      .hset(this.key(tenant, "dlq"), entry.dlqId, JSON.stringify(entry))
      .zadd(this.key(tenant, "dlq-order"), entry.time, entry.dlqId)
      .exec();
  }

  /** Every DLQ entry, newest first. */
  async dlqEntries(tenant: string): Promise<DlqRecord[]> {
    const ids = await this.#redis.zrevrange(this.key(tenant, "dlq-order"), 0, -1);
    if (ids.length === 0) return [];
    const values = await this.#redis.hmget(this.key(tenant, "dlq"), ...ids);
    return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as DlqRecord);
  }

  /** Removes DLQ entries; returns how many existed. */
  async deleteDlq(tenant: string, dlqIds: readonly string[]): Promise<number> {
    if (dlqIds.length === 0) return 0;
    const results = await this.#redis
      .multi()
      .hdel(this.key(tenant, "dlq"), ...dlqIds)
      .zrem(this.key(tenant, "dlq-order"), ...dlqIds)
      .exec();
    return Number(results?.[0]?.[1] ?? 0);
  }

  /** A JSON record from one of the tenant's hashes (schedules, queues, topics, flow). */
  async getRecord<T>(tenant: string, hash: string, id: string): Promise<T | undefined> {
    const text = await this.#redis.hget(this.key(tenant, hash), id);
    return text === null ? undefined : (JSON.parse(text) as T);
  }

  /** Writes a JSON record into one of the tenant's hashes. */
  async putRecord(tenant: string, hash: string, id: string, value: unknown): Promise<void> {
    await this.#redis.hset(this.key(tenant, hash), id, JSON.stringify(value));
  }

  /** Deletes a record; true when it existed. */
  async deleteRecord(tenant: string, hash: string, id: string): Promise<boolean> {
    return (await this.#redis.hdel(this.key(tenant, hash), id)) === 1;
  }

  /** Every record of one of the tenant's hashes. */
  async listRecords<T>(tenant: string, hash: string): Promise<T[]> {
    const all = await this.#redis.hgetall(this.key(tenant, hash));
    return Object.values(all).map((v) => JSON.parse(v) as T);
  }

  /** Increments a counter field of a hash and returns it (flow-control counts). */
  async incrementField(tenant: string, hash: string, field: string, by: number): Promise<number> {
    return this.#redis.hincrby(this.key(tenant, hash), field, by);
  }
}
