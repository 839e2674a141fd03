import { RedisClientError } from "./errors.ts";

/** One Redis command as the Upstash REST API carries it: `["set", "k", "v", "ex", 10]`. */
export type CommandArgs = readonly (string | number | boolean)[];

// Commands that would block or change the state of a shared connection: the Upstash REST API
// does not offer them either (pub/sub has SSE endpoints, transactions have /multi-exec).
const REJECTED: ReadonlyMap<string, string> = new Map([
  ...[
    "blpop",
    "brpop",
    "brpoplpush",
    "blmove",
    "blmpop",
    "bzpopmin",
    "bzpopmax",
    "bzmpop",
    "wait",
    "waitaof",
  ].map((name) => [name, "blocking commands are not supported over the REST API"] as const),
  ...[
    "select",
    "auth",
    "hello",
    "reset",
    "quit",
    "client",
    "monitor",
    "sync",
    "psync",
    "replicaof",
    "slaveof",
  ].map((name) => [name, "connection-state commands are not supported over the REST API"] as const),
  ...["multi", "exec", "discard", "watch", "unwatch"].map(
    (name) => [name, "use the /multi-exec endpoint (redis.multi()) for transactions"] as const,
  ),
  ...["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"].map(
    (name) =>
      [
        name,
        "use the /subscribe and /psubscribe endpoints (redis.subscribe()) for pub/sub",
      ] as const,
  ),
]);

/**
 * Checks the shape of a command from an untrusted source (JSON body) and returns it normalised
 * to strings. Numbers become their decimal text, booleans `"true"`/`"false"`.
 * @throws RedisClientError REDIS_BAD_COMMAND (shape) or REDIS_COMMAND_REJECTED (unsupported command).
 */
export function normaliseCommand(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0) {
    throw new RedisClientError(
      "REDIS_BAD_COMMAND",
      'A command must be a non-empty JSON array, e.g. ["get","key"]',
    );
  }
  // Hot path: an all-string command (what the SDKs send for most calls) is used as it is;
  // a copy is made only from the first argument that needs converting.
  let converted: string[] | undefined;
  for (let index = 0; index < value.length; index += 1) {
    const arg: unknown = value[index];
    if (typeof arg === "string") {
      converted?.push(arg);
      continue;
    }
    converted ??= value.slice(0, index) as string[];
    converted.push(argumentText(arg, index));
  }
  const args = converted ?? (value as string[]);
  const name = (args[0] ?? "").toLowerCase();
  if (name === "")
    throw new RedisClientError("REDIS_BAD_COMMAND", "The command name must not be empty");
  const rejection = REJECTED.get(name);
  if (rejection)
    throw new RedisClientError("REDIS_COMMAND_REJECTED", `ERR ${name.toUpperCase()}: ${rejection}`);
  if (isBlockingStreamRead(name, args)) {
    throw new RedisClientError(
      "REDIS_COMMAND_REJECTED",
      `ERR ${name.toUpperCase()} BLOCK: blocking commands are not supported over the REST API`,
    );
  }
  return args;
}

function argumentText(arg: unknown, index: number): string {
  if (typeof arg === "string") return arg;
  if (typeof arg === "number" && Number.isFinite(arg)) return String(arg);
  if (typeof arg === "boolean") return arg ? "true" : "false";
  throw new RedisClientError(
    "REDIS_BAD_COMMAND",
    `Command argument ${index} must be a string, a finite number or a boolean (got ${arg === null ? "null" : typeof arg})`,
  );
}

function isBlockingStreamRead(name: string, args: readonly string[]): boolean {
  return (
    (name === "xread" || name === "xreadgroup") && args.some((a) => a.toLowerCase() === "block")
  );
}
