import type { IncomingMessage, ServerResponse } from "node:http";
import { adminCommandName, firstAdminCommand } from "./admin-commands.ts";
import { asCommand, asCommandList, runMultiExec } from "./commands.ts";
import { HttpError, errorBody, itemsBody, resultBody, sendJson, statusOf } from "./responses.ts";
import { emulateUpstashOnly, emulateUpstashOnlyAll } from "./upstash-only.ts";
import { decodeTarget, serveSubscription, type SubscriptionRegistry } from "./subscribe.ts";
import type { Target, TokenTargets } from "./targets.ts";

/** What the request handler needs from its gateway. */
export interface HandlerContext {
  readonly targets: TokenTargets;
  readonly subscriptions: SubscriptionRegistry;
  readonly maxBodyBytes: number;
  /** Pass on commands that control the server (see `allowAdminCommands`). */
  readonly allowAdminCommands: boolean;
  /** Open SSE subscriptions allowed per token. */
  readonly maxSubscriptionsPerToken: number;
  /** Called when a request starts and when its answer is finished (graceful close counts them). */
  readonly track: (delta: 1 | -1) => void;
}

type Endpoint = "command" | "pipeline" | "multi-exec" | "subscribe" | "psubscribe";

const ALLOW_POST = { allow: "POST" } as const;

function endpointOf(path: string): Endpoint | undefined {
  switch (path) {
    case "/":
    case "":
      return "command";
    case "/pipeline":
      return "pipeline";
    case "/multi-exec":
      return "multi-exec";
    default:
      if (path.startsWith("/subscribe/")) return "subscribe";
      if (path.startsWith("/psubscribe/")) return "psubscribe";
      return undefined;
  }
}

function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header.length < 8) return undefined;
  const scheme = header.slice(0, 7);
  if (scheme !== "Bearer " && scheme.toLowerCase() !== "bearer ") return undefined;
  return header.slice(7).trim();
}

function bodyTooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    `ERR request body is larger than the limit of ${limit} bytes (raise it with --max-body-bytes, option maxBodyBytes)`,
  );
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = req.headers["content-length"];
    if (declared !== undefined && Number(declared) > limit) {
      reject(bodyTooLarge(limit));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(bodyTooLarge(limit));
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.once("end", () => {
      resolve(
        chunks.length === 1
          ? (chunks[0] as Buffer).toString("utf8")
          : Buffer.concat(chunks).toString("utf8"),
      );
    });
    req.once("error", reject);
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(
      400,
      `ERR the body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * Creates the node:http request listener of the gateway: routing, bearer auth, body limit,
 * JSON parsing, the three command endpoints and the SSE endpoints. Every answer is JSON
 * (or an SSE stream), including every error.
 */
export function createRequestHandler(
  context: HandlerContext,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    context.track(1);
    res.once("close", () => context.track(-1));
    handle(context, req, res).catch((error: unknown) => {
      const { status, message, headers } = statusOf(error);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (status === 413) {
        // The rest of the body is not read: close the connection after the answer.
        sendJson(res, status, errorBody(message), { connection: "close" });
        req.resume();
        return;
      }
      sendJson(res, status, errorBody(message), headers);
    });
  };
}

async function handle(
  context: HandlerContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const rawUrl = req.url ?? "/";
  const queryAt = rawUrl.indexOf("?");
  const path = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  const endpoint = endpointOf(path);
  if (endpoint === undefined)
    throw new HttpError(
      404,
      `ERR unknown endpoint ${path}: use POST /, /pipeline, /multi-exec, /subscribe/<channel> or /psubscribe/<pattern>`,
    );
  if (req.method !== "POST")
    throw new HttpError(
      405,
      `ERR method ${req.method ?? "?"} is not allowed: use POST`,
      ALLOW_POST,
    );

  const token = bearerToken(req.headers.authorization);
  const target = token === undefined ? undefined : context.targets.resolve(token);
  if (target === undefined) throw new HttpError(401, "Unauthorized");

  const format = headerValue(req.headers["upstash-response-format"]);
  if (format !== undefined && format.toLowerCase() !== "json") {
    throw new HttpError(400, `ERR Upstash-Response-Format ${format} is not supported: only json`);
  }
  const base64 = isBase64(headerValue(req.headers["upstash-encoding"]));

  if (endpoint === "subscribe" || endpoint === "psubscribe") {
    const channel = decodeTarget(path.slice(endpoint.length + 2));
    await serveSubscription(req, res, target.executor, endpoint, channel, {
      registry: context.subscriptions,
      token: token as string,
      maxPerToken: context.maxSubscriptionsPerToken,
    });
    return;
  }

  const body = parseJson(await readBody(req, context.maxBodyBytes));
  if (!context.allowAdminCommands) refuseAdminCommands(endpoint, body);
  await execute(target, endpoint, body, base64, res);
}

/** Refuses the whole request when it holds a command that controls the server (nothing runs). */
function refuseAdminCommands(endpoint: "command" | "pipeline" | "multi-exec", body: unknown): void {
  const name =
    endpoint === "command"
      ? adminCommandName(body)
      : Array.isArray(body)
        ? firstAdminCommand(body)
        : undefined;
  if (name === undefined) return;
  throw new HttpError(
    400,
    `ERR ${name} is refused by this gateway: it gives a token control of the Redis server. Start the gateway with --allow-admin-commands (option allowAdminCommands: true) to allow it`,
  );
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function isBase64(header: string | undefined): boolean {
  return header !== undefined && (header === "base64" || header.toLowerCase() === "base64");
}

async function execute(
  { executor, batcher }: Target,
  endpoint: "command" | "pipeline" | "multi-exec",
  body: unknown,
  base64: boolean,
  res: ServerResponse,
): Promise<void> {
  switch (endpoint) {
    case "command": {
      const [reply] = await batcher.run([emulateUpstashOnly(asCommand(body))]);
      if (reply instanceof Error) throw reply;
      sendJson(res, 200, resultBody(reply ?? null, base64));
      return;
    }
    case "pipeline":
      sendJson(
        res,
        200,
        itemsBody(await batcher.run(emulateUpstashOnlyAll(asCommandList(body))), base64),
      );
      return;
    case "multi-exec":
      sendJson(
        res,
        200,
        itemsBody(await runMultiExec(executor, emulateUpstashOnlyAll(asCommandList(body))), base64),
      );
      return;
  }
}
