import type { IncomingMessage, ServerResponse } from "node:http";
import { badRequest, QStashServerError } from "./errors.ts";
import type { HeaderLists } from "./publish-spec.ts";
import type { QStashService, Tenant } from "./service.ts";

/** One authenticated request, as routes see it. */
export interface RequestContext {
  tenant: Tenant;
  service: QStashService;
  request: IncomingMessage;
  /** The raw path (not decoded), without the query. */
  path: string;
  /** The raw query string without `?` ("" when none). */
  rawQuery: string;
  query: URLSearchParams;
  headers: HeaderLists;
  callerIp: string;
  /** Reads the body (once), enforcing the size limit. */
  body(): Promise<Buffer>;
}

/** What a route answers: a status and a JSON value (undefined: empty JSON object). */
export interface RouteAnswer {
  status?: number;
  json?: unknown;
}

/** A route handler; `params` are the captured path parts. */
export type RouteHandler = (context: RequestContext, params: string[]) => Promise<RouteAnswer>;

/** One route: methods, a pattern on the raw path, its handler. */
export interface Route {
  methods: readonly string[];
  pattern: RegExp;
  handler: RouteHandler;
}

/** Reads a request body up to `limit` bytes. @throws QStashServerError 413 above the limit. */
export async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? 0);
  if (declared > limit) {
    request.resume();
    throw new QStashServerError(
      "QSTASH_PAYLOAD_TOO_LARGE",
      `request body is larger than the limit of ${limit} bytes`,
    );
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      throw new QStashServerError(
        "QSTASH_PAYLOAD_TOO_LARGE",
        `request body is larger than the limit of ${limit} bytes`,
      );
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Parses a JSON body. @throws QStashServerError 400 when it is not JSON. */
export function parseJsonBody(body: Buffer, what: string): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch (error) {
    throw badRequest(`${what}: body is not valid JSON`, error);
  }
}

/** Writes a JSON answer. */
export function sendJson(response: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value ?? {});
  response.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

/** Decodes one path segment. @throws QStashServerError 400 on bad escapes. */
export function decodeSegment(segment: string, field: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw badRequest(`${field}: bad percent-encoding`, error);
  }
}
