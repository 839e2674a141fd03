import { Buffer } from "node:buffer";
import type { Cluster, Redis as IORedis } from "ioredis";
import { rawCommand, replyError } from "./raw-command.ts";
import { SCAN_WITH_TYPE_SCRIPT } from "./scan-with-type.ts";

/*
 * SCAN over a whole Redis Cluster. Each master has its own keyspace and its own SCAN cursor, so
 * a keyless SCAN sent to one node sees that node's keys only. Here one opaque cursor walks every
 * master in turn: "0" starts on the first master (masters ordered by the lowest slot each
 * serves), the cursor returned encodes (master index, that master's cursor) as one decimal
 * number, `index · 2^64 + node cursor` (a Redis cursor is an unsigned 64-bit integer), and "0"
 * comes back only once the last master has finished. On one master the composite cursor equals
 * the node's own. MATCH, COUNT and TYPE go to each node unchanged.
 *
 * Guarantee: as with SCAN on one Redis, a key present for the whole scan is returned at least
 * once (possibly more than once), and pages may be empty before the end — as long as the
 * cluster's masters stay the same. A failover or resharding during a scan changes that master's
 * keyspace and cursor space: keys of the slots it served may be missed or repeated (restart the
 * scan to be sure); a cursor whose master index no longer exists is refused as invalid.
 */

/** Bits of the composite cursor that carry the node's own cursor. */
const NODE_BITS = 64n;
const NODE_MASK = (1n << NODE_BITS) - 1n;
/** Up to 40 digits: any master index a cluster can have (< 16384) times 2^64 fits. */
const CURSOR_TEXT = /^[0-9]{1,40}$/;
/** What Redis answers to a cursor it cannot parse. */
const INVALID_CURSOR = "ERR invalid cursor";

/** A decoded composite cursor: which master, and the cursor to send to it. */
export interface ClusterCursor {
  /** Index into the masters in their stable order. */
  readonly master: number;
  /** The node's own SCAN cursor, as decimal text. */
  readonly node: string;
}

/**
 * The argument index of the cursor of a command that pages through the whole keyspace —
 * `SCAN cursor …` (1) and the gateway's WITHTYPE emulation `EVAL <script> 0 cursor …` (3) —
 * or `undefined` for any other command.
 */
export function scanCursorIndex(args: readonly string[]): number | undefined {
  const name = args[0] ?? "";
  if (name.length !== 4) return undefined;
  const lower = name.toLowerCase();
  if (lower === "scan") return args.length >= 2 ? 1 : undefined;
  if (lower === "eval" && args[1] === SCAN_WITH_TYPE_SCRIPT && args[2] === "0" && args.length >= 4)
    return 3;
  return undefined;
}

/**
 * Decodes a composite cursor for a cluster of `masters` masters.
 * @throws ReplyError `ERR invalid cursor` (as Redis words it) when it is not a decimal number or
 * names a master the cluster does not have: never read as a restart from the beginning.
 */
export function decodeClusterCursor(text: string, masters: number): ClusterCursor {
  if (!CURSOR_TEXT.test(text)) throw replyError(INVALID_CURSOR);
  const value = BigInt(text);
  const master = value >> NODE_BITS;
  if (master >= BigInt(masters)) throw replyError(INVALID_CURSOR);
  return { master: Number(master), node: (value & NODE_MASK).toString() };
}

/**
 * The composite cursor to return after master `master` answered `nodeCursor`: the same master
 * again, the next master from its start when this one finished, or "0" after the last one.
 * @throws ReplyError when the node's cursor is not an unsigned 64-bit decimal number.
 */
export function encodeClusterCursor(master: number, nodeCursor: string, masters: number): string {
  const value = CURSOR_TEXT.test(nodeCursor) ? BigInt(nodeCursor) : -1n;
  if (value < 0n || value > NODE_MASK) {
    throw replyError(`ERR a cluster node answered SCAN with an invalid cursor: ${nodeCursor}`);
  }
  if (value !== 0n) return ((BigInt(master) << NODE_BITS) | value).toString();
  return master + 1 >= masters ? "0" : (BigInt(master + 1) << NODE_BITS).toString();
}

/** The node key ioredis uses for a connection of its pool (`host:port`). */
function nodeKey(node: IORedis): string {
  return `${node.options.host ?? "127.0.0.1"}:${node.options.port ?? 6379}`;
}

/**
 * The cluster's masters ordered by the lowest slot each serves, so the order survives a failover
 * (the promoted replica serves the same slots). Before the first connection, one PING waits for
 * the slot table the way any command would (offline queue and timeout of the cluster).
 */
export async function orderedMasters(cluster: Cluster): Promise<IORedis[]> {
  let masters = cluster.nodes("master");
  if (masters.length === 0) {
    await (cluster.sendCommand(rawCommand(["PING"], "PING")) as Promise<unknown>);
    masters = cluster.nodes("master");
  }
  if (masters.length === 0) throw new Error("the cluster has no reachable master");
  const lowest = new Map<string, number>();
  for (let slot = 0; slot < cluster.slots.length && lowest.size < masters.length; slot += 1) {
    const key = cluster.slots[slot]?.[0];
    if (key !== undefined && !lowest.has(key)) lowest.set(key, slot);
  }
  const rank = (node: IORedis) => lowest.get(nodeKey(node)) ?? Number.MAX_SAFE_INTEGER;
  return [...masters].sort(
    (a, b) => rank(a) - rank(b) || nodeKey(a).localeCompare(nodeKey(b), "en"),
  );
}

/**
 * Runs one page of a whole-cluster scan: `args` with the composite cursor at `cursorAt` (see
 * {@link scanCursorIndex}) goes to the master the cursor names, with that master's own cursor,
 * and the reply's cursor is replaced by the next composite cursor. Resolves with the raw reply
 * (`[cursor bytes, items]`); Redis's errors reject as they are.
 */
export async function clusterScan(
  cluster: Cluster,
  args: readonly string[],
  cursorAt: number,
  name: string,
): Promise<unknown> {
  const masters = await orderedMasters(cluster);
  const cursor = decodeClusterCursor(args[cursorAt] ?? "", masters.length);
  const nodeArgs = [...args];
  nodeArgs[cursorAt] = cursor.node;
  const node = masters[cursor.master] as IORedis;
  const reply = await (node.sendCommand(rawCommand(nodeArgs, name)) as Promise<unknown>);
  if (!Array.isArray(reply) || reply.length !== 2) {
    throw replyError("ERR a cluster node answered SCAN with an unexpected reply");
  }
  const next = encodeClusterCursor(cursor.master, String(reply[0]), masters.length);
  return [Buffer.from(next), reply[1]];
}
