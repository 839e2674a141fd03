import {
  DEV_CREDENTIALS,
  startQStashServer,
  type RunningQStashServer,
} from "@hotpath/qstash-server";
import { createRedis } from "@hotpath/redis";
import { deletePrefix, uniquePrefix } from "@hotpath/testing";
import { Client, Receiver } from "@upstash/qstash";
import { inject } from "vitest";
import { JOBS_WEBHOOK_PATH, type ApiQStash } from "../../src/jobs/api-jobs.ts";

/** A local QStash server on the shared test Redis (own key prefix), retries scaled to ms. */
export interface LocalQStash {
  /** The running server (a new one after {@link LocalQStash.restart}). */
  readonly server: RunningQStashServer;
  /**
   * The API's QStash wiring: a client of this server (or of `baseUrl`, e.g. a proxy in front of
   * it), a webhook on 127.0.0.1:`webhookPort`, and the message retries (`retryDelay` is scaled
   * by 0.001 on this server: "200000" retries every 200 ms).
   */
  wiring(webhookPort: number, options?: WiringOptions): ApiQStash;
  /** Stops the server, keeping its keys (QStash down; {@link LocalQStash.restart} brings it back). */
  stop(): Promise<void>;
  /** Starts the server again on the same port and key prefix (what it held is still there). */
  restart(): Promise<void>;
  /** Stops the server and deletes its keys. */
  close(): Promise<void>;
}

/** Options of {@link LocalQStash.wiring}. */
export interface WiringOptions {
  baseUrl?: string;
  retries?: number;
  retryDelay?: string;
}

/** Starts a {@link LocalQStash} named `name` (the prefix of its keys). */
export async function startLocalQStash(name: string): Promise<LocalQStash> {
  const prefix = uniquePrefix(name);
  const start = (port: number) =>
    startQStashServer({ redisUrl: inject("redisUrl"), port, prefix, retryDelayScale: 0.001 });
  let server = await start(0);
  const port = server.port;
  let running = true;
  return {
    get server() {
      return server;
    },
    wiring: (webhookPort, options = {}) => ({
      client: new Client({ baseUrl: options.baseUrl ?? server.url, token: DEV_CREDENTIALS.token }),
      receiver: new Receiver({
        currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
        nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
      }),
      webhookUrl: `http://127.0.0.1:${webhookPort}${JOBS_WEBHOOK_PATH}`,
      ...(options.retries === undefined ? {} : { retries: options.retries }),
      ...(options.retryDelay === undefined ? {} : { retryDelay: options.retryDelay }),
    }),
    async stop() {
      if (running) await server.close();
      running = false;
    },
    async restart() {
      if (running) await server.close();
      server = await start(port);
      running = true;
    },
    async close() {
      if (running) await server.close();
      running = false;
      const shared = createRedis({ url: inject("redisUrl") });
      await deletePrefix(shared, prefix).catch(() => undefined);
      await shared.close();
    },
  };
}
