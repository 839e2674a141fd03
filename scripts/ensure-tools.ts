/**
 * Makes sure the system tools the tests and `pnpm dev` need are installed: `redis-server`
 * (fault tests start their own; a fresh machine may have none), with --chromium Debian's Chromium
 * for the dashboard's browser tests, and with --postgres Debian's PostgreSQL server binaries (the
 * test runner starts a throwaway cluster when no server answers). Installs them with apt-get when
 * running as root; otherwise says exactly what to install.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { postgresBinDir } from "./test-postgres.ts";

const wantChromium = process.argv.includes("--chromium");
const wantPostgres = process.argv.includes("--postgres");

function has(binary: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${binary}`], { stdio: "ignore" }).status === 0;
}

function aptInstall(packages: string[]): void {
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (!isRoot || !has("apt-get")) {
    throw new Error(
      `Missing ${packages.join(", ")}: install ${packages.length > 1 ? "them" : "it"} (e.g. sudo apt-get install -y ${packages.join(" ")}) and run again.`,
    );
  }
  process.stderr.write(`[hotpath] installing ${packages.join(", ")} with apt-get…\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  execFileSync("apt-get", ["update", "-qq"], { stdio: ["ignore", "ignore", "inherit"], env });
  execFileSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], {
    stdio: ["ignore", "ignore", "inherit"],
    env,
  });
}

const missing: string[] = [];
if (!has("redis-server")) missing.push("redis-server");
if (wantChromium && !existsSync("/usr/bin/chromium")) missing.push("chromium");
if (wantPostgres && !postgresBinDir()) missing.push("postgresql");
if (missing.length > 0) aptInstall(missing);
