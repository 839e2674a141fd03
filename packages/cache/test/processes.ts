import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { TS_ENTRY_ARGS } from "@hotpath/testing";

/** Runs `count` copies of a tsx script with one JSON argument; resolves their last stdout line (parsed). */
export async function runChildren<T>(
  script: string,
  count: number,
  arg: unknown,
  timeoutMs = 60_000,
): Promise<T[]> {
  const children: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  const done: Promise<T>[] = [];
  for (let i = 0; i < count; i += 1) {
    const child = spawn(
      process.execPath,
      [...TS_ENTRY_ARGS, join(import.meta.dirname, script), JSON.stringify(arg)],
      {
        cwd: join(import.meta.dirname, ".."),
        stdio: ["pipe", "pipe", "pipe"],
      },
    );
    children.push(child);
    let out = "";
    let err = "";
    let signalReady: () => void = () => undefined;
    ready.push(new Promise<void>((resolve) => (signalReady = resolve)));
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("ready\n")) signalReady();
    });
    child.stderr?.on("data", (chunk: Buffer) => (err += chunk.toString()));
    done.push(
      new Promise<T>((resolve, reject) => {
        child.once("exit", (code) => {
          const last = out.trim().split("\n").pop() ?? "";
          if (code !== 0) return reject(new Error(`child exited ${code}: ${err.slice(-2000)}`));
          try {
            resolve(JSON.parse(last) as T);
          } catch {
            reject(new Error(`child printed no result: ${out.slice(-500)} ${err.slice(-2000)}`));
          }
        });
      }),
    );
  }
  const timer = setTimeout(
    () => children.forEach((child) => child.pid !== undefined && child.kill("SIGKILL")),
    timeoutMs,
  );
  try {
    await Promise.all(ready.map((p, i) => Promise.race([p, done[i]])));
    for (const child of children) child.stdin?.write("go\n");
    return await Promise.all(done);
  } finally {
    clearTimeout(timer);
  }
}
