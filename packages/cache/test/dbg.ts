import { createRedis } from "@hotpath/redis";
import { createCache } from "../src/index.ts";
import { createWire, defineScript } from "../src/wire.ts";
import { READ_SCRIPT } from "../src/scripts.ts";
const redis = createRedis({ url: "redis://127.0.0.1:6379" });
const wire = createWire(redis, 1000);
await redis.set("dbgy:plain", JSON.stringify({ a: 1, b: "two" }));
const c = createCache({ redis, app: "dbgy", namespace: "rt", defaultTtl: 600, metrics: false });
await c.getOrSet("a", () => ({ a: 1, b: "two" }));
const GETS = defineScript("return redis.call('GET', KEYS[1])");
const fns: Record<string, () => Promise<unknown>> = {
  "redis.get": () => redis.get("dbgy:plain"),
  "wire GET": () => wire.command(["GET", "dbgy:plain"]),
  "wire script GET": () => wire.script(GETS, ["dbgy:plain"], []),
  "wire READ script": () => wire.script(READ_SCRIPT, ["dbgy:cache:rt:v:a", "dbgy:lock:cache:rt:a", "dbgy:cache:rt:g"], [Date.now(), 10000, "x:1", "1", "0"]),
  "cache.getOrSet": () => c.getOrSet("a", () => 1),
  "cache.get": () => c.get("a"),
};
const results: Record<string, number[]> = {};
for (let r = 0; r < 15; r++) for (const [name, fn] of Object.entries(fns)) {
  const s = performance.now(); for (let i = 0; i < 1000; i++) await fn(); (results[name] ??= []).push((performance.now() - s));
}
for (const [name, v] of Object.entries(results)) { v.sort((a, b) => a - b); console.log(name.padEnd(20), v[0]!.toFixed(1), v[7]!.toFixed(1), "µs (min, median)"); }
await redis.del("dbgy:plain", "dbgy:cache:rt:v:a");
await redis.close();
