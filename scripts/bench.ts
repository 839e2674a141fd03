/**
 * `pnpm bench`: runs every workspace's `bench/index.ts` one after the other (each prints one
 * markdown section on stdout) and writes docs/benchmarks.md with the machine and versions.
 * `pnpm bench cache ratelimit` runs only those and prints the report instead of writing it.
 * Benchmarks are not tests: they measure, they do not assert.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const order = [
  "packages/redis-contract",
  "packages/gateway",
  "packages/qstash-server",
  "packages/cache",
  "packages/ratelimit",
  "apps/api",
];
const only = process.argv.slice(2);

function version(pkg: string): string {
  try {
    const catalog = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8");
    const match = new RegExp(`^\\s+"?${pkg.replace(/[/@.-]/g, "\\$&")}"?:\\s*(\\S+)`, "m").exec(
      catalog,
    );
    return match?.[1] ?? "?";
  } catch {
    return "?";
  }
}

function redisVersion(): string {
  try {
    return execFileSync("redis-server", ["--version"], { encoding: "utf8" }).trim();
  } catch {
    return "redis-server not installed";
  }
}

const sections: string[] = [];
for (const workspace of order) {
  if (only.length > 0 && !only.some((name) => workspace.endsWith(name))) continue;
  const entry = join(root, workspace, "bench", "index.ts");
  if (!existsSync(entry)) continue;
  process.stderr.write(`\n[bench] ${workspace}\n`);
  const result = spawnSync("tsx", ["--conditions=@hotpath/source", entry], {
    cwd: join(root, workspace),
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 10 * 60_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (result.status !== 0) {
    sections.push(
      `## ${workspace}\n\nThe benchmark failed (exit ${String(result.status)}); see the run's output.\n`,
    );
    continue;
  }
  sections.push(result.stdout.trim() + "\n");
}

const cpu = cpus();
const header = `# Benchmarks

Written by \`pnpm bench\` on ${new Date().toISOString()}. Every ratio compares figures measured in the
same run, on the same machine and the same local Redis. Absolute numbers are noisy; read the ratios.

| machine | value |
|---|---|
| CPU | ${cpu[0]?.model ?? "?"} × ${cpu.length} |
| memory | ${(totalmem() / 2 ** 30).toFixed(0)} GiB |
| Node | ${process.version} |
| Redis | ${redisVersion()} |
| @upstash/redis / @upstash/ratelimit | ${version("@upstash/redis")} / ${version("@upstash/ratelimit")} |
| ioredis | ${version("ioredis")} |
| bentocache / @epic-web/cachified / rate-limiter-flexible | ${version("bentocache")} / ${version("@epic-web/cachified")} / ${version("rate-limiter-flexible")} |
| @trpc/server / autocannon | ${version("@trpc/server")} / ${version("autocannon")} |
| @upstash/qstash / bullmq / jose | ${version("@upstash/qstash")} / ${version("bullmq")} / ${version("jose")} |
`;

if (only.length > 0) {
  // A partial run prints its sections instead of replacing the full report.
  process.stdout.write(`${header}\n${sections.join("\n")}`);
} else {
  mkdirSync(join(root, "docs"), { recursive: true });
  const target = join(root, "docs", "benchmarks.md");
  writeFileSync(target, `${header}\n${sections.join("\n")}`);
  process.stderr.write(`\n[bench] wrote ${target}\n`);
}
