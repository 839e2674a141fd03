/**
 * The PostgreSQL `pnpm test` gives the suites that need one (apps/api's server tests): the one
 * named by HOTPATH_TEST_DATABASE_URL, else the server on 127.0.0.1:5432 when it answers, else a
 * throwaway cluster started here (Debian's `postgresql` binaries, installed by ensure-tools when
 * missing) on a free port, trust auth, database `test`, stopped and deleted afterwards.
 */
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "@hotpath/testing";

/** The PostgreSQL of one test run. */
export interface TestPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/test`. */
  url: string;
  /** How it was found: given, already running, or started for this run. */
  source: "env" | "running" | "started";
  /** Stops and deletes a cluster started for this run (no-op otherwise). */
  stop(): void;
}

const DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/test";

/** True when something accepts TCP connections at host:port. */
export async function tcpAnswers(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("error", () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/** The newest Debian PostgreSQL bin folder (`/usr/lib/postgresql/<major>/bin`), if installed. */
export function postgresBinDir(): string | undefined {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root)
    .filter((name) => existsSync(join(root, name, "bin", "initdb")))
    .sort((a, b) => Number(b) - Number(a));
  return majors[0] ? join(root, majors[0], "bin") : undefined;
}

/** PostgreSQL refuses to run as root: as root, its tools run as the `postgres` system user. */
function runAsPostgres(binary: string, args: string[]): void {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const [command, commandArgs] = isRoot
    ? ["runuser", ["-u", "postgres", "--", binary, ...args]]
    : [binary, args];
  execFileSync(command, commandArgs, { stdio: ["ignore", "ignore", "inherit"] });
}

function postgresUid(): { uid: number; gid: number } | undefined {
  try {
    const id = (flag: string) =>
      Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
    return { uid: id("-u"), gid: id("-g") };
  } catch {
    return undefined;
  }
}

/**
 * Finds or starts the PostgreSQL of a test run. `forceOwn` starts a cluster even when one runs
 * on 5432 (to check this path on a machine that has one).
 * @throws when none runs and the PostgreSQL binaries are missing (ensure-tools installs them).
 */
export async function ensureTestPostgres(
  env: Record<string, string | undefined>,
  options: { forceOwn?: boolean } = {},
): Promise<TestPostgres> {
  if (env.HOTPATH_TEST_DATABASE_URL) {
    return { url: env.HOTPATH_TEST_DATABASE_URL, source: "env", stop: () => undefined };
  }
  if (!options.forceOwn && (await tcpAnswers("127.0.0.1", 5432))) {
    return { url: DEFAULT_URL, source: "running", stop: () => undefined };
  }
  const bin = postgresBinDir();
  if (!bin) throw new Error("PostgreSQL is not installed (ensure-tools --postgres installs it)");
  const dir = mkdtempSync(join(tmpdir(), "hotpath-pg-"));
  const owner = typeof process.getuid === "function" && process.getuid() === 0 && postgresUid();
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const dataDir = join(dir, "data");
  const port = await freePort();
  const stop = () => {
    try {
      runAsPostgres(join(bin, "pg_ctl"), ["-D", dataDir, "-m", "fast", "-w", "stop"]);
    } catch {
      // Already stopped.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    runAsPostgres(join(bin, "initdb"), [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
    ]);
    runAsPostgres(join(bin, "pg_ctl"), [
      "-D",
      dataDir,
      "-l",
      join(dir, "server.log"),
      "-o",
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`,
      "-w",
      "start",
    ]);
    runAsPostgres(join(bin, "createdb"), [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      "postgres",
      "test",
    ]);
  } catch (error) {
    stop();
    throw error;
  }
  return { url: `postgres://postgres@127.0.0.1:${port}/test`, source: "started", stop };
}
