/**
 * `pnpm dev`: the whole stack on one machine, no account needed.
 * 1. Redis: REDIS_URL if set, else 127.0.0.1:6379 if it answers, else a redis-server started on a
 *    free port (installed with apt-get first when missing and running as root).
 * 2. The Upstash-compatible gateway in front of it (the API talks REST to it, as to Upstash in
 *    production; HOTPATH_DEV_TRANSPORT=tcp makes the API use TCP instead).
 *    Beside it, the local QStash server (packages/qstash-server) on 8181, printing QSTASH_URL,
 *    the token and the signing keys.
 * 3. The API (apps/api) and 4. the dashboard (apps/dashboard, Vite, /trpc proxied to the API).
 * Prints the URLs; Ctrl-C stops everything it started.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { startGateway } from "@hotpath/gateway";
import { DEV_CREDENTIALS, startQStashServer } from "@hotpath/qstash-server";
import { freePort, redisAnswers, startRedisServer, type RedisServerHandle } from "@hotpath/testing";

const root = join(import.meta.dirname, "..");
const env = process.env;
const children: ChildProcess[] = [];
let redisServer: RedisServerHandle | undefined;

async function portOr(preferred: number): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => void freePort().then(resolve));
    probe.listen(preferred, "127.0.0.1", () => probe.close(() => resolve(preferred)));
  });
}

async function resolveRedis(): Promise<string> {
  if (env.REDIS_URL) return env.REDIS_URL;
  if (await redisAnswers("127.0.0.1", 6379)) return "redis://127.0.0.1:6379";
  const tools = spawnSync("tsx", [join(root, "scripts/ensure-tools.ts")], { stdio: "inherit" });
  if (tools.status !== 0)
    throw new Error("redis-server is needed: install it and run pnpm dev again");
  redisServer = await startRedisServer();
  return redisServer.url;
}

function start(name: string, args: string[], extraEnv: Record<string, string>): void {
  const child = spawn("pnpm", args, { cwd: root, stdio: "inherit", env: { ...env, ...extraEnv } });
  child.on("exit", (code, signal) => {
    if (!stopping) {
      process.stderr.write(
        `[dev] ${name} exited (${signal ?? String(code)}); stopping the stack\n`,
      );
      void stop(1);
    }
  });
  children.push(child);
}

/**
 * The local QStash server (BullMQ on the same Redis, dev token and keys), unless QSTASH_URL already
 * points somewhere. Its URL and credentials go into the environment of the processes started below.
 */
async function startLocalQStash(redisUrl: string): Promise<void> {
  if (env.QSTASH_URL) return;
  const qstash = await startQStashServer({
    redisUrl,
    port: await portOr(Number(env.QSTASH_PORT ?? 8181)),
  });
  Object.assign(env, {
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: DEV_CREDENTIALS.token,
    QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
  });
  process.stdout.write(
    `QStash     QSTASH_URL=${qstash.url} QSTASH_TOKEN=${DEV_CREDENTIALS.token}\n` +
      `           QSTASH_CURRENT_SIGNING_KEY=${DEV_CREDENTIALS.currentSigningKey} QSTASH_NEXT_SIGNING_KEY=${DEV_CREDENTIALS.nextSigningKey}\n`,
  );
}

let stopping = false;
async function stop(code = 0): Promise<never> {
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  await gateway?.close().catch(() => undefined);
  await redisServer?.stop().catch(() => undefined);
  process.exit(code);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());

const redisUrl = await resolveRedis();
const gatewayPort = await portOr(Number(env.GATEWAY_PORT ?? 8079));
const gateway = await startGateway({ redisUrl, port: gatewayPort });
await startLocalQStash(redisUrl);
const apiPort = await portOr(Number(env.PORT ?? 3000));
const dashboardPort = await portOr(Number(env.DASHBOARD_PORT ?? 5173));
const adminToken = env.ADMIN_TOKEN ?? "hotpath-dev-admin-token";
const apiRedisEnv: Record<string, string> =
  env.HOTPATH_DEV_TRANSPORT === "tcp"
    ? { REDIS_URL: redisUrl }
    : { UPSTASH_REDIS_REST_URL: gateway.url, UPSTASH_REDIS_REST_TOKEN: gateway.token };

start("api", ["--filter", "@hotpath/api", "dev"], {
  ...apiRedisEnv,
  PORT: String(apiPort),
  ADMIN_TOKEN: adminToken,
  NODE_ENV: "development",
  // Where the local QStash server delivers the API's jobs (POST /jobs/qstash).
  PUBLIC_BASE_URL: env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${apiPort}`,
});
start(
  "dashboard",
  ["--filter", "@hotpath/dashboard", "dev", "--port", String(dashboardPort), "--strictPort"],
  {
    HOTPATH_API_URL: `http://127.0.0.1:${apiPort}`,
  },
);

process.stdout.write(`
Hotpath is up:
  Redis      ${redisUrl}${redisServer ? " (started for this session)" : ""}
  Gateway    ${gateway.url}  (token ${gateway.token})
  API        http://127.0.0.1:${apiPort}/trpc  (health: /healthz, metrics: /metrics)
  Dashboard  http://127.0.0.1:${dashboardPort}/dashboard/  (admin token: ${adminToken})
Run \`pnpm demo:traffic\` in another terminal to give the dashboard something to show.
`);
