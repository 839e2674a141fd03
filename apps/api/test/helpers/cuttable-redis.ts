import { createRedis, type HotpathRedis } from "@hotpath/redis";
import { startRedisServer, startTcpProxy, type TcpProxy } from "@hotpath/testing";

/** A redis-server of the test's own behind a TCP proxy the test cuts and restores. */
export interface CuttableRedis {
  /** A client through the proxy. */
  redis: HotpathRedis;
  proxy: TcpProxy;
  /** Restores the proxy, closes the client and the proxy, stops the server. */
  close(): Promise<void>;
}

/** Starts a {@link CuttableRedis} whose client gives each call `timeoutMs`. */
export async function openCuttableRedis(timeoutMs: number): Promise<CuttableRedis> {
  const server = await startRedisServer();
  const proxy = await startTcpProxy(server.port);
  const redis = createRedis({ url: proxy.url, timeoutMs });
  return {
    redis,
    proxy,
    async close() {
      proxy.restore();
      await redis.close();
      await proxy.close();
      await server.stop();
    },
  };
}
