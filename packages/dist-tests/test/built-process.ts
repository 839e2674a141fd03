import { spawn } from "node:child_process";

/** A built server (the API, a bin) started as its own process on plain Node. */
export interface BuiltProcess {
  /** Base URL, the first group of the `ready` pattern in its output. */
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
 * Starts `node <args>` in `cwd` with exactly `env` (nothing of the test process leaks in: no
 * NODE_OPTIONS, no loader) and waits for a line of its standard output to match `ready`, whose
 * first group is the server's URL (the API prints `HOTPATH_API_READY <url>`).
 * @throws Error with the output when it exits first or is not ready within `timeoutMs`.
 */
export async function startBuiltProcess(options: {
  node: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  ready: RegExp;
  timeoutMs?: number;
}): Promise<BuiltProcess> {
  const name = options.args.join(" ");
  const child = spawn(options.node, options.args, {
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
      const match = options.ready.exec(output);
      if (match?.[1]) resolve(match[1]);
    });
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.once("error", reject);
    void exited.then((code) =>
      reject(new Error(`node ${name} exited with ${String(code)} before it was ready:\n${output}`)),
    );
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  let url: string;
  try {
    url = await within(
      ready,
      timeoutMs,
      () => `node ${name} was not ready within ${timeoutMs} ms:\n${output}`,
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
          () => `node ${name} did not exit within ${stopTimeoutMs} ms of SIGTERM:\n${output}`,
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
