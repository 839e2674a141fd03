import { Command, ReplyError } from "ioredis";

/** An ioredis command whose reply stays raw: upper-case names never match its reply transformers. */
export function rawCommand(args: readonly string[], name: string): Command {
  return new Command(name, args.slice(1), { replyEncoding: null });
}

// ioredis types its ReplyError class as any.
const RedisReplyError = ReplyError as new (message: string) => Error;

/**
 * An error worded and typed as one Redis sent for a command (`ERR …`, `CROSSSLOT …`), for a
 * refusal the client gives in Redis's place: callers treat it as a command error, not an outage.
 */
export function replyError(message: string): Error {
  return new RedisReplyError(message);
}
