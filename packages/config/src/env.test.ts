import { describe, expect, it } from "vitest";
import { ConfigError, browserEnvSchema, parseEnv, serverEnvSchema } from "./index.ts";

function envError(source: Record<string, string | undefined>): ConfigError {
  try {
    parseEnv(serverEnvSchema, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error("expected parseEnv to throw");
}

describe("parseEnv(serverEnvSchema)", () => {
  it("applies defaults to an empty environment (production unless told otherwise)", () => {
    expect(parseEnv(serverEnvSchema, {})).toEqual({
      NODE_ENV: "production",
      PORT: 3000,
      HOST: "127.0.0.1",
      REDIS_TIMEOUT_MS: 1000,
      TRUSTED_PROXY_COUNT: 0,
    });
  });

  it("parses a full production environment and drops unknown variables", () => {
    const env = parseEnv(serverEnvSchema, {
      NODE_ENV: "production",
      PORT: "8080",
      UPSTASH_REDIS_REST_URL: "https://eu1-fine-cat.upstash.io",
      UPSTASH_REDIS_REST_TOKEN: "AX_token",
      REDIS_URL: "rediss://default:secret@redis.example.com:6380",
      DATABASE_URL: "postgres://u:p@db:5432/hotpath",
      QSTASH_URL: "http://127.0.0.1:8080",
      QSTASH_TOKEN: "qstash",
      QSTASH_CURRENT_SIGNING_KEY: "sig_current",
      QSTASH_NEXT_SIGNING_KEY: "sig_next",
      ADMIN_TOKEN: "0123456789abcdef",
      TRUSTED_PROXY_COUNT: "1",
      PATH: "/usr/bin",
    });
    expect(env.PORT).toBe(8080);
    expect(env.REDIS_URL).toBe("rediss://default:secret@redis.example.com:6380");
    expect(env.TRUSTED_PROXY_COUNT).toBe(1);
    expect(env).not.toHaveProperty("PATH");
  });

  it("treats empty strings as unset", () => {
    expect(parseEnv(serverEnvSchema, { PORT: "", REDIS_URL: "" })).toMatchObject({ PORT: 3000 });
    expect(parseEnv(serverEnvSchema, { REDIS_URL: "" })).not.toHaveProperty("REDIS_URL");
  });

  it("takes a Redis Cluster as REDIS_URL (redis+cluster://) or REDIS_CLUSTER_NODES; a seed without a port is refused", () => {
    const url = "redis+cluster://default:secret@10.0.0.1:7000,10.0.0.2:7001";
    expect(parseEnv(serverEnvSchema, { REDIS_URL: url }).REDIS_URL).toBe(url);
    expect(parseEnv(serverEnvSchema, { REDIS_URL: "rediss+cluster://h:1" }).REDIS_URL).toBe(
      "rediss+cluster://h:1",
    );
    const nodes = "10.0.0.1:7000,10.0.0.2:7001";
    expect(parseEnv(serverEnvSchema, { REDIS_CLUSTER_NODES: nodes }).REDIS_CLUSTER_NODES).toBe(
      nodes,
    );
    const error = envError({
      REDIS_URL: "redis+cluster://10.0.0.1",
      REDIS_CLUSTER_NODES: "10.0.0.1:7000,10.0.0.2",
    });
    expect(error.issues.map((issue) => issue.field)).toEqual(["REDIS_URL", "REDIS_CLUSTER_NODES"]);
  });

  it("lists every problem in one error: the name and what was wrong, once each", () => {
    const error = envError({
      NODE_ENV: "prod",
      PORT: "abc",
      UPSTASH_REDIS_REST_URL: "not a url",
      REDIS_URL: "http://localhost:6379",
      DATABASE_URL: "mysql://db",
      ADMIN_TOKEN: "short",
      TRUSTED_PROXY_COUNT: "-1",
      REDIS_TIMEOUT_MS: "1.5",
      HOST: "ok",
    });
    expect(error.code).toBe("CONFIG_INVALID_ENV");
    expect(error.issues.map((issue) => issue.field)).toEqual([
      "NODE_ENV",
      "PORT",
      "UPSTASH_REDIS_REST_URL",
      "REDIS_URL",
      "REDIS_TIMEOUT_MS",
      "DATABASE_URL",
      "ADMIN_TOKEN",
      "TRUSTED_PROXY_COUNT",
    ]);
    const lines = error.message.split("\n");
    expect(lines[0]).toBe("Invalid environment:");
    expect(lines).toHaveLength(1 + 8);
    expect(error.message).toContain("  - NODE_ENV: ");
    expect(error.message).toContain('"production"');
    expect(error.message).toContain("  - PORT: expected a whole number");
    expect(error.message).toContain(
      "  - UPSTASH_REDIS_REST_URL: expected a https:// or http:// URL",
    );
    expect(error.message).toContain(
      "  - REDIS_URL: expected a redis://, rediss:// or redis+cluster://host:port,host:port URL",
    );
    expect(error.message).toContain(
      "  - DATABASE_URL: expected a postgres:// or postgresql:// URL",
    );
    expect(error.message).toContain("  - ADMIN_TOKEN: must be at least 16 characters");
    expect(error.message).toContain("  - TRUSTED_PROXY_COUNT: expected a number >= 0");
    expect(error.message).toContain("  - REDIS_TIMEOUT_MS: expected a whole number");
  });

  it("never leaks zod internals or the values (which may be secrets)", () => {
    const error = envError({ REDIS_URL: "http://user:hunter2@host", PORT: "99999" });
    expect(error.message).not.toMatch(
      /ZodError|"code"|"path"|invalid_type|too_small|node_modules|hunter2/,
    );
    expect(error.message).toContain("PORT: expected a number <= 65535");
    expect(error.cause).toBeUndefined();
    expect(String(error)).toMatch(/^ConfigError: Invalid environment:/);
  });
});

describe("parseEnv(browserEnvSchema)", () => {
  it("has browser defaults", () => {
    expect(parseEnv(browserEnvSchema, {})).toEqual({
      VITE_API_URL: "/trpc",
      VITE_POLL_INTERVAL_MS: 2000,
    });
  });

  it("names the bad browser variable", () => {
    expect(() => parseEnv(browserEnvSchema, { VITE_POLL_INTERVAL_MS: "10" })).toThrow(
      /VITE_POLL_INTERVAL_MS: expected a number >= 500/,
    );
  });
});
