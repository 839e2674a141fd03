import { Buffer } from "node:buffer";
import { keySlot } from "@hotpath/config";
import { Cluster, type Pipeline, type RedisOptions } from "ioredis";
import { clusterScan, scanCursorIndex } from "./cluster-scan.ts";
import type { ClusterUrl } from "./cluster-url.ts";
import { rawCommand, replyError } from "./raw-command.ts";
import { commandKeys } from "./slot-guard.ts";

/** A command ready to send, and the answer SCRIPT LOAD must give instead of Redis's (if any). */
export interface PreparedCommand {
  args: string[];
  loadAnswer?: string;
}

/** One outcome per command: the raw reply, or the error Redis gave it. */
type Outcome = [Error | null, unknown];

/** An ioredis Cluster over the seeds of a cluster URL, each node connection with `options`. */
export function clusterClient(url: ClusterUrl, options: RedisOptions): Cluster {
  const { enableOfflineQueue, lazyConnect, ...nodeOptions } = options;
  return new Cluster(url.seeds, {
    enableOfflineQueue,
    lazyConnect,
    scaleReads: "master",
    // Slots move on failover: follow MOVED/ASK, and retry while the cluster says it is down.
    maxRedirections: 16,
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    clusterRetryStrategy: (times) => Math.min(50 * 2 ** times, 500),
    redisOptions: {
      ...nodeOptions,
      username: url.username,
      password: url.password,
      ...(url.tls ? { tls: {} } : {}),
    },
  });
}

/** The reply Redis Cluster gives a command or transaction whose keys hash to several slots. */
const CROSSSLOT_MESSAGE = "CROSSSLOT Keys in request don't hash to the same slot";

/** The refusal of SCAN inside MULTI on a cluster (see {@link clusterMultiExec}). */
const SCAN_IN_MULTI_MESSAGE =
  "ERR SCAN cannot run inside MULTI on a Redis Cluster: its cursor pages through every master, run it outside the transaction";

function slotOf(args: readonly string[]): number | undefined {
  const keys = commandKeys(args);
  return keys[0] === undefined ? undefined : keySlot(keys[0]);
}

/** True when one command's own keys hash to more than one slot (MGET a b of two slots). */
function spansSlots(args: readonly string[]): boolean {
  const keys = commandKeys(args);
  if (keys.length < 2) return false;
  const first = keySlot(keys[0] as string);
  return keys.some((key) => keySlot(key) !== first);
}

async function runBatch(
  cluster: Cluster,
  batch: readonly PreparedCommand[],
  name: (command: string) => string,
  transaction: boolean,
): Promise<Outcome[] | null> {
  // ioredis types pipeline()/multi() as its chainable commands; both are a Pipeline.
  const pipe = (transaction ? cluster.multi() : cluster.pipeline()) as unknown as Pipeline;
  for (const { args } of batch) pipe.sendCommand(rawCommand(args, name(args[0] ?? "")));
  return await pipe.exec();
}

/**
 * A pipeline on a cluster: the commands of each slot go as one ioredis pipeline to that slot's
 * node (in request order, re-sent together on MOVED), slots in parallel; replies come back in
 * request order. Commands without keys go to any node, except SCAN, which pages through every
 * master (see cluster-scan.ts); a command whose own keys span slots gets the CROSSSLOT error
 * Redis gives it, the others still run.
 */
export async function clusterPipeline(
  cluster: Cluster,
  prepared: readonly PreparedCommand[],
  name: (command: string) => string,
): Promise<Outcome[]> {
  const groups = new Map<number | undefined, number[]>();
  const outcomes: Outcome[] = new Array<Outcome>(prepared.length);
  const scans: Promise<void>[] = [];
  prepared.forEach(({ args }, index) => {
    const cursorAt = scanCursorIndex(args);
    if (cursorAt !== undefined) {
      scans.push(
        clusterScan(cluster, args, cursorAt, name(args[0] ?? "")).then(
          (reply) => void (outcomes[index] = [null, reply]),
          (error: unknown) => void (outcomes[index] = [asError(error), null]),
        ),
      );
      return;
    }
    // ioredis would fail the whole pipeline for it: answer that one command as Redis does.
    if (spansSlots(args)) {
      outcomes[index] = [replyError(CROSSSLOT_MESSAGE), null];
      return;
    }
    const slot = slotOf(args);
    const group = groups.get(slot);
    if (group) group.push(index);
    else groups.set(slot, [index]);
  });
  await Promise.all([
    ...scans,
    ...[...groups.values()].map(async (indexes) => {
      const replies = await runBatch(
        cluster,
        indexes.map((i) => prepared[i] as PreparedCommand),
        name,
        false,
      );
      indexes.forEach((i, n) => (outcomes[i] = replies?.[n] ?? [null, null]));
    }),
  ]);
  return outcomes;
}

/**
 * A transaction on a cluster: MULTI … EXEC on the node of the commands' one slot. Keys of several
 * slots are refused before sending with the CROSSSLOT reply Redis gives (ioredis would throw a
 * plain Error, read as an outage); so is SCAN, whose cursor spans every master (one node's page
 * inside a transaction would silently miss the others). `null` when the transaction was discarded.
 */
export async function clusterMultiExec(
  cluster: Cluster,
  prepared: readonly PreparedCommand[],
  name: (command: string) => string,
): Promise<Outcome[] | null> {
  if (prepared.some(({ args }) => scanCursorIndex(args) !== undefined)) {
    throw replyError(SCAN_IN_MULTI_MESSAGE);
  }
  const slots = new Set(prepared.map(({ args }) => slotOf(args)));
  slots.delete(undefined);
  const keys = prepared.flatMap(({ args }) => commandKeys(args));
  if (slots.size > 1 || new Set(keys.map(keySlot)).size > 1) {
    throw replyError(CROSSSLOT_MESSAGE);
  }
  return runBatch(cluster, prepared, name, true);
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A reply as the executor returns it: the SCRIPT LOAD answer when one is set. */
export function withLoadAnswer(reply: unknown, loadAnswer: string | undefined): unknown {
  return loadAnswer === undefined ? reply : Buffer.from(loadAnswer);
}
