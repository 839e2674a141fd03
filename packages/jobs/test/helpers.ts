import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { createIdempotencyStore, type IdempotencyStore } from "@hotpath/cache";
import {
  DEV_CREDENTIALS,
  startQStashServer,
  type RunningQStashServer,
} from "@hotpath/qstash-server";
import { createRedis, type HotpathRedis } from "@hotpath/redis";
import { deletePrefix, uniquePrefix } from "@hotpath/testing";
import { Client, Receiver } from "@upstash/qstash";
import { inject } from "vitest";

/** A fetch handler served on 127.0.0.1 by node:http, with every answer it gave. */
export interface ServedHandler {
  url: string;
  answers: { status: number; messageId: string | null; retried: string | null }[];
  close(): Promise<void>;
}

/** Serves `handler` (Request → Response) on a free port; `path` is the webhook route. */
export async function serveFetchHandler(
  makeHandler: (url: string) => (request: Request) => Promise<Response>,
  path = "/jobs/qstash",
): Promise<ServedHandler> {
  const route: { handler?: (request: Request) => Promise<Response> } = {};
  const answers: ServedHandler["answers"] = [];
  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers)) {
      if (typeof value === "string") headers.set(name, value);
    }
    const request = new Request(`${served.url.replace(path, "")}${incoming.url ?? "/"}`, {
      method: incoming.method ?? "GET",
      headers,
      ...(incoming.method === "GET" ? {} : { body: Buffer.concat(chunks) }),
    });
    const response = await route.handler!(request);
    answers.push({
      status: response.status,
      messageId: headers.get("upstash-message-id"),
      retried: headers.get("upstash-retried"),
    });
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(await response.text());
  };
  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const served: ServedHandler = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`,
    answers,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  route.handler = makeHandler(served.url);
  return served;
}

/** A local QStash server on the shared test Redis (own prefix), a client and a receiver. */
export interface QStashFixture {
  server: RunningQStashServer;
  client: Client;
  receiver: Receiver;
  redis: HotpathRedis;
  idempotency: IdempotencyStore;
  /** Key prefix of this fixture (the app of the idempotency store). */
  prefix: string;
  close(): Promise<void>;
}

/** Starts a {@link QStashFixture}; retries are scaled down so backoff takes milliseconds. */
export async function startQStashFixture(): Promise<QStashFixture> {
  const prefix = uniquePrefix("jobs");
  const redisUrl = inject("redisUrl");
  const server = await startQStashServer({
    redisUrl,
    port: 0,
    prefix: `${prefix}-qstash`,
    retryDelayScale: 0.001,
  });
  const client = new Client({
    baseUrl: server.url,
    token: DEV_CREDENTIALS.token,
    enableTelemetry: false,
  });
  const receiver = new Receiver({
    currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
    nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
  });
  const redis = createRedis({ url: redisUrl, timeoutMs: 5000 });
  const idempotency = createIdempotencyStore({ redis, app: prefix, name: "jobs", metrics: false });
  return {
    server,
    client,
    receiver,
    redis,
    idempotency,
    prefix,
    async close() {
      await server.close();
      await idempotency.close();
      await deletePrefix(redis, prefix);
      await redis.close();
    },
  };
}

/** Polls `check` until it returns a truthy value, failing after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 20_000,
): Promise<Exclude<T, false | undefined | null>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== false && value !== undefined && value !== null) {
      return value as Exclude<T, false | undefined | null>;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
