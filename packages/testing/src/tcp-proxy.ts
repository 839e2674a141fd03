import { createServer, Socket, type Server } from "node:net";

/** A TCP proxy a test controls: add latency, cut every connection, refuse new ones. */
export interface TcpProxy {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Bytes received from clients so far (a test can wait until a request reached the proxy). */
  readonly bytesFromClients: number;
  /** Delays every chunk in both directions by `ms`. */
  setLatency(ms: number): void;
  /** Destroys open connections and refuses new ones until {@link restore}. */
  cut(): void;
  /** Accepts connections again (and stops dropping replies). */
  restore(): void;
  /**
   * Drops the connection instead of forwarding the server's next `count` answers (each chunk
   * from the server counts once): the request reached the server, its reply never arrives.
   */
  dropReplies(count?: number): void;
  close(): Promise<void>;
}

/** Starts a TCP proxy on a free loopback port in front of `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let latencyMs = 0;
  let refusing = false;
  let repliesToDrop = 0;
  let bytesFromClients = 0;
  const sockets = new Set<Socket>();
  // Bytes keep their order even when the latency changes: each direction is one FIFO queue whose
  // chunks are written when due (a chunk is never due before the one ahead of it).
  const forward = (from: Socket, to: Socket, isReply: boolean) => {
    const queue: { chunk: Buffer; due: number }[] = [];
    let timer: NodeJS.Timeout | undefined;
    const flush = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && (queue[0]?.due ?? 0) <= now) {
        const next = queue.shift();
        if (next && !to.destroyed) to.write(next.chunk);
      }
      const head = queue[0];
      if (head) timer = setTimeout(flush, head.due - now);
    };
    from.on("data", (chunk: Buffer) => {
      if (!isReply) bytesFromClients += chunk.length;
      if (isReply && repliesToDrop > 0) {
        repliesToDrop -= 1;
        from.destroy();
        to.destroy();
        return;
      }
      const last = queue.at(-1);
      if (latencyMs <= 0 && !last) {
        to.write(chunk);
        return;
      }
      queue.push({ chunk, due: Math.max(Date.now() + latencyMs, last?.due ?? 0) });
      timer ??= setTimeout(flush, Math.max(0, (queue[0]?.due ?? 0) - Date.now()));
    });
    from.on("close", () => {
      if (timer) clearTimeout(timer);
      queue.length = 0;
    });
  };
  const server: Server = createServer((client) => {
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = new Socket();
    sockets.add(client).add(upstream);
    const closeBoth = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on("error", closeBoth).on("close", closeBoth);
    upstream.on("error", closeBoth).on("close", closeBoth);
    upstream.connect(targetPort, "127.0.0.1");
    forward(client, upstream, false);
    forward(upstream, client, true);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get bytesFromClients() {
      return bytesFromClients;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    cut() {
      refusing = true;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    restore() {
      refusing = false;
      repliesToDrop = 0;
    },
    dropReplies(count = Number.POSITIVE_INFINITY) {
      repliesToDrop = count;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
