import { KEY_AREAS } from "@hotpath/config";
import type { ApiRedis } from "../trpc/deps.ts";

/** Memory of one key area, measured with `MEMORY USAGE` on a sample of its keys. */
export interface AreaMemory {
  /** Keys of the area measured (those still present when measured). */
  measuredKeys: number;
  /** Bytes of the measured keys, as Redis reports them. */
  measuredBytes: number;
  /** Measured bytes per key times the keys of the area in the SCAN sample. */
  estimatedBytes: number;
}

/** Memory per area, or why it could not be measured on this transport. */
export type KeyspaceMemory =
  | {
      available: true;
      /** Most keys measured per area. */
      keysPerArea: number;
      areas: Record<string, AreaMemory>;
    }
  | { available: false; reason: string };

/** Key counts by area and group from a bounded SCAN sample, with memory measured per area. */
export interface KeyDistribution {
  /** Keys examined. */
  sampled: number;
  /** True when SCAN went through the whole keyspace (the counts are exact). */
  complete: boolean;
  byArea: Record<string, number>;
  byGroup: Record<string, number>;
  memory: KeyspaceMemory;
  /** ISO time of the sample. */
  at: string;
}

/** Options of {@link sampleKeyDistribution}. */
export interface KeySampleOptions {
  /** Upper bound of keys examined (SCAN stops after it). */
  sample: number;
  /** Keys measured with `MEMORY USAGE` per area. @default 32 */
  memoryKeysPerArea?: number;
}

function areaOf(key: string): { area: string; group: string } {
  const [, area = "?", group = ""] = key.split(":");
  const areaName = (KEY_AREAS as readonly string[]).includes(area) ? area : "other";
  // Session keys end in the session id: never a group (nor shown anywhere).
  const groupName =
    areaName === "session" ? "session" : `${areaName}:${group.replace(/[{}]/g, "") || "-"}`;
  return { area: areaName, group: groupName };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * `MEMORY USAGE` of each sampled key in one pipeline. Refused by the transport (a REST service
 * without the command, a gateway that blocks it): not available, with the server's reason — never
 * an invented number.
 */
async function measureMemory(
  redis: ApiRedis,
  samples: ReadonlyMap<string, readonly string[]>,
  keysPerArea: number,
): Promise<KeyspaceMemory> {
  const commands: string[][] = [];
  const areaOfCommand: string[] = [];
  for (const [area, keys] of samples) {
    for (const key of keys) {
      commands.push(["MEMORY", "USAGE", key]);
      areaOfCommand.push(area);
    }
  }
  const areas: Record<string, AreaMemory> = {};
  if (commands.length === 0) return { available: true, keysPerArea, areas };
  let replies: { result?: unknown; error?: string }[];
  try {
    replies = (await redis.requester.request({ path: ["pipeline"], body: commands })) as {
      result?: unknown;
      error?: string;
    }[];
  } catch (error) {
    return { available: false, reason: `MEMORY USAGE refused: ${errorText(error)}` };
  }
  const firstError = replies.find((reply) => reply.error !== undefined)?.error;
  if (firstError !== undefined && replies.every((reply) => reply.error !== undefined)) {
    return { available: false, reason: `MEMORY USAGE refused: ${firstError}` };
  }
  replies.forEach((reply, index) => {
    const bytes = Number(reply.result);
    const area = areaOfCommand[index] ?? "other";
    // null: the key expired between SCAN and MEMORY USAGE; errors: not measured.
    if (reply.result === null || reply.result === undefined || !Number.isFinite(bytes)) return;
    const entry = (areas[area] ??= { measuredKeys: 0, measuredBytes: 0, estimatedBytes: 0 });
    entry.measuredKeys += 1;
    entry.measuredBytes += bytes;
  });
  return { available: true, keysPerArea, areas };
}

/**
 * Key counts by area (and by group within the area) from a bounded SCAN sample, and memory per
 * area: `MEMORY USAGE` of up to `memoryKeysPerArea` keys of each area, extrapolated to the area's
 * keys in the sample (the sample sizes are part of the answer).
 */
export async function sampleKeyDistribution(
  redis: ApiRedis,
  app: string,
  options: KeySampleOptions,
): Promise<KeyDistribution> {
  const keysPerArea = options.memoryKeysPerArea ?? 32;
  const byArea: Record<string, number> = {};
  const byGroup: Record<string, number> = {};
  const samples = new Map<string, string[]>();
  let cursor = "0";
  let seen = 0;
  let rounds = 0;
  do {
    const [next, keys] = await redis.scan(cursor, { match: `${app}:*`, count: 500 });
    cursor = String(next);
    for (const key of keys) {
      const { area, group } = areaOf(key);
      byArea[area] = (byArea[area] ?? 0) + 1;
      byGroup[group] = (byGroup[group] ?? 0) + 1;
      let sample = samples.get(area);
      if (!sample) samples.set(area, (sample = []));
      if (sample.length < keysPerArea) sample.push(key);
    }
    seen += keys.length;
    rounds += 1;
  } while (cursor !== "0" && seen < options.sample && rounds < 1000);
  const memory = await measureMemory(redis, samples, keysPerArea);
  if (memory.available) {
    for (const [area, entry] of Object.entries(memory.areas)) {
      entry.estimatedBytes = Math.round(
        (entry.measuredBytes / entry.measuredKeys) * (byArea[area] ?? entry.measuredKeys),
      );
    }
  }
  return {
    sampled: seen,
    complete: cursor === "0",
    byArea,
    byGroup,
    memory,
    at: new Date().toISOString(),
  };
}
