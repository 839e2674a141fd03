import { spawn, type ChildProcess } from "node:child_process";
import { Socket } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "./ports.ts";

/** True when something answers PING at host:port within the timeout. */
export async function redisAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    // A peer that accepts and closes without answering (a refusing proxy) is not a Redis.
    socket.once("close", () => done(false));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
    socket.connect(port, host, () => socket.write("PING\r\n"));
  });
}

/** A redis-server this process started on its own port (for fault tests and fresh machines). */
export interface RedisServerHandle {
  readonly port: number;
  readonly url: string;
  /** pid of the running server (undefined while stopped). */
  readonly pid: number | undefined;
  /** Stops the server by its own pid (SIGKILL with `{ hard: true }`), waits for it to exit. */
  stop(options?: { hard?: boolean }): Promise<void>;
  /** Starts it again on the same port (after {@link stop}). */
  start(): Promise<void>;
}

/** Options of {@link startRedisServer}. */
export interface StartRedisServerOptions {
  /** @default a free port */
  port?: number;
  /** @default "redis-server" */
  binary?: string;
  /** Further server arguments (e.g. `--cluster-enabled yes`). */
  args?: readonly string[];
  /** Working directory of the server (where relative `--dir`/config files land). */
  cwd?: string;
}

/**
 * Starts `redis-server` on a free port (no persistence) and waits until it answers.
 * @throws Error if redis-server is not installed or does not come up within 10 s.
 */
export async function startRedisServer(
  options: StartRedisServerOptions = {},
): Promise<RedisServerHandle> {
  const port = options.port ?? (await freePort());
  const binary = options.binary ?? "redis-server";
  let child: ChildProcess | undefined;

  const start = async () => {
    const proc = spawn(
      binary,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--loglevel",
        "warning",
        ...(options.args ?? []),
      ],
      {
        stdio: "ignore",
        ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      },
    );
    child = proc;
    const failed = new Promise<never>((_, reject) => {
      proc.once("error", (error) =>
        reject(new Error(`Cannot start ${binary}: ${error.message}`, { cause: error })),
      );
      proc.once("exit", (code) =>
        reject(new Error(`${binary} exited with code ${String(code)} before answering`)),
      );
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    while (!(await redisAnswers("127.0.0.1", port, 200))) {
      await Promise.race([sleep(50), failed]);
      if (Date.now() > deadline)
        throw new Error(`${binary} did not answer on port ${port} within 10 s`);
    }
  };

  const stop = async ({ hard = false } = {}) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
    proc.kill(hard ? "SIGKILL" : "SIGTERM");
    await exited;
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    stop,
    start,
  };
}
