import { exists, hasFlag } from "@ioredis/commands";
import type { UpstashRequest } from "@upstash/redis";

// Commands without Redis's `readonly` flag that change nothing either.
const ALSO_READ_ONLY = new Set(["ping", "echo", "time"]);

/**
 * True for a command that only reads (Redis's own `readonly` command flag, from the command
 * table ioredis ships): sending it twice cannot change anything.
 */
export function isReadOnlyCommand(command: unknown): boolean {
  if (!Array.isArray(command) || typeof command[0] !== "string") return false;
  const name = command[0].toLowerCase();
  if (ALSO_READ_ONLY.has(name)) return true;
  return exists(name) && hasFlag(name, "readonly");
}

/**
 * True when a whole REST request only reads: one read-only command (`/`), or a pipeline or
 * transaction of read-only commands only. Subscriptions and anything unknown count as writes.
 */
export function isReadOnlyRequest(req: UpstashRequest): boolean {
  const endpoint = req.path?.[0];
  if (endpoint === undefined || endpoint === "") return isReadOnlyCommand(req.body);
  if (endpoint !== "pipeline" && endpoint !== "multi-exec") return false;
  return Array.isArray(req.body) && req.body.length > 0 && req.body.every(isReadOnlyCommand);
}
