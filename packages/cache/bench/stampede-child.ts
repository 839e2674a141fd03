/**
 * One process of the stampede benchmark: N concurrent getOrSet misses on one key with one of the
 * libraries; the loader counts its calls with INCR on the bench Redis. Prints "ready", waits for
 * "go" on stdin, prints one JSON line.
 */
import { createRedis } from "@hotpath/redis";
import { createCache } from "../src/index.ts";
import { bentoTiered, cachified, cachifiedRedisAdapter } from "./peers.ts";

interface ChildArgs {
  lib: "hotpath" | "bentocache" | "cachified";
  port: number;
  app: string;
  key: string;
  counterKey: string;
  concurrency: number;
  loaderMs: number;
}

const args = JSON.parse(process.argv[2] ?? "{}") as ChildArgs;
const redis = createRedis({ url: `redis://127.0.0.1:${args.port}`, timeoutMs: 10_000 });
const loader = async () => {
  await redis.incr(args.counterKey);
  await new Promise((resolve) => setTimeout(resolve, args.loaderMs));
  return { value: "loaded" };
};

let run: () => Promise<unknown>;
let close: () => Promise<unknown> = () => Promise.resolve();
if (args.lib === "hotpath") {
  const cache = createCache({
    redis,
    app: args.app,
    namespace: "stampede",
    defaultTtl: 60,
    metrics: false,
    timeoutMs: 10_000,
  });
  run = () => cache.getOrSet(args.key, loader, { lock: { waitMs: 10_000 } });
  close = () => cache.close();
} else if (args.lib === "bentocache") {
  const bento = bentoTiered(args.port, `${args.app}-bento`);
  run = () => bento.getOrSet({ key: args.key, factory: loader, ttl: "1m" });
  close = () => bento.disconnectAll();
} else {
  const cache = cachifiedRedisAdapter(redis, `${args.app}:cachified:`);
  run = () => cachified({ key: args.key, cache, getFreshValue: loader, ttl: 60_000 });
}

await redis.ping();
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
const started = performance.now();
const results = await Promise.allSettled(Array.from({ length: args.concurrency }, () => run()));
const elapsedMs = performance.now() - started;
const ok = results.filter((r) => r.status === "fulfilled").length;
process.stdout.write(`${JSON.stringify({ ok, elapsedMs })}\n`);
await close();
await redis.close();
process.exit(0);
