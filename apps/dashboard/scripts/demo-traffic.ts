/**
 * `pnpm --filter @hotpath/dashboard demo:traffic [--url http://127.0.0.1:3000] [--seconds 60] [--max-requests 3000]`
 * Drives bounded demo load against a local API (loopback only) and prints a summary.
 */
import { parseArgs } from "node:util";
import { runTraffic } from "./traffic.ts";

// `pnpm demo:traffic -- --seconds 30` passes the `--` through: drop it.
const argv = process.argv.slice(2);
const { values } = parseArgs({
  args: argv[0] === "--" ? argv.slice(1) : argv,
  options: {
    url: { type: "string", default: process.env.HOTPATH_API_URL ?? "http://127.0.0.1:3000" },
    seconds: { type: "string", default: "60" },
    "max-requests": { type: "string", default: "3000" },
  },
});

const seconds = Number(values.seconds);
const maxRequests = Number(values["max-requests"]);
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600)
  throw new Error("--seconds must be between 1 and 600");
if (!Number.isInteger(maxRequests) || maxRequests <= 0 || maxRequests > 50_000) {
  throw new Error("--max-requests must be a whole number between 1 and 50000");
}

const controller = new AbortController();
process.on("SIGINT", () => controller.abort());
const report = await runTraffic({
  apiUrl: values.url,
  durationMs: seconds * 1000,
  maxRequests,
  signal: controller.signal,
  log: (line) => process.stderr.write(`${line}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
