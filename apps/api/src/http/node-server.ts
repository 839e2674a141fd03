import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { FetchHandler } from "./handler.ts";

/** Options of {@link serveNode}. */
export interface ServeNodeOptions {
  handler: FetchHandler;
  port: number;
  host: string;
  /** Largest request body accepted (bytes); larger gets 413. @default 1 MiB */
  maxBodyBytes?: number;
  /** Reports errors writing responses. */
  onError?: (error: unknown) => void;
}

/** A running Node HTTP server serving a fetch handler. */
export interface NodeServer {
  /** `http://host:port` actually bound (port 0 resolves to the real port). */
  readonly url: string;
  readonly port: number;
  /** Requests being handled right now. */
  inFlight(): number;
  /**
   * Graceful stop: no new connections, in-flight requests finish (up to `graceMs`, then the
   * remaining connections are cut), idle keep-alive connections are closed.
   */
  close(graceMs?: number): Promise<void>;
}

async function readBody(
  req: IncomingMessage,
  limit: number,
): Promise<Uint8Array<ArrayBuffer> | "too-large"> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return "too-large";
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Serves a fetch handler on Node's http server: the IncomingMessage becomes a `Request`
 * (body buffered up to `maxBodyBytes`), the `Response` is written back (several Set-Cookie kept).
 */
export async function serveNode(options: ServeNodeOptions): Promise<NodeServer> {
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  let active = 0;
  let draining = false;
  let idle: (() => void) | undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    active += 1;
    try {
      const url = `http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`;
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        if (Array.isArray(value)) for (const v of value) headers.append(name, v);
        else if (value !== undefined) headers.set(name, value);
      }
      const method = req.method ?? "GET";
      let body: Uint8Array<ArrayBuffer> | undefined;
      if (method !== "GET" && method !== "HEAD") {
        const read = await readBody(req, maxBody);
        if (read === "too-large") {
          res.writeHead(413, { "content-type": "application/json", connection: "close" });
          res.end(JSON.stringify({ error: "Request body too large" }));
          return;
        }
        body = read;
      }
      const request = new Request(url, { method, headers, ...(body ? { body } : {}) });
      const response = await options.handler(request, { peerIp: req.socket.remoteAddress });
      const outHeaders: Record<string, string | string[]> = {};
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie") outHeaders[name] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length > 0) outHeaders["set-cookie"] = cookies;
      if (draining) outHeaders.connection = "close";
      const payload = Buffer.from(await response.arrayBuffer());
      outHeaders["content-length"] = String(payload.length);
      res.writeHead(response.status, outHeaders);
      res.end(payload);
    } catch (error) {
      options.onError?.(error);
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: "Internal server error" }));
    } finally {
      active -= 1;
      if (active === 0) idle?.();
    }
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res);
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    inFlight: () => active,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        draining = true;
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (active > 0) {
          await Promise.race([
            new Promise<void>((resolve) => (idle = resolve)),
            new Promise<void>((resolve) => setTimeout(resolve, graceMs).unref()),
          ]);
        }
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
}
