/**
 * Realistic, bounded load through the API's typed client, so the dashboard has something true to
 * show: cache hits and misses (repeated and unknown ids, stream status), bursts that trip the
 * strict `tips:quick` limit, duplicate idempotent tips (replays), and background jobs: the viewers
 * follow the creators, so every tip fans out to their followers through QStash (`notify-follower`
 * jobs in one batch) and the Jobs view moves; viewers read their notifications. Loopback only.
 */
import { createHotpathClient, isHotpathClientError, type HotpathClient } from "@hotpath/api/client";
import { setTimeout as sleep } from "node:timers/promises";

/** Options of {@link runTraffic}. */
export interface TrafficOptions {
  /** Base URL of the API (`http://127.0.0.1:3000`); must be a loopback address. */
  apiUrl: string;
  /** Stops after this long. @default 60 s */
  durationMs?: number;
  /** Stops after this many API calls. @default 3000 */
  maxRequests?: number;
  /** A burst of tips from one viewer every this many ms (first one at the start). @default 20 s */
  burstEveryMs?: number;
  /** Tips per burst (the strict policy allows 10 per minute). @default 14 */
  burstSize?: number;
  /** A tip sent three times with one Idempotency-Key every this many ms. @default 15 s */
  duplicateEveryMs?: number;
  /** Pause between read rounds. @default 1000 ms */
  pauseMs?: number;
  /** Demo login (seeded by the API). */
  viewers?: readonly { username: string; password: string }[];
  /** Viewers follow the creators (tips then fan out as jobs). @default true */
  follow?: boolean;
  /** Creators whose streams get status reads and tips. */
  creators?: readonly string[];
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  signal?: AbortSignal;
}

/** What {@link runTraffic} did, counted client-side. */
export interface TrafficReport {
  requests: number;
  ok: number;
  /** Calls refused with TOO_MANY_REQUESTS. */
  rateLimited: number;
  /** Reads of cacheable procedures (users.byId, users.list, streams.status). */
  cacheReads: number;
  /** Reads of ids that do not exist (cache misses, then negative hits). */
  unknownIdReads: number;
  tipsSent: number;
  /** Repeats of a tip with the same Idempotency-Key. */
  duplicateTips: number;
  /** Follows made (a viewer following a creator), so tips fan out as jobs. */
  follows: number;
  /** Reads of a viewer's notifications (written by the fan-out jobs). */
  notificationReads: number;
  /** Idempotency conflicts (409: first request still in flight). */
  conflicts: number;
  /** Other errors, by tRPC code. */
  errors: Record<string, number>;
  elapsedMs: number;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);
// Four of the seeded users (the AUTH policy allows 5 logins per minute per IP: one is left over).
// Reads rotate over all of them so the moderate read policy (60/min each) is mostly allowed; the
// first one bursts tips (blocked by the strict policy), the second one repeats idempotent tips.
const DEFAULT_VIEWERS = ["dave", "erin", "alice", "bob"].map((username) => ({
  username,
  password: "hotpath-demo",
}));

/** Throws unless `apiUrl` points at this machine (the generator never loads anything else). */
export function assertLoopback(apiUrl: string): URL {
  const url = new URL(apiUrl);
  if (!LOOPBACK.has(url.hostname)) {
    throw new Error(
      `demo traffic only targets loopback; ${url.hostname} is not 127.0.0.1, ::1 or localhost`,
    );
  }
  return url;
}

/** Drives the load until the time or request budget runs out; never throws on API errors. */
export async function runTraffic(options: TrafficOptions): Promise<TrafficReport> {
  const base = assertLoopback(options.apiUrl);
  const trpcUrl = new URL("/trpc", base).toString();
  const durationMs = options.durationMs ?? 60_000;
  const maxRequests = options.maxRequests ?? 3000;
  const burstEveryMs = options.burstEveryMs ?? 20_000;
  const burstSize = options.burstSize ?? 14;
  const duplicateEveryMs = options.duplicateEveryMs ?? 15_000;
  const pauseMs = options.pauseMs ?? 1000;
  const creators = options.creators ?? ["alice", "bob", "carol"];
  const log = options.log ?? (() => undefined);
  const started = Date.now();
  const deadline = started + durationMs;
  const report: TrafficReport = {
    requests: 0,
    ok: 0,
    rateLimited: 0,
    cacheReads: 0,
    unknownIdReads: 0,
    tipsSent: 0,
    duplicateTips: 0,
    follows: 0,
    notificationReads: 0,
    conflicts: 0,
    errors: {},
    elapsedMs: 0,
  };
  const budgetLeft = () =>
    report.requests < maxRequests && Date.now() < deadline && !options.signal?.aborted;

  /** One counted call: never throws, returns the value or undefined. */
  async function call<T>(run: () => Promise<T>): Promise<T | undefined> {
    report.requests += 1;
    try {
      const value = await run();
      report.ok += 1;
      return value;
    } catch (error) {
      // A client error without tRPC data means no (valid) HTTP answer at all.
      const code = isHotpathClientError(error) ? (error.data?.code ?? "NETWORK") : "UNEXPECTED";
      if (code === "TOO_MANY_REQUESTS") report.rateLimited += 1;
      else if (code === "CONFLICT") report.conflicts += 1;
      else report.errors[code] = (report.errors[code] ?? 0) + 1;
      return undefined;
    }
  }

  const anonymous = createHotpathClient({ url: trpcUrl });
  const viewers: HotpathClient[] = [];
  const viewerIds: number[] = [];
  for (const viewer of options.viewers ?? DEFAULT_VIEWERS) {
    const session = await call(() => anonymous.sessions.login.mutate(viewer));
    if (session) {
      viewerIds.push(session.user.id);
      viewers.push(
        createHotpathClient({
          url: trpcUrl,
          headers: { authorization: `Bearer ${session.token}` },
        }),
      );
    }
  }
  const liveStreams: number[] = [];
  const creatorIds: number[] = [];
  for (const username of creators) {
    const status = await call(() => anonymous.streams.status.query({ username }));
    if (status) creatorIds.push(status.creator.id);
    if (status?.live && status.stream) liveStreams.push(status.stream.id);
  }
  // Follows are idempotent: a second run changes nothing. Nobody follows themselves.
  if (options.follow ?? true) {
    for (const [i, viewer] of viewers.entries()) {
      for (const creatorId of creatorIds) {
        if (creatorId === viewerIds[i] || !budgetLeft()) continue;
        if (await call(() => viewer.users.follow.mutate({ creatorId }))) report.follows += 1;
      }
    }
  }
  log(
    `demo traffic: ${viewers.length} viewer session(s), live streams ${liveStreams.join(", ") || "none"}, ${report.follows} follow(s)`,
  );

  // The stream follows from the key, so a repeated key always repeats the same payload (a replay, not a 422).
  const streamFor = (key: string) =>
    liveStreams[
      [...key].reduce((h, ch) => (h * 31 + ch.charCodeAt(0)) >>> 0, 7) % liveStreams.length
    ];
  const tip = (client: HotpathClient, key: string, amount: number) => {
    const streamId = streamFor(key);
    if (streamId === undefined) return Promise.resolve(undefined);
    return call(() =>
      client.tips.quick.mutate({ streamId, amount }, { context: { idempotencyKey: key } }),
    );
  };

  let nextBurst = started;
  let nextDuplicate = started;
  let round = 0;
  while (budgetLeft()) {
    round += 1;
    const reads: Promise<unknown>[] = [];
    const reader = viewers[round % Math.max(1, viewers.length)] ?? anonymous;
    // Hot ids: hits after the first read. An unknown id now and then: a miss, then negative hits.
    for (const id of [1, 2, 3, 1 + (round % 5)])
      reads.push(call(() => reader.users.byId.query({ id })));
    if (round % 4 === 0) {
      report.unknownIdReads += 1;
      reads.push(call(() => reader.users.byId.query({ id: 100_000 + (round % 7) })));
    }
    const creator = creators[round % creators.length];
    if (creator) reads.push(call(() => anonymous.streams.status.query({ username: creator })));
    if (round % 3 === 0) reads.push(call(() => reader.users.list.query({ page: 1 + (round % 2) })));
    if (round % 5 === 0 && reader !== anonymous) {
      report.notificationReads += 1;
      reads.push(call(() => reader.users.notifications.query({ n: 10 })));
    }
    report.cacheReads += reads.length;
    await Promise.all(reads);

    const burster = viewers[0];
    if (burster && liveStreams.length > 0 && Date.now() >= nextBurst && budgetLeft()) {
      nextBurst = Date.now() + burstEveryMs;
      const before = report.rateLimited;
      report.tipsSent += burstSize;
      await Promise.all(
        Array.from({ length: burstSize }, (_, i) =>
          tip(burster, `burst-${started}-${round}-${i}`, 1 + (i % 5)),
        ),
      );
      log(`burst of ${burstSize} tips: ${report.rateLimited - before} rate-limited`);
    }
    const duplicator = viewers[1] ?? viewers[0];
    if (duplicator && liveStreams.length > 0 && Date.now() >= nextDuplicate && budgetLeft()) {
      nextDuplicate = Date.now() + duplicateEveryMs;
      const key = `dup-${started}-${round}`;
      report.tipsSent += 1;
      report.duplicateTips += 2;
      await tip(duplicator, key, 2.5);
      await tip(duplicator, key, 2.5);
      await tip(duplicator, key, 2.5);
    }
    if (round % 20 === 0) log(`${report.requests} calls, ${report.rateLimited} rate-limited`);
    await sleep(pauseMs, undefined, { signal: options.signal }).catch(() => undefined);
  }
  report.elapsedMs = Date.now() - started;
  return report;
}
