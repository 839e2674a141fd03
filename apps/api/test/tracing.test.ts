import type { TcpProxy } from "@hotpath/testing";
import { recordSpans, type ReadableSpan, type SpanRecorder } from "@hotpath/testing/tracing";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countPendingOutbox } from "../src/db/outbox.ts";
import { openCuttableRedis, type CuttableRedis } from "./helpers/cuttable-redis.ts";
import { startLocalQStash, type LocalQStash } from "./helpers/qstash.ts";
import { bearer, liveStreamOf, openTestApi, tipRequest, type TestApi } from "./helpers/runtime.ts";
import { serveLazily } from "./helpers/serve.ts";
import { waitUntil } from "./helpers/wait.ts";

const REDIS_TIMEOUT_MS = 500;

describe("traces (OpenTelemetry SDK, in-memory exporter; own redis-server behind a proxy, local QStash)", () => {
  let recorder: SpanRecorder;
  let cuttable: CuttableRedis;
  let proxy: TcpProxy;
  let qstash: LocalQStash;
  let http: Awaited<ReturnType<typeof serveLazily>>;
  let t: TestApi;
  let token: string;
  let stream: { streamId: number; creatorId: number };
  let cutAfterNextCommit = false;

  /** The SERVER span of the last tRPC call to `path`. */
  const callSpan = (path: string): ReadableSpan => {
    const span = recorder
      .spans()
      .filter((s) => s.name === path && s.kind === SpanKind.SERVER)
      .at(-1);
    if (!span) throw new Error(`no span of ${path}`);
    return span;
  };
  const only = (spans: ReadableSpan[], name: string): ReadableSpan => {
    const found = spans.filter((span) => span.name === name);
    expect(found.map((span) => span.name)).toEqual([name]);
    return found[0] as ReadableSpan;
  };
  /** True when `ancestor` is on the parent chain of `span` (same trace). */
  const descendsFrom = (span: ReadableSpan, ancestor: ReadableSpan): boolean => {
    const byId = new Map(recorder.spans().map((s) => [s.spanContext().spanId, s]));
    for (let at: ReadableSpan | undefined = span; at;) {
      const parentId: string | undefined = at.parentSpanContext?.spanId;
      if (parentId === ancestor.spanContext().spanId) return true;
      at = parentId === undefined ? undefined : byId.get(parentId);
    }
    return false;
  };
  const tip = async (idempotencyKey: string, amount: number) => {
    const response = await t.handler(
      tipRequest(token, idempotencyKey, { streamId: stream.streamId, amount }),
    );
    return {
      status: response.status,
      body: (await response.json()) as {
        result?: { data: { tip: { id: number }; projected: boolean } };
      },
    };
  };

  beforeAll(async () => {
    // Registered first, as an application registers its SDK before serving anything.
    recorder = recordSpans();
    cuttable = await openCuttableRedis(REDIS_TIMEOUT_MS);
    proxy = cuttable.proxy;
    qstash = await startLocalQStash("traces-qstash");
    http = await serveLazily();
    t = await openTestApi({
      redis: cuttable.redis,
      env: { REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS) },
      runtime: {
        // Retries every 200 ms (the server scales delays by 0.001).
        qstash: qstash.wiring(http.port, { retries: 100, retryDelay: "200000" }),
        onTipCommitted: () => {
          if (!cutAfterNextCommit) return;
          cutAfterNextCommit = false;
          proxy.cut();
        },
      },
    });
    http.serve((request) => t.handler(request));
    token = await t.login("carol");
    stream = await liveStreamOf(t.db, "alice");
  });

  afterAll(async () => {
    proxy?.restore();
    await t?.close();
    await http?.close();
    await qstash?.close();
    await cuttable?.close();
    await recorder?.stop();
  });

  it("tips.quick is one tree: the tRPC span, the rate-limit decision and the idempotency claim beneath it, a span per Redis round trip — and no key or value anywhere", async () => {
    // A first tip loads the scripts into this fresh Redis (EVALSHA, NOSCRIPT, EVAL: traced too).
    expect((await tip(`trace-warm-${Date.now()}`, 1)).status).toBe(200);
    recorder.reset();
    const key = `trace-tip-${Date.now()}`;
    const { status, body } = await tip(key, 4.5);
    expect(status).toBe(200);
    expect(body.result?.data.projected).toBe(true);

    const root = callSpan("tips.quick");
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.attributes).toMatchObject({
      "rpc.system": "trpc",
      "rpc.method": "tips.quick",
      "trpc.type": "mutation",
      "http.response.status_code": 200,
    });
    const tree = recorder.trace(root.spanContext().traceId);
    for (const span of tree) if (span !== root) expect(descendsFrom(span, root)).toBe(true);

    const children = recorder.children(root);
    const limit = only(children, "ratelimit.limit");
    expect(limit.attributes).toMatchObject({
      "hotpath.ratelimit.allowed": true,
      "hotpath.ratelimit.reason": "allowed",
      "hotpath.ratelimit.policies": ["strict", "plan:free"],
    });
    expect(typeof limit.attributes["hotpath.ratelimit.remaining"]).toBe("number");
    // Two policies, ONE round trip: the multi-policy script.
    const limitTrips = recorder.children(limit);
    expect(limitTrips.map((span) => span.name)).toEqual(["EVALSHA ratelimit.multi-policy"]);
    expect(limitTrips[0]?.attributes).toMatchObject({
      "db.system.name": "redis",
      "db.operation.name": "EVALSHA",
      "db.stored_procedure.name": "ratelimit.multi-policy",
      "hotpath.redis.transport": "tcp",
    });
    expect(limitTrips[0]?.kind).toBe(SpanKind.CLIENT);

    const idempotency = only(children, "idempotency");
    expect(idempotency.attributes).toMatchObject({
      "hotpath.idempotency.store": "api",
      "hotpath.idempotency.outcome": "claimed",
    });
    const beneath = tree.filter((span) => descendsFrom(span, idempotency)).map((s) => s.name);
    expect(beneath).toEqual(
      expect.arrayContaining([
        "EVALSHA idempotency.claim",
        "EVALSHA tip.apply",
        "EVALSHA idempotency.complete",
      ]),
    );
    // No job was needed: the projections were applied inline.
    expect(tree.some((span) => span.name.startsWith("publish "))).toBe(false);

    // Every Redis span is a CLIENT span named by its command alone.
    const trips = tree.filter((span) => span.attributes["db.system.name"] === "redis");
    expect(trips.length).toBeGreaterThanOrEqual(5);
    for (const trip of trips) {
      expect(trip.kind).toBe(SpanKind.CLIENT);
      expect(trip.name).toMatch(/^(PIPELINE|MULTI|[A-Z_]+)( [a-z.:-]+)?$/);
    }
    // No key (they all start with the app prefix), no idempotency key, no session token, no
    // amount. Values are compared one by one, not as one JSON string: a random port such as
    // 34501 in `server.port` holds "450" without being the amount.
    const texts = tree.flatMap((span) => [span.name, ...attributeTexts(span)]);
    for (const secret of [t.app, key, token, "4.5", "450"]) {
      expect(texts.filter((text) => text.includes(secret))).toEqual([]);
    }
    const numbers = tree.flatMap(attributeNumbers);
    expect(numbers.filter((value) => value === 4.5 || value === 450)).toEqual([]);
  });

  it("a replayed tip says replayed; a reused key with another payload says mismatch and carries the 422", async () => {
    const key = `trace-replay-${Date.now()}`;
    expect((await tip(key, 1)).status).toBe(200);
    recorder.reset();
    expect((await tip(key, 1)).status).toBe(200);
    const replay = only(recorder.children(callSpan("tips.quick")), "idempotency");
    expect(replay.attributes["hotpath.idempotency.outcome"]).toBe("replayed");

    recorder.reset();
    expect((await tip(key, 2)).status).toBe(422);
    const root = callSpan("tips.quick");
    expect(root.attributes).toMatchObject({
      "http.response.status_code": 422,
      "trpc.error.code": "UNPROCESSABLE_CONTENT",
    });
    // A client error is not a server failure.
    expect(root.status.code).toBe(SpanStatusCode.UNSET);
    const mismatch = only(recorder.children(root), "idempotency");
    expect(mismatch.attributes["hotpath.idempotency.outcome"]).toBe("mismatch");
    expect(mismatch.attributes["error.type"]).toBe("IDEMPOTENCY_MISMATCH");
  });

  it("a blocked call carries the decision: allowed false, reason limited, remaining 0, and the 429", async () => {
    const dave = await t.login("dave");
    let status = 200;
    for (let i = 0; i < 20 && status !== 429; i++) {
      recorder.reset();
      const response = await t.handler(
        tipRequest(dave, `trace-blocked-${Date.now()}-${i}`, {
          streamId: stream.streamId,
          amount: 1,
        }),
      );
      status = response.status;
      await response.arrayBuffer();
    }
    expect(status).toBe(429);
    const root = callSpan("tips.quick");
    expect(root.attributes["http.response.status_code"]).toBe(429);
    const limit = only(recorder.children(root), "ratelimit.limit");
    expect(limit.attributes).toMatchObject({
      "hotpath.ratelimit.allowed": false,
      "hotpath.ratelimit.reason": "limited",
      "hotpath.ratelimit.remaining": 0,
    });
    expect(limit.attributes["hotpath.ratelimit.retry_after"]).toBeGreaterThanOrEqual(1);
    // Refused before the idempotency claim: nothing else ran.
    expect(recorder.children(root).some((span) => span.name === "idempotency")).toBe(false);
  });

  it("a cached read says how it was served: miss, then hit", async () => {
    // carol's status: never warmed. The cache warm-up (a QStash schedule every minute of wall
    // time) fills the statuses of the top creators (alice and bob, from the seeded tips) in this
    // process, and a request that met its load in flight was "coalesced" instead of "miss".
    const path = `streams.status?input=${encodeURIComponent(JSON.stringify({ username: "carol" }))}`;
    const outcomes: unknown[] = [];
    for (let i = 0; i < 2; i++) {
      recorder.reset();
      const response = await t.handler(
        new Request(`http://api.test/trpc/${path}`, { headers: bearer(token) }),
      );
      expect(response.status).toBe(200);
      await response.arrayBuffer();
      const cache = only(recorder.children(callSpan("streams.status")), "cache.getOrSet");
      expect(cache.attributes["hotpath.cache.namespace"]).toBe("status");
      outcomes.push(cache.attributes["hotpath.cache.outcome"]);
    }
    expect(outcomes).toEqual(["miss", "hit"]);
  });

  it("a tip whose projections wait for a job: the delivery through QStash continues the request's trace", async () => {
    recorder.reset();
    cutAfterNextCommit = true;
    const { status, body } = await tip(`trace-job-${Date.now()}`, 2.25);
    expect(status).toBe(200);
    expect(body.result?.data.projected).toBe(false);
    proxy.restore();
    const root = callSpan("tips.quick");
    const traceId = root.spanContext().traceId;
    await waitUntil(
      async () =>
        (await countPendingOutbox(t.db)) === 0 &&
        recorder
          .spans()
          .some(
            (span) =>
              span.name === "process apply-tip" &&
              span.attributes["http.response.status_code"] === 200,
          ),
      { timeoutMs: 45_000, what: "the apply-tip delivery" },
    );

    const publish = only(recorder.trace(traceId), "publish apply-tip");
    expect(publish.kind).toBe(SpanKind.PRODUCER);
    expect(descendsFrom(publish, root)).toBe(true);
    expect(publish.attributes).toMatchObject({
      "messaging.system": "qstash",
      "messaging.destination.name": "apply-tip",
    });
    const messageId = publish.attributes["messaging.message.id"];
    expect(typeof messageId).toBe("string");

    // Every delivery of the message (a retry while Redis was coming back included) is a child of
    // the publish span, in the same trace.
    const deliveries = recorder.spans().filter((span) => span.name === "process apply-tip");
    expect(deliveries.length).toBeGreaterThanOrEqual(1);
    for (const delivery of deliveries) {
      expect(delivery.kind).toBe(SpanKind.CONSUMER);
      expect(delivery.spanContext().traceId).toBe(traceId);
      expect(delivery.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
      expect(delivery.attributes["messaging.message.id"]).toBe(messageId);
    }
    const done = deliveries.find((span) => span.attributes["http.response.status_code"] === 200);
    const ran = recorder.trace(traceId).filter((span) => done && descendsFrom(span, done));
    expect(ran.map((span) => span.name)).toEqual(
      expect.arrayContaining(["idempotency", "EVALSHA tip.apply"]),
    );
  });
});

/** Every string attribute value of a span (arrays flattened). */
function attributeTexts(span: ReadableSpan): string[] {
  return Object.values(span.attributes)
    .flat()
    .filter((value): value is string => typeof value === "string");
}

/** Every numeric attribute value of a span (arrays flattened). */
function attributeNumbers(span: ReadableSpan): number[] {
  return Object.values(span.attributes)
    .flat()
    .filter((value): value is number => typeof value === "number");
}
