import { cp, lstat, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deletePrefix, openTestRedis, testTargets, uniquePrefix } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CURRENT_NODE_MAJOR, nodeOfMajor, SECOND_NODE_MAJOR } from "./node-major.ts";
import { libraryPackages, packPackage, runTool } from "./packages.ts";

/** What fixtures/consumer/use.mjs prints. */
interface ConsumerReport {
  cache: { first: string; second: string; value: unknown; loads: number };
  decisions: { success: boolean; headers: Record<string, string> }[];
  idempotency: {
    first: { value: unknown; replayed: boolean };
    second: { value: unknown; replayed: boolean };
    runs: number;
  };
}

const FIXTURE = join(import.meta.dirname, "..", "fixtures", "consumer");
const CONSUMED = ["@hotpath/config", "@hotpath/redis", "@hotpath/cache", "@hotpath/ratelimit"];
const versionOf = (name: string) =>
  (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;

describe("a consumer outside the workspace (plain npm install of the packed tarballs)", () => {
  let project: string;
  const apps: string[] = [];

  beforeAll(async () => {
    project = await mkdtemp(join(tmpdir(), "hotpath-consumer-"));
    await mkdir(join(project, "tarballs"));
    const dependencies: Record<string, string> = {};
    for (const pkg of libraryPackages().filter(({ name }) => CONSUMED.includes(name)))
      dependencies[pkg.name] = `file:${await packPackage(pkg, join(project, "tarballs"))}`;
    expect(Object.keys(dependencies).sort()).toEqual([...CONSUMED].sort());
    await writeFile(
      join(project, "package.json"),
      JSON.stringify({
        name: "hotpath-consumer",
        private: true,
        type: "module",
        dependencies,
        devDependencies: {
          typescript: versionOf("typescript"),
          "@types/node": versionOf("@types/node"),
        },
      }),
    );
    await writeFile(
      join(project, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2023",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          types: ["node"],
        },
        files: ["typed.ts"],
      }),
    );
    await cp(FIXTURE, project, { recursive: true });
    await runTool("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], {
      cwd: project,
      timeoutMs: 600_000,
    });
  });

  afterAll(async () => {
    if (apps.length > 0) {
      const redis = openTestRedis("tcp");
      try {
        for (const app of apps) await deletePrefix(redis, `${app}:`);
      } finally {
        await redis.close();
      }
    }
    if (project) await rm(project, { recursive: true, force: true });
  });

  it("installs real copies (no workspace links) and no TypeScript loader", async () => {
    for (const name of CONSUMED) {
      const installed = await lstat(join(project, "node_modules", name));
      expect(installed.isSymbolicLink(), name).toBe(false);
    }
    await expect(lstat(join(project, "node_modules", "tsx"))).rejects.toThrow(/ENOENT/);
  });

  // The machine's Node over both transports, and the second supported major over TCP.
  const runs: [transport: "tcp" | "rest", runtime: string, node: () => Promise<string>][] = [
    ["tcp", `Node ${CURRENT_NODE_MAJOR}`, () => Promise.resolve(process.execPath)],
    ["rest", `Node ${CURRENT_NODE_MAJOR}`, () => Promise.resolve(process.execPath)],
    ["tcp", `Node ${SECOND_NODE_MAJOR}`, () => nodeOfMajor(SECOND_NODE_MAJOR)],
  ];

  it.each(runs)(
    "runs the plain-JavaScript script over %s on %s: cache miss then hit, a 429 with headers, an idempotent replay",
    async (transport, _, nodeBinary) => {
      const node = await nodeBinary();
      const { redisUrl, gatewayUrl, gatewayToken } = testTargets();
      const app = uniquePrefix(`consumer-${transport}`);
      apps.push(app);
      const args = transport === "tcp" ? [redisUrl, "", app] : [gatewayUrl, gatewayToken, app];
      const output = await runTool(node, ["use.mjs", ...args], {
        cwd: project,
        timeoutMs: 60_000,
        // Nothing of the workspace leaks in: no NODE_OPTIONS, no loader.
        env: { PATH: process.env.PATH ?? "" },
      });
      const report = JSON.parse(output.trim().split("\n").at(-1) ?? "") as ConsumerReport;

      expect(report.cache).toEqual({
        first: "miss",
        second: "hit",
        value: { name: "Ada" },
        loads: 1,
      });

      expect(report.decisions.map((decision) => decision.success)).toEqual([true, true, false]);
      const blocked = report.decisions[2]?.headers ?? {};
      expect(blocked["X-RateLimit-Limit"]).toBe("2");
      expect(blocked["X-RateLimit-Remaining"]).toBe("0");
      expect(blocked["RateLimit-Policy"]).toBe('"consumer";q=2;w=3600');
      expect(blocked.RateLimit).toMatch(/^"consumer";r=0;t=\d+$/);
      expect(Number(blocked["Retry-After"])).toBeGreaterThan(0);

      expect(report.idempotency).toEqual({
        first: { value: { orderId: "o-1" }, replayed: false },
        second: { value: { orderId: "o-1" }, replayed: true },
        runs: 1,
      });
    },
  );

  it("typechecks a typed consumer with tsc --noEmit against the installed declarations", async () => {
    const output = await runTool(join(project, "node_modules", ".bin", "tsc"), ["-p", "."], {
      cwd: project,
      timeoutMs: 300_000,
    });
    expect(output.trim()).toBe("");
  });
});
