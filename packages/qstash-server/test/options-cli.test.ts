import { describe, expect, it } from "vitest";
import { inject } from "vitest";
import { uniquePrefix } from "@hotpath/testing";
import {
  DEV_CREDENTIALS,
  DEV_TEST_USERS,
  parseCliArgs,
  parseQStashServerOptions,
  QStashServerError,
  startQStashServer,
} from "../src/index.ts";
import { deleteKeys } from "./helpers.ts";
import { runCli, startServerProcess } from "./process.ts";

describe("options", () => {
  it("defaults to port 8181, loopback, the dev credentials and QStash's backoff", () => {
    const options = parseQStashServerOptions({ redisUrl: "redis://127.0.0.1:6379" });
    expect(options).toMatchObject({
      port: 8181,
      host: "127.0.0.1",
      devCredentials: true,
      tenants: [],
      allowedHosts: [],
      retryDelayScale: 1,
    });
  });

  it("names every bad option", () => {
    const attempt = () =>
      parseQStashServerOptions({
        redisUrl: "http://x",
        port: 70_000,
        tenants: [{ token: "short" }],
        extra: 1,
      });
    expect(attempt).toThrow(QStashServerError);
    expect(attempt).toThrow(/redisUrl[\s\S]*port[\s\S]*tenants\.0\.token[\s\S]*extra/);
    expect(() =>
      parseQStashServerOptions({ redisUrl: "redis://h", devCredentials: false }),
    ).toThrow(/at least one tenant/);
    expect(() =>
      parseQStashServerOptions({ redisUrl: "redis://h", tenants: [DEV_CREDENTIALS] }),
    ).toThrow(/listed twice/);
  });

  it("refuses the public dev token on a host other machines can reach", () => {
    expect(() => parseQStashServerOptions({ redisUrl: "redis://h", host: "0.0.0.0" })).toThrow(
      /devCredentials: the public dev token is accepted only on a loopback host/,
    );
    const own = {
      token: "own-token-0123456789",
      currentSigningKey: "sig_current_0123456789",
      nextSigningKey: "sig_next_0123456789",
    };
    expect(
      parseQStashServerOptions({
        redisUrl: "redis://h",
        host: "0.0.0.0",
        devCredentials: false,
        tenants: [own],
      }).host,
    ).toBe("0.0.0.0");
    expect(parseQStashServerOptions({ redisUrl: "redis://h", host: "localhost" }).host).toBe(
      "localhost",
    );
  });

  it("refuses a port that is taken with QSTASH_LISTEN", async () => {
    const prefixes = [uniquePrefix("listen"), uniquePrefix("listen")] as const;
    const first = await startQStashServer({
      redisUrl: inject("redisUrl"),
      port: 0,
      prefix: prefixes[0],
    });
    try {
      await expect(
        startQStashServer({
          redisUrl: inject("redisUrl"),
          port: first.port,
          prefix: prefixes[1],
        }),
      ).rejects.toMatchObject({ code: "QSTASH_LISTEN" });
    } finally {
      await first.close();
      await first.close(); // idempotent
      for (const prefix of prefixes) await deleteKeys(prefix);
    }
  });
});

describe("CLI", () => {
  it("reads flags, falling back to the environment", () => {
    const user = DEV_TEST_USERS[0] as (typeof DEV_TEST_USERS)[number];
    const tenantFlag = `${user.token},${user.currentSigningKey},${user.nextSigningKey}`;
    expect(
      parseCliArgs(
        [
          "--redis",
          "redis://h:1",
          "--port",
          "9000",
          "--tenant",
          tenantFlag,
          "--allow-host",
          "api.example.com",
          "--no-dev-credentials",
        ],
        {},
      ),
    ).toEqual({
      kind: "start",
      options: expect.objectContaining({
        redisUrl: "redis://h:1",
        port: 9000,
        tenants: [user],
        allowedHosts: ["api.example.com"],
        devCredentials: false,
      }) as object,
    });
    const fromEnv = parseCliArgs([], {
      REDIS_URL: "redis://e:2",
      PORT: "8282",
      QSTASH_ALLOWED_HOSTS: "a.example,b.example",
      QSTASH_TENANTS: tenantFlag,
    });
    expect(fromEnv).toMatchObject({
      options: {
        redisUrl: "redis://e:2",
        port: 8282,
        allowedHosts: ["a.example", "b.example"],
        tenants: [user],
      },
    });
    expect(parseCliArgs(["--help"], {})).toEqual({ kind: "help" });
  });

  it("names the flag at fault", () => {
    expect(() => parseCliArgs(["--port", "x", "--redis", "redis://h"], {})).toThrow(
      /--port must be a whole number/,
    );
    expect(() => parseCliArgs(["--tenant", "only-a-token", "--redis", "redis://h"], {})).toThrow(
      /--tenant must look like/,
    );
    expect(() => parseCliArgs(["--bogus"], {})).toThrow(/bogus/);
    expect(() => parseCliArgs([], {})).toThrow(/Missing --redis/);
  });

  it("runs: prints the URL and credentials, exits 2 on bad arguments", async () => {
    const bad = await runCli(["--port", "nope", "--redis", "redis://127.0.0.1:1"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port must be a whole number/);
    const prefix = uniquePrefix("cli");
    const server = await startServerProcess([
      "--redis",
      inject("redisUrl"),
      "--port",
      "0",
      "--prefix",
      prefix,
    ]);
    try {
      const response = await fetch(`${server.url}/v2/keys`, {
        headers: { Authorization: `Bearer ${DEV_CREDENTIALS.token}` },
      });
      expect(await response.json()).toEqual({
        current: DEV_CREDENTIALS.currentSigningKey,
        next: DEV_CREDENTIALS.nextSigningKey,
      });
    } finally {
      await server.kill("SIGTERM");
      await deleteKeys(prefix);
    }
    expect(server.child.exitCode).toBe(0);
  });
});
