import { Receiver } from "@upstash/qstash";
import { decodeJwt, decodeProtectedHeader } from "jose";
import { describe, expect, it } from "vitest";
import {
  bodyHash,
  compileRetryDelay,
  defaultRetryDelayMs,
  DEV_CREDENTIALS,
  signDelivery,
} from "../src/index.ts";
import { parseDurationMs } from "../src/duration.ts";

const url = "http://127.0.0.1:9999/hook?x=1";
const body = new TextEncoder().encode('{"hello":"world"}');
const receiver = new Receiver({
  currentSigningKey: DEV_CREDENTIALS.currentSigningKey,
  nextSigningKey: DEV_CREDENTIALS.nextSigningKey,
});
const verify = (signature: string, options: { body?: string; url?: string } = {}) =>
  receiver.verify({
    signature,
    body: options.body ?? '{"hello":"world"}',
    url: options.url ?? url,
  });

describe("delivery signature", () => {
  it("has exactly QStash's header and claims", async () => {
    const nowMs = Date.UTC(2030, 0, 1);
    const token = await signDelivery({
      signingKey: DEV_CREDENTIALS.currentSigningKey,
      url,
      body,
      nowMs,
    });
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    const claims = decodeJwt(token);
    const iat = nowMs / 1000;
    expect(claims).toEqual({
      aud: "",
      iss: "Upstash",
      sub: url,
      iat,
      nbf: iat,
      exp: iat + 300,
      jti: expect.stringMatching(/^jwt_[0-9a-f]{32}$/) as string,
      body: bodyHash(body),
    });
    expect(bodyHash(body)).toMatch(/^[A-Za-z0-9_-]+=*$/);
    expect(bodyHash(body).length % 4).toBe(0);
  });

  it("verifies with Receiver, including an empty body", async () => {
    const token = await signDelivery({ signingKey: DEV_CREDENTIALS.currentSigningKey, url, body });
    await expect(verify(token)).resolves.toBe(true);
    const empty = await signDelivery({
      signingKey: DEV_CREDENTIALS.currentSigningKey,
      url,
      body: new Uint8Array(),
    });
    await expect(verify(empty, { body: "" })).resolves.toBe(true);
  });

  it("still verifies after key rotation (signed with the next key)", async () => {
    const token = await signDelivery({ signingKey: DEV_CREDENTIALS.nextSigningKey, url, body });
    await expect(verify(token)).resolves.toBe(true);
  });

  it("is rejected when bad, expired, tampered, for another URL, or signed with a wrong key", async () => {
    await expect(verify("not-a-jwt")).rejects.toThrow();
    const expired = await signDelivery({
      signingKey: DEV_CREDENTIALS.currentSigningKey,
      url,
      body,
      nowMs: Date.now() - 301_000,
    });
    await expect(verify(expired)).rejects.toThrow();
    const good = await signDelivery({ signingKey: DEV_CREDENTIALS.currentSigningKey, url, body });
    await expect(verify(good, { body: '{"hello":"mallory"}' })).rejects.toThrow();
    await expect(verify(good, { url: "http://127.0.0.1:9999/other" })).rejects.toThrow();
    const [header, payload, signature] = good.split(".");
    const forged = Buffer.from(JSON.stringify({ ...decodeJwt(good), sub: "http://evil" })).toString(
      "base64url",
    );
    await expect(verify(`${header}.${forged}.${signature}`)).rejects.toThrow();
    expect(payload).toBeTruthy();
    const wrongKey = await signDelivery({ signingKey: "sig_notTheRightKeyAtAll000", url, body });
    await expect(verify(wrongKey)).rejects.toThrow();
  });
});

describe("retry delays", () => {
  it("default backoff is min(86400, e^(2.5·n)) seconds", () => {
    expect(defaultRetryDelayMs(1)).toBe(Math.round(Math.exp(2.5) * 1000)); // ~12 s
    expect(Math.round(defaultRetryDelayMs(2) / 1000)).toBe(148); // 2m28s
    expect(Math.round(defaultRetryDelayMs(3) / 1000)).toBe(1808); // 30m8s
    expect(defaultRetryDelayMs(5)).toBe(86_400_000);
    expect(defaultRetryDelayMs(50)).toBe(86_400_000);
  });

  it("compiles Upstash-Retry-Delay expressions with retried and the allowed functions", () => {
    expect(compileRetryDelay("1000")(3)).toBe(1000);
    expect(compileRetryDelay("pow(2, retried) * 1000")(3)).toBe(8000);
    expect(compileRetryDelay("max(10, min(retried * 100, 250))")(5)).toBe(250);
    expect(
      compileRetryDelay("floor(sqrt(retried)) + abs(-2) + ceil(0.2) + round(1.4) + exp(0) % 2")(4),
    ).toBe(7);
    expect(compileRetryDelay("1000 * (retried + 1)")(2)).toBe(3000);
    expect(compileRetryDelay("pow(10, 12)")(1)).toBe(86_400_000);
    for (const bad of ["", "retried +", "process.exit(1)", "pow(1)", "1000; 2", "foo(1)", "(1"]) {
      expect(() => compileRetryDelay(bad), bad).toThrow(/Upstash-Retry-Delay/);
    }
  });

  it("parses QStash durations", () => {
    expect(parseDurationMs("10s", "d")).toBe(10_000);
    expect(parseDurationMs("1d10h30m", "d")).toBe(86_400_000 + 36_000_000 + 1_800_000);
    expect(parseDurationMs("5", "d")).toBe(5000);
    expect(parseDurationMs("500ms", "d")).toBe(500);
    for (const bad of ["", "10x", "s", "-1s", "1 s"])
      expect(() => parseDurationMs(bad, "Upstash-Delay")).toThrow(/Upstash-Delay/);
  });
});
