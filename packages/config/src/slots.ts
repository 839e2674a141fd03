import calculateSlot from "cluster-key-slot";
import { ConfigError } from "./errors.ts";

/** Number of hash slots of a Redis Cluster. */
export const CLUSTER_SLOT_COUNT = 16_384;

/**
 * The Redis Cluster hash slot of a key: CRC16 of the key, or of its hash tag (the text between
 * the first `{` and the next `}` when that is not empty), modulo 16384.
 * @example keySlot("hotpath:lock:{job:7}") === keySlot("hotpath:count:{job:7}:fence")
 */
export function keySlot(key: string): number {
  return calculateSlot(key);
}

/**
 * The one slot every key is in, `undefined` for no keys; throws when they are in different slots.
 * Call it before sending a script, a MULTI or a multi-key command: on a cluster such a call fails
 * with CROSSSLOT, on a single Redis it works — this makes it fail everywhere, early and clearly.
 * @throws ConfigError CONFIG_CROSS_SLOT naming `what` and each key with its slot.
 * @example guardSlots("cache.read", [entry, lease]) // the slot, or throws
 */
export function guardSlots(what: string, keys: readonly string[]): number | undefined {
  const first = keys[0];
  if (first === undefined) return undefined;
  const slot = keySlot(first);
  for (let i = 1; i < keys.length; i += 1) {
    if (keySlot(keys[i] as string) !== slot) throw crossSlotError(what, keys);
  }
  return slot;
}

function crossSlotError(what: string, keys: readonly string[]): ConfigError {
  const issues = keys.map((key) => ({ field: key, message: `slot ${keySlot(key)}` }));
  const listed = issues.map((issue) => `${issue.field} (${issue.message})`).join(", ");
  return new ConfigError(
    "CONFIG_CROSS_SLOT",
    `${what} touches keys in different Redis Cluster slots: ${listed}. Keys used together need one hash tag (hashTag() in @hotpath/config).`,
    { issues },
  );
}
