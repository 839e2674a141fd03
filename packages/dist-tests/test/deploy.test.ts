import { existsSync } from "node:fs";
import { cp, mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deletePrefix, openTestRedis, testTargets, uniquePrefix } from "@hotpath/testing";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pollUntil, startBuiltProcess, type BuiltProcess } from "./built-process.ts";
import { deployPackage, devToolsIn, installedNames } from "./deployed.ts";
import { nodeOfMajor, SECOND_NODE_MAJOR } from "./node-major.ts";
import { ROOT } from "./packages.ts";

/** The PostgreSQL the tests use (trust auth, database `test`); `pnpm test` makes sure one runs. */
const TEST_POSTGRES_URL =
  process.env.HOTPATH_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

describe("the API deployed without dev tools (pnpm deploy --prod, then plain node)", () => {
  let work: string;
  let deployed: string;
  const apps: string[] = [];
  const schemas: string[] = [];

  beforeAll(async () => {
    const dashboard = join(ROOT, "apps", "dashboard", "dist", "index.html");
    for (const built of [join(ROOT, "apps", "api", "dist", "main.js"), dashboard])
      if (!existsSync(built)) throw new Error(`${built} is missing: run \`pnpm build\` first`);
    work = await mkdtemp(join(tmpdir(), "hotpath-deploy-"));
    deployed = join(work, "api");
    const { seconds, bytes } = await deployPackage("@hotpath/api", deployed);
    console.info(
      `pnpm deploy --prod of @hotpath/api: ${seconds.toFixed(1)} s, ${(bytes / 1e6).toFixed(1)} MB`,
    );
    // The dashboard the API serves at /dashboard/ travels next to it (DASHBOARD_DIR).
    await cp(join(ROOT, "apps", "dashboard", "dist"), join(deployed, "dashboard"), {
      recursive: true,
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
    if (schemas.length > 0) {
      const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
      await client.connect();
      try {
        for (const schema of schemas) await client.query(`drop schema if exists ${schema} cascade`);
      } finally {
        await client.end();
      }
    }
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("holds the built JavaScript and production dependencies only, as copies", async () => {
    expect(existsSync(join(deployed, "dist", "main.js"))).toBe(true);
    expect(existsSync(join(deployed, "src"))).toBe(false);
    const { linked } = await installedNames(deployed);
    expect(linked).toEqual(expect.arrayContaining(["@hotpath/cache", "@trpc/server", "pg"]));
    expect(await devToolsIn(deployed, ["@hotpath/qstash-server"])).toEqual([]);
    // Our libraries are copied in (their dist/), not linked back into the workspace.
    const cache = await realpath(join(deployed, "node_modules", "@hotpath", "cache"));
    expect(cache.startsWith(await realpath(deployed))).toBe(true);
    expect(existsSync(join(cache, "dist", "index.js"))).toBe(true);
  });

  /** One run of the deployed API: which Node, and which database it opens. */
  interface Runtime {
    node: () => Promise<string>;
    /** Extra environment: a PostgreSQL schema of its own, or nothing (PGlite under DATA_DIR). */
    database: (app: string) => Record<string, string>;
    kind: "pglite" | "postgres";
  }
  const runtimes: [string, Runtime][] = [
    [
      `the machine's Node (${process.version}) on PGlite`,
      {
        node: () => Promise.resolve(process.execPath),
        database: (app) => ({ DATA_DIR: join(work, `data-${app}`) }),
        kind: "pglite",
      },
    ],
    [
      `Node ${SECOND_NODE_MAJOR} (npm's node package) on PostgreSQL`,
      {
        node: () => nodeOfMajor(SECOND_NODE_MAJOR),
        database: (app) => {
          const schema = `deploy_${app.replace(/[^a-z0-9]/g, "_")}`;
          schemas.push(schema);
          return { DATABASE_URL: TEST_POSTGRES_URL, DATABASE_SCHEMA: schema };
        },
        kind: "postgres",
      },
    ],
  ];

  it.each(runtimes)(
    "starts on %s: /readyz, a tRPC query, the dashboard, then a clean SIGTERM exit",
    async (_, runtime) => {
      const node = await runtime.node();
      const app = uniquePrefix("deployed-api");
      apps.push(app);
      const api: BuiltProcess = await startBuiltProcess({
        node,
        args: ["dist/main.js"],
        cwd: deployed,
        ready: /HOTPATH_API_READY (\S+)/,
        // PGlite compiles its WebAssembly and creates its cluster at start: 12-27 s measured on
        // this 2-core machine depending on load.
        timeoutMs: 120_000,
        env: {
          PATH: process.env.PATH ?? "",
          PORT: "0",
          REDIS_URL: testTargets().redisUrl,
          HOTPATH_APP: app,
          ...runtime.database(app),
          DASHBOARD_DIR: "dashboard",
          SEED: "true",
          PASSWORD_ITERATIONS: "10000",
          LOG_LEVEL: "warn",
        },
      });
      try {
        await pollUntil(`${api.url}/readyz answering ok`, async () => {
          const response = await fetch(`${api.url}/readyz`);
          return response.ok && ((await response.json()) as { ok?: boolean }).ok === true;
        });
        const ready = (await (await fetch(`${api.url}/readyz`)).json()) as Record<string, unknown>;
        expect(ready).toMatchObject({
          ok: true,
          redis: { ok: true, transport: "tcp" },
          db: { ok: true, kind: runtime.kind },
        });

        const input = encodeURIComponent(JSON.stringify({ username: "alice" }));
        const status = await fetch(`${api.url}/trpc/streams.status?input=${input}`);
        expect(status.status, api.output()).toBe(200);
        expect(status.headers.get("x-cache")).toBe("miss");
        expect(status.headers.get("x-ratelimit-limit")).toMatch(/^\d+$/);
        const body = (await status.json()) as { result: { data: unknown } };
        expect(body.result.data).toMatchObject({
          creator: { username: "alice" },
          live: true,
          viewer: { loggedIn: false, canTip: false },
        });
        const again = await fetch(`${api.url}/trpc/streams.status?input=${input}`);
        expect(again.headers.get("x-cache")).toBe("hit");

        const page = await fetch(`${api.url}/dashboard/`);
        expect(page.status).toBe(200);
        expect(await page.text()).toContain('<div id="root">');
      } finally {
        expect(await api.stop(), api.output()).toBe(0);
      }
    },
  );
});
