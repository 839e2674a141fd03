/**
 * `pnpm test`: installs missing system tools (redis-server, Chromium, PostgreSQL), makes sure a
 * PostgreSQL answers (scripts/test-postgres.ts), runs EVERY workspace's tests through turbo even
 * when one fails (`--continue`), then prints one closing line over all of them:
 * `Tests: N passed, M failed, K skipped` (and `, E unhandled errors` when vitest caught errors
 * outside any test). Exits non-zero when a test failed, a test file could not run, an error was
 * caught outside any test, or a workspace wrote no report. Extra arguments go to turbo (e.g. `--filter @hotpath/cache`).
 */
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ensureTestPostgres } from "./test-postgres.ts";

const root = join(import.meta.dirname, "..");
const workspaces = ["apps", "packages"].flatMap((dir) =>
  readdirSync(join(root, dir))
    .map((name) => join(root, dir, name))
    .filter((workspace) => hasTestScript(workspace)),
);
const reportOf = (workspace: string) => join(workspace, ".cache", "vitest-report.json");
const errorsOf = (workspace: string) => join(workspace, ".cache", "vitest-errors.json");
for (const workspace of workspaces) {
  rmSync(reportOf(workspace), { force: true });
  rmSync(errorsOf(workspace), { force: true });
}

function hasTestScript(workspace: string): boolean {
  const manifest = join(workspace, "package.json");
  if (!existsSync(manifest)) return false;
  const scripts = (
    JSON.parse(readFileSync(manifest, "utf8")) as { scripts?: Record<string, string> }
  ).scripts;
  return typeof scripts?.test === "string";
}

const tools = spawnSync(
  "tsx",
  ["--conditions=@hotpath/source", "scripts/ensure-tools.ts", "--chromium", "--postgres"],
  {
    cwd: root,
    stdio: "inherit",
  },
);
if (tools.status !== 0) process.exit(tools.status ?? 1);

const postgres = await ensureTestPostgres(process.env, {
  forceOwn: process.env.HOTPATH_TEST_OWN_POSTGRES === "1",
});
process.stderr.write(`[hotpath tests] PostgreSQL: ${postgres.url} (${postgres.source})\n`);
let turbo: ReturnType<typeof spawnSync>;
try {
  turbo = spawnSync(
    "turbo",
    ["run", "test", "--concurrency=1", "--continue", ...process.argv.slice(2)],
    {
      cwd: root,
      stdio: "inherit",
      env: {
        ...process.env,
        TURBO_TELEMETRY_DISABLED: "1",
        HOTPATH_TEST_REPORT: "1",
        // The suites that need PostgreSQL fail (never skip) when it does not answer.
        HOTPATH_TEST_DATABASE_URL: postgres.url,
      },
    },
  );
} finally {
  postgres.stop();
}

/** What vitest.shared.ts's reporter writes next to the JSON report. */
interface UnhandledErrors {
  unhandledErrors: number;
}

interface VitestJsonReport {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  /** One entry per test file. */
  testResults: { status: string; assertionResults: { status: string }[] }[];
}

/** Files that failed without a failing test: did not load, or a hook (beforeAll/afterAll) threw. */
function brokenFilesOf(report: VitestJsonReport): number {
  return report.testResults.filter(
    (file) =>
      file.status === "failed" && !file.assertionResults.some((test) => test.status === "failed"),
  ).length;
}

const filter = process.argv.slice(2).join(" ");
let passed = 0;
let failed = 0;
let skipped = 0;
let brokenFiles = 0;
let unhandledErrors = 0;
const unhandled: string[] = [];
const missing: string[] = [];
for (const workspace of workspaces) {
  if (!existsSync(reportOf(workspace))) {
    missing.push(workspace.slice(root.length + 1));
    continue;
  }
  const report = JSON.parse(readFileSync(reportOf(workspace), "utf8")) as VitestJsonReport;
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + report.numTodoTests;
  brokenFiles += brokenFilesOf(report);
  if (existsSync(errorsOf(workspace))) {
    const count = (JSON.parse(readFileSync(errorsOf(workspace), "utf8")) as UnhandledErrors)
      .unhandledErrors;
    if (count > 0) unhandled.push(`${workspace.slice(root.length + 1)}: ${count}`);
    unhandledErrors += count;
  }
}
// With a turbo filter some workspaces do not run: only a full run must have every report.
const unreported = filter.includes("--filter") ? [] : missing;
if (unreported.length > 0)
  process.stderr.write(`[hotpath tests] no test report from: ${unreported.join(", ")}\n`);
if (brokenFiles > 0)
  process.stderr.write(
    `[hotpath tests] ${brokenFiles} test file(s) failed outside their tests (load error or hook)\n`,
  );
if (unhandledErrors > 0)
  process.stderr.write(
    `[hotpath tests] errors outside any test (unhandled rejection, error in a timer), which fail the run: ${unhandled.join(", ")}\n`,
  );
const errorsPart = unhandledErrors > 0 ? `, ${unhandledErrors} unhandled errors` : "";
process.stdout.write(
  `\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped${errorsPart}\n`,
);
const ok =
  turbo.status === 0 &&
  failed === 0 &&
  brokenFiles === 0 &&
  unhandledErrors === 0 &&
  unreported.length === 0;
process.exit(ok ? 0 : 1);
