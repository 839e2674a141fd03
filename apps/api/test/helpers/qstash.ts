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
  server: RunningQStashServer;
  /**
   * The API's QStash wiring: a client of this server (or of `baseUrl`, e.g. a proxy in front of
   * it) and a webhook on 127.0.0.1:`webhookPort`.
   */
  wiring(webhookPort: number, options?: { baseUrl?: string }): ApiQStash;
  /** Stops the server and deletes its keys. */
  close(): Promise<void>;
}

/** Starts a {@link LocalQStash} named `name` (the prefix of its keys). */
export async function startLocalQStash(name: string): Promise<LocalQStash> {
  const prefix = uniquePrefix(name);
  const server = await startQStashServer({
    redisUrl: inject("redisUrl"),
    port: 0,
    prefix,
    retryDelayScale: 0.001,
  });
  return {
    server,
    wiring: (webhookPort, options = {}) => ({
      client: new Client({ baseUrl: options.baseUrl ?? server.url, token: DEV_CREDENTIALS.token }),
      receiver: new Receiver({
        currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
        nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
      }),
      webhookUrl: `http://127.0.0.1:${webhookPort}${JOBS_WEBHOOK_PATH}`,
    }),
    async close() {
      await server.close();
      const shared = createRedis({ url: inject("redisUrl") });
      await deletePrefix(shared, prefix).catch(() => undefined);
      await shared.close();
    },
  };
}
