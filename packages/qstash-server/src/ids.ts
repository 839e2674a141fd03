import { createHash, randomUUID } from "node:crypto";

/**
 * A new id such as `msg_…` (122 random bits; no `:` so BullMQ accepts it as a job id).
 * randomUUID draws from a cached entropy pool: far cheaper per call than randomBytes.
 */
export function newId(kind: "msg" | "dlq" | "scd"): string {
  return `${kind}_${randomUUID().replaceAll("-", "")}`;
}

/** A short stable tenant id derived from its token (the token itself is never stored). */
export function tenantIdOf(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 16);
}

/** Hex SHA-256 of some bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
