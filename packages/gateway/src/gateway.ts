import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { GatewayError } from "./errors.ts";
import { createRequestHandler } from "./handler.ts";
import { isLoopbackHost, parseGatewayOptions, type GatewayOptions } from "./options.ts";
import { SubscriptionRegistry } from "./subscribe.ts";
import { TokenTargets } from "./targets.ts";

/** A running gateway. */
export interface RunningGateway {
  /** Base URL for `new Redis({ url, token })`, e.g. `http://127.0.0.1:8079`. */
  readonly url: string;
  /** Bearer token of `redisUrl` (the given one, else generated), or the first of `tokens`. */
  readonly token: string;
  /** Port actually bound (useful with `port: 0`). */
  readonly port: number;
  /** Address bound. */
  readonly host: string;
  /**
   * Stops accepting connections, ends SSE streams, waits for in-flight requests (up to
   * `closeTimeoutMs`, then cuts them) and closes every Redis connection. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Starts a self-hosted Upstash-compatible REST server (`POST /`, `/pipeline`, `/multi-exec`,
 * SSE `/subscribe/<ch>`, `/psubscribe/<pattern>`) in front of one or more real Redis servers.
 * Binds 127.0.0.1 by default; refuses a non-loopback host unless a token is given explicitly.
 * @throws GatewayError GATEWAY_CONFIG (invalid options) or GATEWAY_LISTEN (cannot bind).
 */
export async function startGateway(options: GatewayOptions): Promise<RunningGateway> {
  const resolved = parseGatewayOptions(options);
  const explicitToken =
    resolved.token !== undefined || Object.keys(resolved.tokens ?? {}).length > 0;
  if (!explicitToken && !isLoopbackHost(resolved.host)) {
    throw new GatewayError(
      "GATEWAY_CONFIG",
      `Refusing to listen on ${resolved.host} without an explicit token: pass token (or tokens), or bind 127.0.0.1`,
    );
  }

  const tokenMap = new Map<string, string>();
  let defaultToken: string | undefined;
  if (resolved.redisUrl !== undefined) {
    defaultToken = resolved.token ?? randomBytes(24).toString("base64url");
    tokenMap.set(defaultToken, resolved.redisUrl);
  }
  for (const [token, url] of Object.entries(resolved.tokens ?? {})) {
    if (tokenMap.has(token) && tokenMap.get(token) !== url) {
      throw new GatewayError(
        "GATEWAY_CONFIG",
        "Invalid gateway options:\n  - tokens: a token is mapped to two different Redis URLs",
      );
    }
    tokenMap.set(token, url);
    defaultToken ??= token;
  }

  const targets = new TokenTargets(tokenMap, resolved.commandTimeoutMs);
  const subscriptions = new SubscriptionRegistry();
  let inFlight = 0;
  const server = createServer(
    { keepAliveTimeout: 65_000, headersTimeout: 66_000, requestTimeout: 120_000 },
    createRequestHandler({
      targets,
      subscriptions,
      maxBodyBytes: resolved.maxBodyBytes,
      allowAdminCommands: resolved.allowAdminCommands,
      maxSubscriptionsPerToken: resolved.maxSubscriptionsPerToken,
      track: (delta) => {
        inFlight += delta;
      },
    }),
  );
  server.on("clientError", (_error, socket) => {
    if (socket.writable) {
      socket.end(
        'HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: 38\r\n\r\n{"error":"ERR malformed HTTP request"}',
      );
    } else socket.destroy();
  });

  await targets.warmUp(resolved.connectTimeoutMs);
  try {
    await listen(server, resolved.port, resolved.host);
  } catch (error) {
    await targets.close();
    throw new GatewayError(
      "GATEWAY_LISTEN",
      `Cannot listen on ${resolved.host}:${resolved.port}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  const { port } = server.address() as AddressInfo;
  const urlHost =
    resolved.host === "0.0.0.0" || resolved.host === "::" ? "127.0.0.1" : resolved.host;
  const url = `http://${urlHost.includes(":") ? `[${urlHost}]` : urlHost}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await subscriptions.closeAll();
      const deadline = Date.now() + resolved.closeTimeoutMs;
      while (inFlight > 0 && Date.now() < deadline) await sleep(10);
      server.closeAllConnections();
      await stopped;
      await targets.close();
    })();
    return closing;
  };

  return { url, token: defaultToken as string, port, host: resolved.host, close };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}
