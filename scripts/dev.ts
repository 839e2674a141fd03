/**
 * `pnpm dev`: the whole stack on one machine, no account needed.
 * 1. Redis: REDIS_URL if set, else 127.0.0.1:6379 if it answers, else a redis-server started on a
 *    free port (installed with apt-get first when missing and running as root).
 * 2. The Upstash-compatible gateway in front of it (the API talks REST to it, as to Upstash in
 *    production; HOTPATH_DEV_TRANSPORT=tcp makes the API use TCP instead). Beside it, the local
 *    QStash server (packages/qstash-server, port 8181 by default) unless QSTASH_URL is set.
 * 3. The API (apps/api, development mode: `--dev` seeds the demo users and shows stacks) and
 *    4. the dashboard (apps/dashboard, Vite, /trpc proxied to the API).
 * Prints "Hotpath is up" with the URLs once the API answers /readyz and the dashboard answers.
 * Ctrl-C stops in reverse order: the API first (it drains requests and flushes its metrics through
 * the gateway), then the dashboard, the QStash server, the gateway, and a redis-server started here.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { startGateway, type RunningGateway } from "@hotpath/gateway";
import {
  DEV_CREDENTIALS,
  startQStashServer,
  type RunningQStashServer,
} from "@hotpath/qstash-server";
import {
  TS_ENTRY_ARGS,
  freePort,
  redisAnswers,
  startRedisServer,
  type RedisServerHandle,
} from "@hotpath/testing";

const root = join(import.meta.dirname, "..");
const env = process.env;
/** How long the API and the dashboard may take to answer before the start is given up. */
const READY_TIMEOUT_MS = 180_000;
/** How long a child may take to exit on SIGTERM before it is killed. */
const STOP_TIMEOUT_MS = Number(env.SHUTDOWN_GRACE_SECONDS ?? 10) * 1000 + 10_000;

const log = (line: string) => process.stderr.write(`[dev] ${line}\n`);

/** A child process of the stack, in its own process group (Ctrl-C reaches only this script). */
interface StackProcess {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
}

let redisServer: RedisServerHandle | undefined;
let gateway: RunningGateway | undefined;
let qstash: RunningQStashServer | undefined;
let api: StackProcess | undefined;
let dashboard: StackProcess | undefined;
let stopping: Promise<never> | undefined;

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
  const tools = spawnSync(
    "tsx",
    ["--conditions=@hotpath/source", join(root, "scripts/ensure-tools.ts")],
    { stdio: "inherit" },
  );
  if (tools.status !== 0)
    throw new Error("redis-server is needed: install it and run pnpm dev again");
  redisServer = await startRedisServer();
  return redisServer.url;
}

function start(
  name: string,
  command: string,
  args: string[],
  options: { cwd: string; env: Record<string, string> },
): StackProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    stdio: "inherit",
    env: { ...env, ...options.env },
    // Own process group: the terminal's Ctrl-C reaches this script only, which stops the
    // children in order; a group signal also reaches their own children (pnpm -> vite).
    detached: true,
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? (signal ? 128 : null))),
  );
  void exited.then((code) => {
    if (!stopping) {
      log(`${name} exited (${String(code)}); stopping the stack`);
      void stop(1);
    }
  });
  return { name, child, exited };
}

function signalGroup(target: StackProcess, signal: NodeJS.Signals): void {
  try {
    if (target.child.pid !== undefined) process.kill(-target.child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGTERM to the process group, wait for the exit; SIGKILL after {@link STOP_TIMEOUT_MS}. */
async function stopProcess(target: StackProcess | undefined): Promise<void> {
  if (!target || target.child.exitCode !== null || target.child.signalCode !== null) return;
  signalGroup(target, "SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    target.exited,
    new Promise<"timeout">((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS, "timeout"))),
  ]);
  clearTimeout(timer);
  if (code === "timeout") {
    log(`${target.name} did not stop in ${STOP_TIMEOUT_MS} ms: killed`);
    signalGroup(target, "SIGKILL");
    await target.exited;
  }
  log(`${target.name} stopped`);
}

/**
 * Stops the stack in order: API (drain + metrics flush via the gateway), dashboard, QStash server,
 * gateway, Redis.
 */
function stop(code = 0): Promise<never> {
  stopping ??= (async () => {
    await stopProcess(api);
    await stopProcess(dashboard);
    if (qstash) {
      await qstash.close().catch(() => undefined);
      log("QStash server stopped");
    }
    if (gateway) {
      await gateway.close().catch(() => undefined);
      log("gateway stopped");
    }
    if (redisServer) {
      await redisServer.stop().catch(() => undefined);
      log("redis-server stopped");
    }
    process.exit(code);
  })();
  return stopping;
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) log(`${signal}: already stopping`);
    void stop(0);
  });
}

/**
 * The local QStash server (BullMQ on the same Redis, dev token and keys), unless QSTASH_URL already
 * points somewhere. Returns the QStash variables for the API's environment.
 */
async function startLocalQStash(redisUrl: string): Promise<Record<string, string>> {
  if (env.QSTASH_URL) return {};
  qstash = await startQStashServer({
    redisUrl,
    port: await portOr(Number(env.QSTASH_PORT ?? 8181)),
  });
  return {
    QSTASH_URL: qstash.url,
    QSTASH_TOKEN: DEV_CREDENTIALS.token,
    QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
    QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
  };
}

/** Polls `url` until `accept(status)`; throws after the deadline or when `process` exits. */
async function waitForHttp(
  url: string,
  accept: (status: number) => boolean,
  process: StackProcess,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (stopping || process.child.exitCode !== null) throw new Error(`${process.name} exited`);
    const status = await fetch(url, { signal: AbortSignal.timeout(5000) })
      .then((response) => response.status)
      .catch(() => 0);
    if (accept(status)) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer in ${READY_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

try {
  const redisUrl = await resolveRedis();
  const gatewayPort = await portOr(Number(env.GATEWAY_PORT ?? 8079));
  gateway = await startGateway({ redisUrl, port: gatewayPort });
  const qstashEnv = await startLocalQStash(redisUrl);
  const apiPort = await portOr(Number(env.PORT ?? 3000));
  const dashboardPort = await portOr(Number(env.DASHBOARD_PORT ?? 5173));
  const adminToken = env.ADMIN_TOKEN ?? "hotpath-dev-admin-token";
  const apiRedisEnv: Record<string, string> =
    env.HOTPATH_DEV_TRANSPORT === "tcp"
      ? { REDIS_URL: redisUrl }
      : { UPSTASH_REDIS_REST_URL: gateway.url, UPSTASH_REDIS_REST_TOKEN: gateway.token };

  // Node loads tsx as a hook (no tsx CLI in between): the API itself gets SIGTERM and drains.
  api = start("api", process.execPath, [...TS_ENTRY_ARGS, "src/main.ts", "--dev"], {
    cwd: join(root, "apps", "api"),
    env: {
      ...apiRedisEnv,
      ...qstashEnv,
      PORT: String(apiPort),
      ADMIN_TOKEN: adminToken,
      // Where the local QStash server delivers the API's jobs (POST /jobs/qstash).
      PUBLIC_BASE_URL: env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${apiPort}`,
    },
  });
  dashboard = start(
    "dashboard",
    "pnpm",
    ["--filter", "@hotpath/dashboard", "dev", "--port", String(dashboardPort), "--strictPort"],
    { cwd: root, env: { HOTPATH_API_URL: `http://127.0.0.1:${apiPort}` } },
  );

  const apiUrl = `http://127.0.0.1:${apiPort}`;
  const dashboardUrl = `http://127.0.0.1:${dashboardPort}/dashboard/`;
  await Promise.all([
    waitForHttp(`${apiUrl}/readyz`, (status) => status === 200, api),
    waitForHttp(dashboardUrl, (status) => status > 0 && status < 500, dashboard),
  ]);

  process.stdout.write(`
Hotpath is up:
  Redis      ${redisUrl}${redisServer ? " (started for this session)" : ""}
  Gateway    ${gateway.url}  (token ${gateway.token})
${
  qstash
    ? `  QStash     QSTASH_URL=${qstash.url} QSTASH_TOKEN=${DEV_CREDENTIALS.token}
             QSTASH_CURRENT_SIGNING_KEY=${DEV_CREDENTIALS.currentSigningKey}
             QSTASH_NEXT_SIGNING_KEY=${DEV_CREDENTIALS.nextSigningKey}
`
    : ""
}  API        ${apiUrl}/trpc  (health: /healthz, /readyz; metrics: /metrics with the admin token)
  Dashboard  ${dashboardUrl}  (admin token: ${adminToken})
Run \`pnpm demo:traffic\` in another terminal to give the dashboard something to show.
`);
} catch (error) {
  if (!stopping) {
    log(`start failed: ${error instanceof Error ? error.message : String(error)}`);
    await stop(1);
  }
}
