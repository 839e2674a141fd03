import { testTargets } from "@hotpath/testing";
import { describe, expect, it } from "vitest";
import { parseCliArgs } from "../src/cli-options.ts";
import { GatewayError, startGateway } from "../src/index.ts";
import { isLoopbackHost } from "../src/options.ts";
import { post } from "./http.ts";

describe("startGateway options", () => {
  it("binds 127.0.0.1 with a generated token by default", async () => {
    const gateway = await startGateway({ redisUrl: testTargets().redisUrl, port: 0 });
    try {
      expect(gateway.url).toBe(`http://127.0.0.1:${gateway.port}`);
      expect(gateway.token).toMatch(/^[A-Za-z0-9_-]{32}$/);
      expect(
        (await post("/", ["ping"], { url: gateway.url, token: gateway.token, base64: false })).json,
      ).toEqual({ result: "PONG" });
    } finally {
      await gateway.close();
    }
    // close() is idempotent and the port is released.
    await gateway.close();
    await expect(fetch(gateway.url, { method: "POST", body: "[]" })).rejects.toThrow();
  });

  it("refuses a non-loopback host without an explicit token", async () => {
    const failure = await startGateway({
      redisUrl: testTargets().redisUrl,
      port: 0,
      host: "0.0.0.0",
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GatewayError);
    expect(failure).toMatchObject({
      code: "GATEWAY_CONFIG",
      message: expect.stringMatching(
        /Refusing to listen on 0\.0\.0\.0 without an explicit token/,
      ) as unknown,
    });
    // An empty token map is not an explicit token either.
    await expect(
      startGateway({ redisUrl: testTargets().redisUrl, port: 0, host: "0.0.0.0", tokens: {} }),
    ).rejects.toThrow(/Refusing to listen/);
  });

  it("starts on 0.0.0.0 with an explicit token", async () => {
    const gateway = await startGateway({
      redisUrl: testTargets().redisUrl,
      port: 0,
      host: "0.0.0.0",
      token: "explicit-token-123",
    });
    try {
      expect(gateway.token).toBe("explicit-token-123");
      expect(
        (
          await post("/", ["ping"], {
            url: gateway.url,
            token: "explicit-token-123",
            base64: false,
          })
        ).json,
      ).toEqual({ result: "PONG" });
    } finally {
      await gateway.close();
    }
  });

  it("names every invalid option", async () => {
    const failure = await startGateway({
      redisUrl: "http://localhost",
      port: 70_000,
      token: "short",
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(GatewayError);
    const message = (failure as Error).message;
    expect(message).toMatch(/redisUrl: expected a redis:\/\/ or rediss:\/\/ URL/);
    expect(message).toMatch(/port: /);
    expect(message).toMatch(/token: must be at least 8 characters/);
    await expect(startGateway({ port: 0 })).rejects.toThrow(/redisUrl: give redisUrl, or tokens/);
  });

  it("reports a port already in use as GATEWAY_LISTEN", async () => {
    const first = await startGateway({ redisUrl: testTargets().redisUrl, port: 0 });
    try {
      await expect(
        startGateway({ redisUrl: testTargets().redisUrl, port: first.port }),
      ).rejects.toMatchObject({ code: "GATEWAY_LISTEN" });
    } finally {
      await first.close();
    }
  });

  it("knows loopback addresses", () => {
    for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ["0.0.0.0", "::", "10.0.0.1", "example.com"])
      expect(isLoopbackHost(host), host).toBe(false);
  });
});

describe("CLI arguments", () => {
  it("reads flags, falls back to the environment, and flags win", () => {
    expect(
      parseCliArgs(
        ["--redis", "redis://127.0.0.1:6379", "--port", "0", "--token", "cli-token-123"],
        {},
      ),
    ).toEqual({
      kind: "start",
      options: {
        redisUrl: "redis://127.0.0.1:6379",
        token: "cli-token-123",
        port: 0,
        tokens: undefined,
        host: undefined,
        maxBodyBytes: undefined,
        commandTimeoutMs: undefined,
        maxSubscriptionsPerToken: undefined,
        allowAdminCommands: undefined,
      },
    });
    const fromEnv = parseCliArgs(["--port", "9000"], {
      REDIS_URL: "redis://r:6379",
      PORT: "8000",
      HOST: "127.0.0.2",
      HOTPATH_GATEWAY_TOKEN: "env-token-123",
    });
    expect(fromEnv).toMatchObject({
      kind: "start",
      options: {
        redisUrl: "redis://r:6379",
        port: 9000,
        host: "127.0.0.2",
        token: "env-token-123",
      },
    });
  });

  it("maps --token-map entries to tokens", () => {
    const command = parseCliArgs(
      ["--token-map", "aaaaaaaa1=redis://a:6379/0", "--token-map", "bbbbbbbb2=redis://b:6379/2"],
      {},
    );
    expect(command).toMatchObject({
      kind: "start",
      options: { tokens: { aaaaaaaa1: "redis://a:6379/0", bbbbbbbb2: "redis://b:6379/2" } },
    });
  });

  it("names the flag at fault", () => {
    expect(() => parseCliArgs(["--redis", "redis://x", "--port", "eighty"], {})).toThrow(
      /--port must be a whole number/,
    );
    expect(() => parseCliArgs(["--redis", "redis://x", "--port", "99999"], {})).toThrow(
      /--port must be between 0 and 65535/,
    );
    expect(() => parseCliArgs(["--token-map", "nourl"], {})).toThrow(
      /--token-map must look like <token>=redis:\/\/host:port\/db/,
    );
    expect(() => parseCliArgs(["--bogus"], {})).toThrow(/Unknown option '--bogus'/);
    expect(() => parseCliArgs([], {})).toThrow(/Missing --redis \(or REDIS_URL, or --token-map\)/);
    expect(parseCliArgs(["--help"], {})).toEqual({ kind: "help" });
  });
});
