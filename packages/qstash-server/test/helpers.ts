import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { uniquePrefix } from "@hotpath/testing";
import { Client, Receiver } from "@upstash/qstash";
import { Redis } from "ioredis";
import { inject } from "vitest";
import {
  DEV_CREDENTIALS,
  startQStashServer,
  type QStashServerOptions,
  type RunningQStashServer,
} from "../src/index.ts";

/** One request a destination received, with the outcome of `Receiver.verify`. */
export interface Received {
  method: string;
  url: string;
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  verified: boolean;
  verifyError?: string;
  at: number;
}

/** How a destination answers: a status (and headers), chosen per request. */
export type Responder = (
  request: Received,
  index: number,
) => { status: number; headers?: Record<string, string>; body?: string; holdMs?: number };

/** A real HTTP destination on 127.0.0.1 that verifies every delivery with `Receiver`. */
export interface Destination {
  url: string;
  received: Received[];
  respond: Responder;
  /** Most requests this destination was answering at the same time. */
  maxConcurrent: number;
  close(): Promise<void>;
}

/** Starts a destination; by default it answers 200. */
export async function startDestination(
  options: { respond?: Responder; keys?: { current: string; next: string } } = {},
): Promise<Destination> {
  const receiver = new Receiver({
    currentSigningKey: options.keys?.current ?? DEV_CREDENTIALS.currentSigningKey,
    nextSigningKey: options.keys?.next ?? DEV_CREDENTIALS.nextSigningKey,
  });
  const received: Received[] = [];
  const destination: Destination = {
    url: "",
    received,
    respond: options.respond ?? (() => ({ status: 200 })),
    maxConcurrent: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  let concurrent = 0;
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    concurrent += 1;
    destination.maxConcurrent = Math.max(destination.maxConcurrent, concurrent);
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString("utf8");
    const url = `${destination.url}${request.url ?? "/"}`;
    const entry: Received = {
      method: request.method ?? "",
      url,
      path: request.url ?? "/",
      headers: request.headers,
      body,
      verified: false,
      at: Date.now(),
    };
    try {
      entry.verified = await receiver.verify({
        signature: String(request.headers["upstash-signature"] ?? ""),
        body,
        url,
      });
    } catch (error) {
      entry.verifyError = (error as Error).message;
    }
    received.push(entry);
    const answer = destination.respond(entry, received.length - 1);
    if (answer.holdMs) await sleep(answer.holdMs);
    concurrent -= 1;
    response.writeHead(answer.status, answer.headers ?? {});
    response.end(answer.body ?? "");
  };
  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  destination.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return destination;
}

/** Deletes every key under `prefix` on the shared test Redis (SCAN + UNLINK, never a flush). */
export async function deleteKeys(prefix: string): Promise<void> {
  const redis = new Redis(inject("redisUrl"));
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length > 0) await redis.unlink(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}

/**
 * Starts a server on the shared test Redis under its own key prefix (nothing is flushed);
 * `close()` also deletes its keys.
 */
export async function startTestServer(
  options: Partial<QStashServerOptions> = {},
): Promise<RunningQStashServer & { client: Client; prefix: string }> {
  const prefix = uniquePrefix("qstash");
  const server = await startQStashServer({
    redisUrl: inject("redisUrl"),
    port: 0,
    prefix,
    retryDelayScale: 0.001,
    ...options,
  });
  const client = new Client({
    baseUrl: server.url,
    token: DEV_CREDENTIALS.token,
    enableTelemetry: false,
  });
  const close = async () => {
    await server.close();
    await deleteKeys(prefix);
  };
  return { ...server, close, client, prefix };
}

/** Polls `check` until it returns true (or a value), failing after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  what: string,
  timeoutMs = 15_000,
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
