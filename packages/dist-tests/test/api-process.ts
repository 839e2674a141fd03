import { spawn } from "node:child_process";

/** A built API started as its own process on plain Node. */
export interface BuiltApi {
  /** Base URL from the API's `HOTPATH_API_READY <url>` line. */
  readonly url: string;
  /** Output so far (stdout + stderr), for failure messages. */
  output(): string;
  /** SIGTERM (graceful drain) and wait for the exit; resolves the exit code. */
  stop(timeoutMs?: number): Promise<number | null>;
}

/** Rejects with the process output when `promise` takes longer than `timeoutMs`. */
function within<T>(promise: Promise<T>, timeoutMs: number, what: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(what())), timeoutMs);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * Starts `node <entry>` in `cwd` with exactly `env` (nothing of the test process leaks in: no
 * NODE_OPTIONS, no loader) and waits for its `HOTPATH_API_READY <url>` line.
 * @throws Error with the output when it exits first or is not ready within `timeoutMs`.
 */
export async function startBuiltApi(options: {
  node: string;
  entry: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs?: number;
}): Promise<BuiltApi> {
  const child = spawn(options.node, [options.entry], {
    cwd: options.cwd,
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString();
      const match = /HOTPATH_API_READY (\S+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    void exited.then((code) =>
      reject(new Error(`the API exited with ${String(code)} before it was ready:\n${output}`)),
    );
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let url: string;
  try {
    url = await within(
      ready,
      timeoutMs,
      () => `the API was not ready within ${timeoutMs} ms:\n${output}`,
    );
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    url,
    output: () => output,
    async stop(stopTimeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill("SIGTERM");
      try {
        return await within(
          exited,
          stopTimeoutMs,
          () => `the API did not exit within ${stopTimeoutMs} ms of SIGTERM:\n${output}`,
        );
      } catch (error) {
        child.kill("SIGKILL");
        throw error;
      }
    },
  };
}

/**
 * Calls `probe` until it resolves true or `timeoutMs` passes (errors count as "not yet"), pausing
 * `intervalMs` between attempts.
 * @throws Error naming `what` and the last failure at the deadline.
 */
export async function pollUntil(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() >= deadline)
      throw new Error(`${what} not reached within ${timeoutMs} ms`, { cause: last });
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
