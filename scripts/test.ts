/**
 * `pnpm test`: installs missing system tools (redis-server, Chromium), runs every workspace's
 * tests through turbo, then prints one closing line over all of them: `N passed, M failed`.
 * Extra arguments go to turbo (e.g. `pnpm test --filter @hotpath/cache`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const workspaces = ["apps", "packages"].flatMap((dir) =>
  readdirSync(join(root, dir)).map((name) => join(root, dir, name)),
);
const reportOf = (workspace: string) => join(workspace, ".cache", "vitest-report.json");
for (const workspace of workspaces) rmSync(reportOf(workspace), { force: true });

const run = (command: string, args: string[]) =>
  spawnSync(command, args, {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, HOTPATH_TEST_REPORT: "1" },
  });

const tools = run("tsx", ["scripts/ensure-tools.ts", "--chromium"]);
if (tools.status !== 0) process.exit(tools.status ?? 1);
const turbo = run("turbo", ["run", "test", "--concurrency=1", ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const workspace of workspaces) {
  if (!existsSync(reportOf(workspace))) continue;
  const report = JSON.parse(readFileSync(reportOf(workspace), "utf8")) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
    numTodoTests: number;
  };
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
}
process.stdout.write(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(turbo.status ?? 1);
