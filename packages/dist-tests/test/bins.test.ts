import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deletePrefix, openTestRedis, testTargets, uniquePrefix } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBuiltProcess } from "./built-process.ts";
import { deployPackage, devToolsIn } from "./deployed.ts";
import { CURRENT_NODE_MAJOR, nodeOfMajor, SECOND_NODE_MAJOR } from "./node-major.ts";

/** A server bin, what it prints once it listens, and one authenticated call that proves it works. */
interface Server {
  pkg: string;
  bin: string;
  ready: RegExp;
  /** Arguments beyond `--redis <url> --port 0`, for a run whose keys start with `app`. */
  args: (app: string) => string[];
  check: (url: string) => Promise<unknown>;
  expected: unknown;
}

const TOKEN = "bins-test-token";

const SERVERS: Server[] = [
  {
    pkg: "@hotpath/gateway",
    bin: "bin/hotpath-gateway.mjs",
    ready: /hotpath-gateway listening on (\S+)/,
    args: () => ["--token", TOKEN],
    check: async (url) => {
      const response = await fetch(url, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify(["PING"]),
      });
      return (await response.json()) as unknown;
    },
    expected: { result: "PONG" },
  },
  {
    pkg: "@hotpath/qstash-server",
    bin: "bin/hotpath-qstash.mjs",
    ready: /hotpath-qstash running at (\S+)/,
    args: (app) => [
      "--prefix",
      app,
      "--no-dev-credentials",
      "--tenant",
      `${TOKEN},sig_current_key,sig_next_key`,
    ],
    check: async (url) => {
      const response = await fetch(`${url}/v2/queues`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return (await response.json()) as unknown;
    },
    expected: [],
  },
];

const RUNTIMES: [label: string, node: () => Promise<string>][] = [
  [`Node ${CURRENT_NODE_MAJOR}`, () => Promise.resolve(process.execPath)],
  [`Node ${SECOND_NODE_MAJOR}`, () => nodeOfMajor(SECOND_NODE_MAJOR)],
];

describe("the gateway and QStash server bins, deployed without dev tools, on plain node", () => {
  let work: string;
  const folders = new Map<string, string>();
  const apps: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "hotpath-bins-"));
    for (const server of SERVERS) {
      const dir = join(work, server.pkg.replace("@hotpath/", ""));
      const { seconds, bytes } = await deployPackage(server.pkg, dir);
      console.info(
        `pnpm deploy --prod of ${server.pkg}: ${seconds.toFixed(1)} s, ${(bytes / 1e6).toFixed(1)} MB`,
      );
      folders.set(server.pkg, dir);
    }
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
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each(SERVERS.map((server) => [server.pkg, server] as const))(
    "%s is deployed with its production dependencies only",
    async (_, server) => {
      const dir = folders.get(server.pkg) ?? "";
      expect(await devToolsIn(dir)).toEqual([]);
      const redisPackage = await realpath(join(dir, "node_modules", "@hotpath", "redis"));
      expect(redisPackage.startsWith(await realpath(dir))).toBe(true);
    },
  );

  it.each(
    SERVERS.flatMap((server) =>
      RUNTIMES.map(([label, node]) => [server.bin, label, server, node] as const),
    ),
  )("%s starts on %s, answers, and exits 0 on SIGTERM", async (_, __, server, nodeBinary) => {
    const node = await nodeBinary();
    const app = uniquePrefix("bins");
    apps.push(app);
    const running = await startBuiltProcess({
      node,
      args: [server.bin, "--redis", testTargets().redisUrl, "--port", "0", ...server.args(app)],
      cwd: folders.get(server.pkg) ?? "",
      env: { PATH: process.env.PATH ?? "" },
      ready: server.ready,
    });
    try {
      expect(await server.check(running.url)).toEqual(server.expected);
    } finally {
      expect(await running.stop(), running.output()).toBe(0);
    }
  });
});
