import { createHash, randomBytes } from "node:crypto";

/** A new id such as `msg_…` (URL-safe, no `:` so BullMQ accepts it as a job id). */
export function newId(kind: "msg" | "dlq" | "scd"): string {
  return `${kind}_${randomBytes(15).toString("base64url")}`;
}

/** A short stable tenant id derived from its token (the token itself is never stored). */
export function tenantIdOf(token: string): string {
  return createHash("sha256").update(token).digest("hex").slice(0, 16);
}

/** Hex SHA-256 of some bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
