import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Serves the API's fetch handler on 127.0.0.1 so the local QStash server can deliver to it. */
export async function serveLazily(): Promise<{
  port: number;
  serve(handler: (request: Request) => Promise<Response>): void;
  close(): Promise<void>;
}> {
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const handle = async (incoming: IncomingMessage, outgoing: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(incoming.headers))
      if (typeof value === "string") headers.set(name, value);
    const request = new Request(`http://127.0.0.1:${port}${incoming.url ?? "/"}`, {
      method: incoming.method ?? "GET",
      headers,
      ...(incoming.method === "GET" || incoming.method === "HEAD"
        ? {}
        : { body: Buffer.concat(chunks) }),
    });
    const response = handler ? await handler(request) : new Response("not ready", { status: 503 });
    outgoing.writeHead(response.status, Object.fromEntries(response.headers));
    outgoing.end(await response.text());
  };
  const server = createServer((request, response) => void handle(request, response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    serve: (h) => (handler = h),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
