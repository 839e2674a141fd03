import { Queue, Worker, type Job } from "bullmq";
import type { KeyLayout } from "./key-layout.ts";
import { openRedis, type RedisConnection } from "./redis-connection.ts";

/** What a delivery job carries (the message itself stays in the store). */
export interface DeliveryJobData {
  tenant: string;
  messageId: string;
}

/** What a schedule job carries. */
export interface ScheduleJobData {
  tenant: string;
  scheduleId: string;
}

/** Processes one job of a lane; throwing asks BullMQ for a retry (the error may carry `delayMs`). */
export type LaneProcessor = (job: Job) => Promise<void>;

/** Name of the lane for messages outside queues and flow-control keys. */
export const DEFAULT_LANE = "deliver";
/** Name of the lane that holds the cron job schedulers. */
export const SCHEDULE_LANE = "schedules";

/**
 * BullMQ queues ("lanes") and their workers. Every lane is a BullMQ queue on the same Redis; its
 * limits (global concurrency, rate, pause) live in Redis, so every server process obeys them.
 * The set of lanes is kept in Redis too, and each process starts a worker for every lane it sees.
 */
export class Lanes {
  readonly #redisUrl: string;
  readonly #layout: KeyLayout;
  readonly #registryKey: string;
  readonly #concurrency: number;
  readonly #processor: LaneProcessor;
  readonly #connection: RedisConnection;
  readonly #queues = new Map<string, Queue>();
  readonly #workers = new Map<string, Worker>();
  readonly #concurrencies = new Map<string, number>();
  readonly #workerConnections: RedisConnection[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(input: {
    redisUrl: string;
    layout: KeyLayout;
    concurrency: number;
    processor: LaneProcessor;
  }) {
    this.#redisUrl = input.redisUrl;
    this.#layout = input.layout;
    this.#registryKey = input.layout.lanesKey;
    this.#concurrency = input.concurrency;
    this.#processor = input.processor;
    // Its own connection: BullMQ defines its scripts on it, which makes every ioredis pipeline
    // on the same connection expensive to build (the store auto-pipelines on its own one).
    this.#connection = this.#newConnection();
  }

  #newConnection(): RedisConnection {
    // BullMQ needs maxRetriesPerRequest: null (on every node connection of a cluster).
    return openRedis(this.#redisUrl, {
      node: { maxRetriesPerRequest: null, retryStrategy: (times) => Math.min(1000, 50 * times) },
    });
  }

  /** Starts workers for every known lane and keeps watching for new ones. */
  async start(): Promise<void> {
    await this.ensure(DEFAULT_LANE);
    await this.ensure(SCHEDULE_LANE);
    await this.sync();
    this.#timer = setInterval(() => void this.sync().catch(() => undefined), 1000);
    this.#timer.unref();
  }

  /** True when this process already works on the lane. */
  has(name: string): boolean {
    return this.#workers.has(name);
  }

  /** The BullMQ queue of a lane (created on first use). */
  queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, {
        connection: this.#connection,
        prefix: this.#layout.bullPrefix(name),
      });
      queue.on("error", () => undefined);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Registers a lane in Redis (so every process works on it) and starts its worker here.
   * `concurrency` (a queue's parallelism) caps this process's worker; the global limit is set on
   * the BullMQ queue by the caller. 0 means the server's default.
   */
  async ensure(name: string, concurrency = 0): Promise<Queue> {
    const known = this.#concurrencies.get(name);
    if (known !== concurrency) {
      await this.#connection.hset(this.#registryKey, name, String(concurrency));
      this.#concurrencies.set(name, concurrency);
    }
    this.#startWorker(name, concurrency);
    return this.queue(name);
  }

  /** Forgets a lane: removes it from the registry and obliterates its BullMQ data. */
  async drop(name: string): Promise<void> {
    await this.#connection.hdel(this.#registryKey, name);
    this.#concurrencies.delete(name);
    const worker = this.#workers.get(name);
    this.#workers.delete(name);
    await worker?.close();
    const queue = this.queue(name);
    await queue.obliterate({ force: true }).catch(() => undefined);
    this.#queues.delete(name);
    await queue.close();
  }

  /** Starts workers for lanes registered by other processes. */
  async sync(): Promise<void> {
    if (this.#closed) return;
    const lanes = await this.#connection.hgetall(this.#registryKey);
    for (const [name, concurrency] of Object.entries(lanes)) {
      this.#concurrencies.set(name, Number(concurrency) || 0);
      this.#startWorker(name, Number(concurrency) || 0);
    }
  }

  #startWorker(name: string, concurrency: number): void {
    if (this.#closed) return;
    const wanted = concurrency > 0 ? Math.min(concurrency, this.#concurrency) : this.#concurrency;
    const running = this.#workers.get(name);
    if (running) {
      if (running.concurrency !== wanted) running.concurrency = wanted;
      return;
    }
    const connection = this.#newConnection();
    this.#workerConnections.push(connection);
    const worker = new Worker(name, (job) => this.#processor(job), {
      connection,
      prefix: this.#layout.bullPrefix(name),
      concurrency: wanted,
      settings: {
        backoffStrategy: (_attempts, _type, error) =>
          Math.max(0, Math.round((error as { delayMs?: number } | undefined)?.delayMs ?? 0)),
      },
      removeOnComplete: { count: 0 },
      removeOnFail: { count: 1000 },
    });
    worker.on("error", () => undefined);
    this.#workers.set(name, worker);
  }

  /**
   * Stops the workers, waiting up to `graceMs` for running deliveries (then cutting them: their
   * jobs run again elsewhere once their lock expires), and closes every connection.
   */
  async close(graceMs: number): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    const workers = [...this.#workers.values()];
    const graceful = Promise.all(workers.map((worker) => worker.close()));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<"expired">((resolve) => {
      timer = setTimeout(() => resolve("expired"), graceMs);
    });
    if ((await Promise.race([graceful, expired])) === "expired") {
      await Promise.all(workers.map((worker) => worker.close(true)));
    }
    clearTimeout(timer);
    await Promise.all([...this.#queues.values()].map((queue) => queue.close()));
    for (const connection of [...this.#workerConnections, this.#connection])
      connection.disconnect();
  }
}
