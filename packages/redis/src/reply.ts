import { Buffer } from "node:buffer";

/**
 * A raw RESP2 reply as the executor returns it: bulk and simple strings as bytes, integers as
 * their exact decimal digits, nil as `null`, arrays nested, and errors inside arrays (EXEC,
 * pipelines) as `Error`s.
 */
export type RawReply = Buffer | IntegerReply | null | Error | readonly RawReply[];

/** An integer reply, kept as exact digits (Redis integers can exceed 2^53). */
export class IntegerReply {
  /** The exact decimal digits. */
  readonly digits: string;
  constructor(digits: string) {
    this.digits = digits;
  }
  /** The value as a JS number (lossy above 2^53, as JSON.parse would be). */
  toNumber(): number {
    return Number(this.digits);
  }
}

const OK = Buffer.from("OK");

/**
 * Converts a raw reply to the JS value the Upstash REST API's JSON decodes to, without base64:
 * strings as UTF-8 (invalid bytes become U+FFFD), integers as numbers, nil as null.
 */
export function replyToValue(reply: RawReply): unknown {
  if (reply === null) return null;
  if (reply instanceof IntegerReply) return reply.toNumber();
  if (Buffer.isBuffer(reply)) return reply.toString("utf8");
  if (reply instanceof Error) return reply.message;
  return reply.map(replyToValue);
}

/**
 * Serialises a raw reply to the JSON text of the Upstash REST API's `result` field.
 * With `base64`, every string at every depth is base64 of its bytes, except a top-level `OK`
 * (the SDK decodes array elements unconditionally, so an `OK` inside an array is encoded too).
 */
export function replyToJson(reply: RawReply, base64: boolean, topLevel = true): string {
  if (reply === null) return "null";
  if (reply instanceof IntegerReply) return reply.digits;
  if (Buffer.isBuffer(reply)) {
    if (!base64) return JSON.stringify(reply.toString("utf8"));
    if (topLevel && reply.equals(OK)) return '"OK"';
    return `"${reply.toString("base64")}"`;
  }
  // An error nested in an array (Lua `{1, redis.error_reply(..)}`) is a string to the SDK, which
  // base64-decodes every array element: encode its text like any other string.
  if (reply instanceof Error) return replyToJson(Buffer.from(reply.message), base64, topLevel);
  return `[${reply.map((item) => replyToJson(item, base64, false)).join(",")}]`;
}
