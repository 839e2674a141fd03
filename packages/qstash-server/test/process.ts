import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TS_ENTRY_ARGS } from "@hotpath/testing";

/** A `hotpath-qstash` CLI process started by a test (stopped by its own pid). */
export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Kills the process by its pid and waits for it to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The CLI from source (the bin runs the built dist/cli.js; tests need no build). */
const cli = [...TS_ENTRY_ARGS, fileURLToPath(new URL("../src/cli.ts", import.meta.url))];

/** Runs the CLI with `args` and waits for its "running at <url>" line (20 s at most). */
export async function startServerProcess(args: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new Error(`hotpath-qstash did not start: ${stderr}`)),
      20_000,
    );
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /running at (\S+)/.exec(out);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`hotpath-qstash exited with ${String(code)}: ${stderr}`));
    });
  });
  return {
    url,
    child,
    kill: async (signal = "SIGKILL") => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      process.kill(child.pid as number, signal);
      await exited;
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runCli(
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  return { code, stdout, stderr };
}
