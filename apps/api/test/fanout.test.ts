import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_PASSWORD } from "../src/db/seed.ts";
import { findUserByUsername, insertUser } from "../src/db/users.ts";
import { JOBS_WEBHOOK_PATH } from "../src/jobs/api-jobs.ts";
import { startLocalQStash, type LocalQStash } from "./helpers/qstash.ts";
import { bearer, liveStreamOf, openTestApi, type TestApi } from "./helpers/runtime.ts";
import { serveLazily } from "./helpers/serve.ts";
import { waitUntil } from "./helpers/wait.ts";

/** One request the API sent to QStash, seen by the recording proxy in front of the server. */
interface SeenRequest {
  method: string;
  path: string;
  body: string;
  response: string;
}

/** One delivery of a job to the API's webhook, kept so the test can deliver it again. */
interface Delivery {
  job: string | undefined;
  payload: { tipId?: number; followerId?: number } | undefined;
  messageId: string | null;
  status: number;
  replay: () => Request;
}

const FOLLOWERS = 7;

describe("fan-out of a tip to the creator's followers through ONE QStash batch call", () => {
  let qstash: LocalQStash;
  let proxy: Awaited<ReturnType<typeof serveLazily>>;
  let http: Awaited<ReturnType<typeof serveLazily>>;
  let t: TestApi;
  const seen: SeenRequest[] = [];
  const deliveries: Delivery[] = [];
  const followers: { id: number; token: string }[] = [];
  let alice: { streamId: number; creatorId: number };
  let tipperToken: string;
  let tipperId: number;

  const notificationsOf = async (token: string) =>
    (await t.caller(bearer(token)).api.users.notifications({ n: 100 })).notifications;

  beforeAll(async () => {
    qstash = await startLocalQStash("fanout-qstash");
    // Every request the API makes to QStash goes through this proxy, which records it.
    proxy = await serveLazily();
    proxy.serve(async (request) => {
      const url = new URL(request.url);
      const body = request.method === "GET" ? "" : await request.text();
      const headers = new Headers(request.headers);
      headers.delete("host");
      headers.delete("content-length");
      const upstream = await fetch(`${qstash.server.url}${url.pathname}${url.search}`, {
        method: request.method,
        headers,
        ...(request.method === "GET" ? {} : { body }),
      });
      const response = await upstream.text();
      seen.push({ method: request.method, path: url.pathname, body, response });
      return new Response(response, {
        status: upstream.status,
        headers: { "content-type": upstream.headers.get("content-type") ?? "application/json" },
      });
    });
    http = await serveLazily();
    t = await openTestApi({
      runtime: { qstash: qstash.wiring(http.port, { baseUrl: `http://127.0.0.1:${proxy.port}` }) },
    });
    http.serve(async (request) => {
      const raw = await request.clone().text();
      const headers = new Headers(request.headers);
      const envelope = JSON.parse(raw || "{}") as { job?: string; payload?: Delivery["payload"] };
      const response = await t.handler(request);
      deliveries.push({
        job: envelope.job,
        payload: envelope.payload,
        messageId: headers.get("upstash-message-id"),
        status: response.status,
        replay: () => new Request(request.url, { method: "POST", headers, body: raw }),
      });
      return response;
    });

    alice = await liveStreamOf(t.db, "alice");
    const hash = await t.runtime.deps.passwords.hash(DEMO_PASSWORD);
    for (let index = 0; index < FOLLOWERS; index += 1) {
      const user = await insertUser(t.db, {
        username: `fan_${index}_${Date.now() % 100_000}`,
        displayName: `Fan ${index}`,
        passwordHash: hash,
      });
      const token = await t.login(user.username);
      await t.caller(bearer(token)).api.users.follow({ creatorId: alice.creatorId });
      followers.push({ id: user.id, token });
    }
    tipperToken = await t.login("dave");
    tipperId = (await findUserByUsername(t.db, "dave"))!.id;
  });

  afterAll(async () => {
    await t?.close();
    await http?.close();
    await proxy?.close();
    await qstash?.close();
  });

  it("a tip by a creator with N followers sends one batch request carrying N messages, and each follower is notified once", async () => {
    seen.length = 0;
    const { tip, projected } = await t
      .caller(bearer(tipperToken, { "idempotency-key": `fanout-${Date.now()}` }))
      .api.tips.quick({ streamId: alice.streamId, amount: 3 });
    expect(projected).toBe(true);
    await waitUntil(
      async () => {
        for (const follower of followers)
          if ((await notificationsOf(follower.token)).length !== 1) return false;
        return true;
      },
      { timeoutMs: 30_000, what: "every follower's notification" },
    );

    // Exactly one request reached QStash for this tip: one POST /v2/batch with N messages.
    expect(seen.map((request) => `${request.method} ${request.path}`)).toEqual(["POST /v2/batch"]);
    const messages = JSON.parse(seen[0]!.body) as {
      destination: string;
      headers: Record<string, string>;
      body: string;
    }[];
    expect(messages).toHaveLength(FOLLOWERS);
    const payloads = messages.map(
      (message) =>
        JSON.parse(message.body) as { job: string; payload: { tipId: number; followerId: number } },
    );
    expect(new Set(payloads.map((p) => p.job))).toEqual(new Set(["notify-follower"]));
    expect(payloads.map((p) => p.payload.followerId).sort((a, b) => a - b)).toEqual(
      followers.map((f) => f.id).sort((a, b) => a - b),
    );
    for (const [index, message] of messages.entries()) {
      expect(message.destination).toBe(`http://127.0.0.1:${http.port}${JOBS_WEBHOOK_PATH}`);
      expect(new Headers(message.headers).get("upstash-deduplication-id")).toBe(
        `notify-${tip.id}-${payloads[index]!.payload.followerId}`,
      );
    }
    for (const follower of followers) {
      expect(await notificationsOf(follower.token)).toEqual([
        expect.objectContaining({ tipId: tip.id, creatorUsername: "alice", amount: "3.00" }),
      ]);
    }
  });

  it("each follower sees the notification once even when a message is delivered twice or the tip fans out again", async () => {
    const { tip } = await t
      .caller(bearer(tipperToken, { "idempotency-key": `fanout-twice-${Date.now()}` }))
      .api.tips.quick({ streamId: alice.streamId, amount: 2 });
    const ofTip = () =>
      deliveries.filter((d) => d.job === "notify-follower" && d.payload?.tipId === tip.id);
    await waitUntil(() => ofTip().filter((d) => d.status === 200).length === FOLLOWERS, {
      timeoutMs: 30_000,
      what: "the tip's notify-follower deliveries",
    });
    const first = ofTip()[0]!;
    const target = followers.find((f) => f.id === first.payload?.followerId)!;
    const countOf = async () =>
      (await notificationsOf(target.token)).filter((n) => n.tipId === tip.id).length;
    expect(await countOf()).toBe(1);

    // The same signed delivery again (same Upstash-Message-Id): answered, nothing runs.
    const again = await t.handler(first.replay());
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true });
    expect(await countOf()).toBe(1);

    // Another message for the same (tip, follower) (a new message id): the job runs, and the
    // feed still holds the tip once.
    const { messageId } = await t.runtime.jobs!.publisher.publish("notify-follower", {
      tipId: tip.id,
      followerId: target.id,
    });
    await waitUntil(() => deliveries.some((d) => d.messageId === messageId && d.status === 200), {
      what: "the second message's delivery",
    });
    expect(await countOf()).toBe(1);

    // The tip fans out again: QStash drops every message as a duplicate of its (tip, follower) id.
    seen.length = 0;
    expect(
      await t.runtime.deps.fanout.fanOut({
        id: tip.id,
        creatorId: alice.creatorId,
        fromUserId: tipperId,
      }),
    ).toEqual({ followers: FOLLOWERS, batches: 1 });
    expect(seen).toHaveLength(1);
    const answers = JSON.parse(seen[0]!.response) as { deduplicated?: boolean }[];
    expect(answers).toHaveLength(FOLLOWERS);
    expect(answers.every((answer) => answer.deduplicated === true)).toBe(true);
    for (const follower of followers) {
      const notifications = await notificationsOf(follower.token);
      expect(notifications.filter((n) => n.tipId === tip.id)).toHaveLength(1);
    }
  });
});
