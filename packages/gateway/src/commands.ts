import {
  RedisClientError,
  normaliseCommand,
  type CommandExecutor,
  type ItemReply,
} from "@hotpath/redis/internal";
import { HttpError } from "./responses.ts";

/** Checks that a request body is a non-empty array of commands (the `/pipeline` and `/multi-exec` shape). */
export function asCommandList(body: unknown): unknown[][] {
  if (!Array.isArray(body))
    throw new HttpError(400, 'ERR the body must be a JSON array of commands, e.g. [["get","k"]]');
  if (body.length === 0) throw new HttpError(400, "ERR the pipeline is empty");
  for (let index = 0; index < body.length; index += 1) {
    if (!Array.isArray(body[index])) {
      throw new HttpError(
        400,
        `ERR pipeline item ${index} must be a JSON array (a command), e.g. ["get","k"]`,
      );
    }
  }
  return body as unknown[][];
}

/** Checks that a request body is one command (`POST /`). */
export function asCommand(body: unknown): unknown[] {
  if (!Array.isArray(body))
    throw new HttpError(400, 'ERR the body must be a JSON array (one command), e.g. ["get","k"]');
  return body;
}

/**
 * Runs a pipeline. A command the REST API does not offer (blocking, connection state) becomes
 * that item's error instead of failing the whole batch (auto-pipelining mixes unrelated calls).
 */
export async function runPipeline(
  executor: CommandExecutor,
  commands: unknown[][],
): Promise<ItemReply[]> {
  try {
    return await executor.pipeline(commands);
  } catch (error) {
    if (!(error instanceof RedisClientError) || error.code !== "REDIS_COMMAND_REJECTED")
      throw error;
  }
  // Slow path, only when some command is rejected: run the others, keep the order.
  const replies: (ItemReply | undefined)[] = [];
  const accepted: unknown[][] = [];
  const positions: number[] = [];
  commands.forEach((command, index) => {
    try {
      normaliseCommand(command);
      accepted.push(command);
      positions.push(index);
      replies.push(undefined);
    } catch (error) {
      if (error instanceof RedisClientError && error.code === "REDIS_COMMAND_REJECTED")
        replies.push(error);
      else throw error;
    }
  });
  const results = accepted.length > 0 ? await executor.pipeline(accepted) : [];
  results.forEach((reply, index) => {
    replies[positions[index] as number] = reply;
  });
  return replies as ItemReply[];
}

/** Runs a transaction (MULTI … EXEC) on the executor's dedicated connection. */
export function runMultiExec(
  executor: CommandExecutor,
  commands: unknown[][],
): Promise<ItemReply[]> {
  return executor.multiExec(commands);
}
