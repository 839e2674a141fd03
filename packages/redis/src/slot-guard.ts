import { guardSlots } from "@hotpath/config";
import { exists, getKeyIndexes } from "@ioredis/commands";
import { errors, type Requester, type UpstashRequest, type UpstashResponse } from "@upstash/redis";

/**
 * The keys of one Upstash-shaped command (`["EVALSHA", sha, 2, k1, k2, …]`), from the command
 * table ioredis ships (numkeys of scripts and ZUNIONSTORE-like commands included).
 */
export function commandKeys(command: readonly unknown[]): string[] {
  const name = typeof command[0] === "string" ? command[0].toLowerCase() : "";
  if (!exists(name)) return [];
  const args = command.slice(1).map(String);
  try {
    return getKeyIndexes(name, args).map((index) => args[index] as string);
  } catch {
    return [];
  }
}

/**
 * Checks that a request could run on Redis Cluster before sending it: every command's keys in one
 * slot, and every key of a `/multi-exec` transaction in one slot (a `/pipeline` may span slots).
 * @throws ConfigError CONFIG_CROSS_SLOT (from `guardSlots`) naming the command and its keys.
 */
export function guardRequestSlots(req: UpstashRequest): void {
  const endpoint = req.path?.[0];
  const body = req.body as readonly unknown[];
  if (endpoint === undefined || endpoint === "") {
    guardSlots(String(body[0]), commandKeys(body));
  } else if (endpoint === "pipeline") {
    for (const command of body as readonly (readonly unknown[])[]) {
      guardSlots(String(command[0]), commandKeys(command));
    }
  } else if (endpoint === "multi-exec") {
    const commands = body as readonly (readonly unknown[])[];
    guardSlots(
      `MULTI (${commands.map((command) => String(command[0])).join(", ")})`,
      commands.flatMap(commandKeys),
    );
  }
}

/**
 * A `Requester` that refuses, before sending, what Redis Cluster would refuse with CROSSSLOT (see
 * {@link guardRequestSlots}), so a single Redis in development and tests catches it. The refusal
 * reads as the command error a cluster gives (`CROSSSLOT …, command was: …`, as the REST and TCP
 * transports word a command Redis refused), with the config error as its cause.
 */
export class SlotGuardRequester implements Requester {
  readonly #inner: Requester;

  constructor(inner: Requester) {
    this.#inner = inner;
  }

  request<TResult = unknown>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
    try {
      guardRequestSlots(req);
    } catch (error) {
      return Promise.reject(
        new errors.UpstashError(
          `CROSSSLOT ${(error as Error).message}, command was: ${JSON.stringify(req.body)}`,
          { cause: error },
        ),
      );
    }
    return this.#inner.request<TResult>(req);
  }
}
