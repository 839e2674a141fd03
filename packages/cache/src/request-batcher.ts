import type { Requester } from "@upstash/redis";
import { RedisUnavailableError } from "./errors.ts";

/** One command's reply as a REST endpoint gives it: `{ result }` or `{ error }`. */
export type ReplyItem = { result?: unknown; error?: string };

/** Sends one command's body; resolves with its reply item. */
export type SendCommand = (body: string[]) => Promise<unknown>;

// After the current microtasks (so the continuations of one wave of replies join one batch);
// `queueMicrotask` where there is no `process` (edge runtimes).
const afterThisTick: (fn: () => void) => void =
  typeof process !== "undefined" && typeof process.nextTick === "function"
    ? (fn) => process.nextTick(fn)
    : (fn) => queueMicrotask(fn);

/**
 * Over REST every request is an HTTP round trip: commands sent in the same tick (concurrent
 * callers of one instance) go as one `/pipeline` request, each caller receiving its own reply
 * item; a command alone in its tick goes as the plain request it always was. Over TCP the
 * connection already coalesces writes, so this is for REST only.
 */
export function createRequestBatcher(requester: Requester): SendCommand {
  let queue: { body: string[]; resolve: (item: unknown) => void; reject: (e: unknown) => void }[] =
    [];
  const flush = () => {
    const batch = queue;
    queue = [];
    const first = batch[0];
    if (batch.length === 1 && first) {
      requester.request<unknown>({ body: first.body }).then(first.resolve, first.reject);
      return;
    }
    requester.request<unknown>({ body: batch.map((item) => item.body), path: ["pipeline"] }).then(
      (response) => {
        if (!Array.isArray(response) || response.length !== batch.length) {
          const error = new RedisUnavailableError("CACHE_REDIS_ERROR", "Malformed pipeline reply");
          for (const item of batch) item.reject(error);
          return;
        }
        batch.forEach((item, n) => item.resolve(response[n] as ReplyItem));
      },
      (error: unknown) => {
        for (const item of batch) item.reject(error);
      },
    );
  };
  return (body) =>
    new Promise((resolve, reject) => {
      if (queue.push({ body, resolve, reject }) === 1) afterThisTick(flush);
    });
}
