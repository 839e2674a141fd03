import { DEV_CREDENTIALS } from "@hotpath/qstash-server";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  NON_RETRYABLE_STATUS,
  createJobHandler,
  createJobPublisher,
  defineJob,
  type JobFailure,
} from "../src/index.ts";
import {
  serveFetchHandler,
  startQStashFixture,
  waitFor,
  type QStashFixture,
  type ServedHandler,
} from "./helpers.ts";

/** Signs like QStash: HS256 over the key's UTF-8 bytes, body = base64url(SHA-256(body)) padded. */
async function sign(
  body: string,
  options: { url: string; key?: string; issuedAt?: number; lifetimeSeconds?: number },
): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)),
  );
  const bodyHash = Buffer.from(digest).toString("base64url");
  const padded = bodyHash + "=".repeat((4 - (bodyHash.length % 4)) % 4);
  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ body: padded })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuer("Upstash")
    .setSubject(options.url)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + (options.lifetimeSeconds ?? 300))
    .setJti(`jwt_${crypto.randomUUID()}`)
    .sign(new TextEncoder().encode(options.key ?? DEV_CREDENTIALS.currentSigningKey));
}

describe("the job webhook", () => {
  let fixture: QStashFixture;
  let served: ServedHandler;
  const runs: { id: number; messageId: string; retried: number }[] = [];
  const failures: JobFailure[] = [];
  let failNextRunsOf = new Map<number, number>();
  const record = defineJob("record", z.object({ id: z.number().int() }), ({ id }, context) => {
    const failuresLeft = failNextRunsOf.get(id) ?? 0;
    if (failuresLeft > 0) {
      failNextRunsOf.set(id, failuresLeft - 1);
      throw new Error(`planned failure of ${id}`);
    }
    runs.push({ id, messageId: context.messageId, retried: context.retried });
  });
  const jobs = [record] as const;
  let handler: (request: Request) => Promise<Response>;

  beforeAll(async () => {
    fixture = await startQStashFixture();
    served = await serveFetchHandler((url) => {
      handler = createJobHandler({
        jobs,
        receiver: fixture.receiver,
        url,
        idempotency: fixture.idempotency,
        onFailure: (failure) => void failures.push(failure),
      });
      return handler;
    });
  });
  afterAll(async () => {
    await served?.close();
    await fixture?.close();
  });

  const deliver = (body: string, headers: Record<string, string>) =>
    handler(
      new Request(served.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      }),
    );

  it("unsigned, tampered, expired, wrong-key and wrong-URL requests get 401 and nothing runs", async () => {
    const body = JSON.stringify({ job: "record", payload: { id: 1 } });
    const tampered = JSON.stringify({ job: "record", payload: { id: 2 } });
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Record<string, string>, string][] = [
      ["unsigned", {}, body],
      ["tampered body", { "upstash-signature": await sign(body, { url: served.url }) }, tampered],
      [
        "expired",
        {
          "upstash-signature": await sign(body, {
            url: served.url,
            issuedAt: now - 3600,
            lifetimeSeconds: 300,
          }),
        },
        body,
      ],
      [
        "wrong key",
        { "upstash-signature": await sign(body, { url: served.url, key: "sig_notTheKey" }) },
        body,
      ],
      [
        "another URL",
        { "upstash-signature": await sign(body, { url: `${served.url}/elsewhere` }) },
        body,
      ],
      ["garbage", { "upstash-signature": "not.a.jwt" }, body],
    ];
    for (const [what, headers, sent] of cases) {
      const response = await deliver(sent, { "upstash-message-id": `msg_${what}`, ...headers });
      expect(response.status, what).toBe(401);
    }
    expect(runs).toEqual([]);
    expect(failures).toEqual([]);
  });

  it("accepts the next signing key (rotation)", async () => {
    const body = JSON.stringify({ job: "record", payload: { id: 10 } });
    const response = await deliver(body, {
      "upstash-message-id": "msg_next_key",
      "upstash-signature": await sign(body, {
        url: served.url,
        key: DEV_CREDENTIALS.nextSigningKey,
      }),
    });
    expect(response.status).toBe(200);
    expect(runs.filter((r) => r.id === 10)).toHaveLength(1);
  });

  it("the same message delivered twice runs once; the second answer is a 200 duplicate", async () => {
    const body = JSON.stringify({ job: "record", payload: { id: 20 } });
    const headers = {
      "upstash-message-id": "msg_twice",
      "upstash-signature": await sign(body, { url: served.url }),
    };
    const [first, second] = await Promise.all([deliver(body, headers), deliver(body, headers)]);
    // Concurrent duplicate: one runs, the other is told to come back (503) or replayed (200).
    expect([first.status, second.status].sort()).toContain(200);
    const third = await deliver(body, { ...headers, "upstash-retried": "1" });
    expect(third.status).toBe(200);
    expect(await third.json()).toMatchObject({ ok: true, duplicate: true });
    expect(runs.filter((r) => r.id === 20)).toHaveLength(1);
  });

  it("a bad payload is recorded as failed once, answered 489 non-retryable, and ends in the DLQ", async () => {
    const { messageId } = await fixture.client.publishJSON({
      url: served.url,
      body: { job: "record", payload: { id: "not a number" } },
      retries: 2,
    });
    const dlq = await waitFor(async () => {
      const { messages } = await fixture.client.dlq.listMessages({ filter: { messageId } });
      return messages[0];
    }, "the bad message in the DLQ");
    expect(dlq.responseStatus).toBe(NON_RETRYABLE_STATUS);
    const answers = served.answers.filter((a) => a.messageId === messageId);
    // QStash (the local server too) does not retry a 489 marked non-retryable: one delivery.
    expect(answers.map((a) => a.status)).toEqual([489]);
    expect(failures.filter((f) => f.messageId === messageId)).toEqual([
      expect.objectContaining({ job: "record", reason: "invalid_payload", retried: 0 }),
    ]);
    // An unknown job is rejected the same way.
    const unknown = JSON.stringify({ job: "nope", payload: {} });
    const response = await deliver(unknown, {
      "upstash-message-id": "msg_unknown_job",
      "upstash-signature": await sign(unknown, { url: served.url }),
    });
    expect(response.status).toBe(NON_RETRYABLE_STATUS);
    expect(response.headers.get("upstash-nonretryable-error")).toBe("true");
    expect(failures.filter((f) => f.messageId === "msg_unknown_job")).toEqual([
      expect.objectContaining({ reason: "unknown_job" }),
    ]);
  });

  it("a throwing handler answers 500, and QStash's retry later succeeds exactly once", async () => {
    failNextRunsOf = new Map([[30, 1]]);
    const publisher = createJobPublisher({ client: fixture.client, url: served.url, jobs });
    const { messageId } = await publisher.publish("record", { id: 30 }, { retries: 3 });
    await waitFor(() => runs.some((r) => r.messageId === messageId), "the retried run");
    await waitFor(
      () => served.answers.filter((a) => a.messageId === messageId).length === 2,
      "both answers",
    );
    expect(served.answers.filter((a) => a.messageId === messageId)).toEqual([
      { status: 500, messageId, retried: "0" },
      { status: 200, messageId, retried: "1" },
    ]);
    expect(runs.filter((r) => r.messageId === messageId)).toEqual([
      { id: 30, messageId, retried: 1 },
    ]);
    expect(failures.filter((f) => f.messageId === messageId)).toEqual([
      expect.objectContaining({ reason: "handler_error", retried: 0 }),
    ]);
  });

  it("answers 405 to anything but POST", async () => {
    expect((await handler(new Request(served.url))).status).toBe(405);
  });
});
