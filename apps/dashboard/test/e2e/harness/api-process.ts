import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { TS_ENTRY_ARGS } from "@hotpath/testing";

const apiRoot = join(import.meta.dirname, "..", "..", "..", "..", "api");

/** The API's Node entry (apps/api/src/main.ts) in a child process that the test can stop and start. */
export interface ApiProcess {
  url: string;
  /** SIGTERM to this child's own pid, then waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again with the same environment and port. */
  start(): Promise<void>;
  /** Everything the process printed (for failure messages). */
  output(): string;
}

/**
 * Starts the API on `port` with `env` (on top of PATH/HOME only: no DATABASE_URL or Upstash
 * variables leak in from the shell) and resolves once it prints `HOTPATH_API_READY`.
 */
export async function startApiProcess(options: {
  port: number;
  env: Record<string, string>;
  readyTimeoutMs?: number;
}): Promise<ApiProcess> {
  const url = `http://127.0.0.1:${options.port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "/tmp",
    ...options.env,
    HOST: "127.0.0.1",
    PORT: String(options.port),
  };
  let log = "";
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(process.execPath, [...TS_ENTRY_ARGS, "src/main.ts"], {
      cwd: apiRoot,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child = proc;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Never leave a half-started API behind (it would hold the port and the data dir).
        proc.kill("SIGKILL");
        reject(
          new Error(
            `API not ready after ${options.readyTimeoutMs ?? 90_000} ms:\n${log.slice(-4000)}`,
          ),
        );
      }, options.readyTimeoutMs ?? 90_000);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes(`HOTPATH_API_READY ${url}`)) {
          clearTimeout(timer);
          resolve();
        }
      };
      proc.stdout.on("data", onData);
      proc.stderr.on("data", (chunk: Buffer) => {
        log += chunk.toString();
      });
      proc.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(
          new Error(`API exited before ready (${signal ?? String(code)}):\n${log.slice(-4000)}`),
        );
      });
    });
    await ready;
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, "exit");
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return { url, stop, start, output: () => log };
}

/**
 * The environment the browser tests start the API with: test mode, the seeded demo data (fast
 * password hashing), its own app prefix on the shared Redis and its own data directory.
 */
export function testApiEnv(options: {
  redisUrl: string;
  app: string;
  adminToken: string;
  dataDir: string;
}): Record<string, string> {
  return {
    NODE_ENV: "test",
    REDIS_URL: options.redisUrl,
    HOTPATH_APP: options.app,
    ADMIN_TOKEN: options.adminToken,
    DATA_DIR: options.dataDir,
    SEED: "true",
    LOG_LEVEL: "warn",
    PASSWORD_ITERATIONS: "10000",
  };
}
