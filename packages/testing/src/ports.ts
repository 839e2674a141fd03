import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1 (asked of the OS). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/**
 * A free port P for a Redis Cluster node whose cluster bus port (P + 10000) is free too: drawn
 * from 20000–49999 so that the bus port stays below the ephemeral range the OS hands out.
 * @throws Error when 200 draws found no free pair.
 */
export async function freeClusterPort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if ((await canListen(port)) && (await canListen(port + 10_000))) return port;
  }
  throw new Error("No free port pair (P, P + 10000) for a cluster node after 200 draws");
}
