import { ConfigError } from "@hotpath/config";
import { describe, expect, it } from "vitest";
import { qstashFromEnv } from "../src/deps.ts";
import { loadEnv } from "../src/env.ts";

const QSTASH = {
  QSTASH_URL: "http://127.0.0.1:8181",
  QSTASH_TOKEN: "token",
  QSTASH_CURRENT_SIGNING_KEY: "sig_current",
  QSTASH_NEXT_SIGNING_KEY: "sig_next",
  PUBLIC_BASE_URL: "https://api.example.com/",
};

describe("QStash configuration of the API", () => {
  it("is off without QSTASH_URL (the outbox relay then runs in-process)", () => {
    expect(qstashFromEnv(loadEnv({}))).toBeUndefined();
  });

  it("builds the client, the receiver and the exact webhook URL from the env", () => {
    const qstash = qstashFromEnv(loadEnv(QSTASH));
    expect(qstash?.webhookUrl).toBe("https://api.example.com/jobs/qstash");
  });

  it("names every missing variable when QSTASH_URL is set alone", () => {
    let error: unknown;
    try {
      qstashFromEnv(loadEnv({ QSTASH_URL: QSTASH.QSTASH_URL }));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe("CONFIG_INVALID_ENV");
    expect((error as ConfigError).message).toMatch(
      /QSTASH_TOKEN, QSTASH_CURRENT_SIGNING_KEY, QSTASH_NEXT_SIGNING_KEY, PUBLIC_BASE_URL/,
    );
  });
});
