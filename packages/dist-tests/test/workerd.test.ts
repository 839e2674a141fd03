import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DEV_CREDENTIALS,
  signDelivery,
  startQStashServer,
  type RunningQStashServer,
} from "@hotpath/qstash-server";
import { deletePrefix, freePort, openTestRedis, testTargets, uniquePrefix } from "@hotpath/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { noteKey } from "../fixtures/worker/keys.ts";
import {
  bundleWorker,
  startWorkerd,
  writeWorkerdConfig,
  type RunningWorkerd,
  type WorkerBundle,
} from "./workerd.ts";

const ENTRY = join(import.meta.dirname, "..", "fixtures", "worker", "worker.ts");

/** Polls `read` until it yields a value (not undefined) or `timeoutMs` passes. */
async function eventually<T>(
  read: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("the hot path in workerd (Cloudflare's Workers runtime) on the built packages", () => {
  const app = uniquePrefix("workerd");
  const qstashPrefix = uniquePrefix("workerd-qstash");
  const redis = openTestRedis("tcp");
  let dir: string;
  let bundle: WorkerBundle;
  let qstash: RunningQStashServer;
  let worker: RunningWorkerd;
  let jobsUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hotpath-workerd-"));
    bundle = await bundleWorker(ENTRY, dir);
    const { redisUrl, gatewayUrl, gatewayToken } = testTargets();
    qstash = await startQStashServer({
      redisUrl,
      port: 0,
      prefix: qstashPrefix,
      retryDelayScale: 0.001,
    });
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    jobsUrl = `${url}/jobs`;
    const config = await writeWorkerdConfig({
      dir,
      address: `127.0.0.1:${port}`,
      entrypoint: "hotpath",
      // No Node.js APIs at all: the packages need only what every edge runtime has.
      compatibilityFlags: ["no_nodejs_compat", "no_nodejs_compat_v2"],
      bindings: {
        UPSTASH_REDIS_REST_URL: gatewayUrl,
        UPSTASH_REDIS_REST_TOKEN: gatewayToken,
        QSTASH_URL: qstash.url,
        QSTASH_TOKEN: DEV_CREDENTIALS.token,
        QSTASH_CURRENT_SIGNING_KEY: DEV_CREDENTIALS.currentSigningKey,
        QSTASH_NEXT_SIGNING_KEY: DEV_CREDENTIALS.nextSigningKey,
        PUBLIC_URL: url,
        APP: app,
      },
    });
    worker = await startWorkerd(config, url, { readyPath: "/health" });
  });

  afterAll(async () => {
    await worker?.stop();
    await qstash?.close();
    try {
      await deletePrefix(redis, `${app}:`);
      await deletePrefix(redis, qstashPrefix);
    } finally {
      await redis.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    }
  });

  const call = (path: string, init?: RequestInit) => fetch(`${worker.url}${path}`, init);
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    call(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  it("bundles the REST-only build of @hotpath/redis (no TCP client) and runs without nodejs_compat", async () => {
    expect(bundle.inputs.some((input) => input.includes("/ioredis/"))).toBe(false);
    expect(bundle.inputs.some((input) => input.endsWith("redis/dist/rest.js"))).toBe(true);
    expect(bundle.inputs.some((input) => input.includes("/tcp-requester"))).toBe(false);
    const health = (await (await call("/health")).json()) as { ok: boolean; transport: string };
    expect(health).toMatchObject({ ok: true, transport: "rest", nodeBuffer: false });
  });

  it("caches: a miss that loads, then a hit from Redis", async () => {
    const first = await call("/users/42");
    const second = await call("/users/42");
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({
      value: { id: "42", name: "user 42" },
      outcome: "miss",
      loads: 1,
    });
    expect(second.headers.get("x-cache")).toBe("hit");
    expect(await second.json()).toEqual({
      value: { id: "42", name: "user 42" },
      outcome: "hit",
      loads: 1,
    });
  });

  it("rate limits: 429 with the IETF RateLimit fields and Retry-After after the limit", async () => {
    const user = { "x-user-id": "tipper-1" };
    const statuses: number[] = [];
    let blocked: Response | undefined;
    for (let i = 0; i < 3; i += 1) {
      const response = await post("/tips", { amount: 1 }, user);
      statuses.push(response.status);
      if (response.status === 429) blocked = response;
      else await response.body?.cancel();
    }
    expect(statuses).toEqual([201, 201, 429]);
    const headers = blocked?.headers;
    expect(headers?.get("ratelimit-policy")).toBe('"tips";q=2;w=3600');
    expect(headers?.get("ratelimit")).toMatch(/^"tips";r=0;t=\d+$/);
    expect(Number(headers?.get("retry-after"))).toBeGreaterThan(0);
    expect(headers?.get("x-ratelimit-limit")).toBe("2");
    expect(headers?.get("x-ratelimit-remaining")).toBe("0");
    expect(await blocked?.json()).toMatchObject({ error: "Rate limit exceeded" });
  });

  it("replays an idempotent request instead of running it twice", async () => {
    const headers = { "x-user-id": "buyer-1", "idempotency-key": "order-key-1" };
    const first = await post("/orders", { sku: "A-1", quantity: 2 }, headers);
    const again = await post("/orders", { sku: "A-1", quantity: 2 }, headers);
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    const created = (await first.json()) as { orderId: string };
    expect(await again.json()).toEqual(created);

    const otherPayload = await post("/orders", { sku: "B-2", quantity: 1 }, headers);
    expect(otherPayload.status).toBe(422);
    await otherPayload.body?.cancel();
    const noKey = await post("/orders", { sku: "A-1" }, { "x-user-id": "buyer-1" });
    expect(noKey.status).toBe(400);
    await noKey.body?.cancel();
  });

  it("runs a job QStash delivers, signed, to the Worker", async () => {
    const published = await post("/publish", { note: "from-qstash" });
    expect(published.status).toBe(202);
    const { messageId } = (await published.json()) as { messageId: string };
    expect(messageId).toMatch(/\S/);
    const stored = await eventually(
      async () => (await redis.get<string>(noteKey(app, "from-qstash"))) ?? undefined,
      "the record-note job to run",
    );
    expect(stored).toBe(messageId);
  });

  it("accepts a delivery signed with the signing key once per message id, refuses unsigned or tampered ones", async () => {
    const body = JSON.stringify({ job: "record-note", payload: { note: "signed-here" } });
    const signature = await signDelivery({
      signingKey: DEV_CREDENTIALS.currentSigningKey,
      url: jobsUrl,
      body: new TextEncoder().encode(body),
    });
    const deliver = (headers: Record<string, string>, payload = body) =>
      call("/jobs", {
        method: "POST",
        headers: { "content-type": "application/json", "upstash-message-id": "msg-1", ...headers },
        body: payload,
      });

    const unsigned = await deliver({});
    expect(unsigned.status).toBe(401);
    expect(unsigned.headers.get("www-authenticate")).toMatch(/^Upstash-Signature/);
    await unsigned.body?.cancel();
    const tampered = await deliver(
      { "upstash-signature": signature },
      body.replace("signed-here", "tampered"),
    );
    expect(tampered.status).toBe(401);
    await tampered.body?.cancel();
    const otherKey = await deliver({
      "upstash-signature": await signDelivery({
        signingKey: "sig_notTheKeyOfThisTenant",
        url: jobsUrl,
        body: new TextEncoder().encode(body),
      }),
    });
    expect(otherKey.status).toBe(401);
    await otherKey.body?.cancel();
    expect(await redis.get(noteKey(app, "tampered"))).toBeNull();
    expect(await redis.get(noteKey(app, "signed-here"))).toBeNull();

    const accepted = await deliver({ "upstash-signature": signature });
    expect(accepted.status).toBe(200);
    expect(await accepted.json()).toEqual({ ok: true, job: "record-note" });
    expect(await redis.get(noteKey(app, "signed-here"))).toBe("msg-1");
    const redelivered = await deliver({ "upstash-signature": signature });
    expect(await redelivered.json()).toEqual({ ok: true, job: "record-note", duplicate: true });
  });
});
