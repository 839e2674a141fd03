import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TS_ENTRY_ARGS } from "@hotpath/testing";

/** The API's folder (the working directory of an API process). */
export const API_DIR = fileURLToPath(new URL("../..", import.meta.url));

/** Command line of an API process: Node with tsx as a hook (packages from source), running `src/main.ts`. */
export const API_PROCESS_ARGS = [...TS_ENTRY_ARGS, "src/main.ts"];

/** The environment of an API process: PATH, HOME, PORT 0 and warn-level logs, then `env`. */
export function apiProcessEnv(env: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    PORT: "0",
    LOG_LEVEL: "warn",
    ...env,
  };
}

/** An API started as its own process (`node --import tsx src/main.ts`). */
export interface ApiProcess {
  readonly url: string;
  readonly pid: number;
  /** Output so far (stdout + stderr), for failure messages. */
  output(): string;
  /** SIGTERM (graceful) and wait for exit; returns the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Starts `src/main.ts` with `env` (PORT 0) and waits for its `HOTPATH_API_READY <url>` line.
 * Node loads tsx as a hook (no tsx CLI in between), so signals reach the API itself: the tsx CLI
 * relays them and, on a loaded machine, sometimes exits 143 before the API has drained.
 */
export async function startApiProcess(
  env: Record<string, string>,
  timeoutMs = 60_000,
): Promise<ApiProcess> {
  const child: ChildProcess = spawn(process.execPath, API_PROCESS_ARGS, {
    cwd: API_DIR,
    env: apiProcessEnv(env),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`API process did not start in ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const check = () => {
      const match = /HOTPATH_API_READY (\S+)/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`API process exited with ${String(code)} before it was ready:\n${output}`));
    });
  });
  return {
    url,
    pid: child.pid ?? -1,
    output: () => output,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      return exited;
    },
  };
}
