import type { Redis, Requester } from "@upstash/redis";
import { withTimeout as withDeadline } from "@hotpath/redis/timeout";
import { nameScript } from "@hotpath/redis/tracing";
import { RedisUnavailableError } from "./errors.ts";
import { createRequestBatcher, type SendCommand } from "./request-batcher.ts";

/**
 * An `@upstash/redis` client created by `createRedis` of `@hotpath/redis` (a `HotpathRedis`, over
 * REST or TCP): the wire sends through the `Requester` it exposes as `requester`.
 */
export type RedisClient = Redis;

/** A command argument as sent on the wire. */
export type WireArg = string | number;

/** A Lua script with its lazily computed SHA-1 (EVALSHA first, EVAL when Redis does not know it). */
export interface LuaScript {
  /** The Lua source. */
  readonly source: string;
  /** Hex SHA-1 of the source (computed with Web Crypto). */
  sha(): Promise<string>;
  /** The SHA-1 once computed (lets the hot path skip an await). */
  readonly knownSha: string | undefined;
}

/**
 * Defines a {@link LuaScript}; `name` is how traces show its round trips (`EVALSHA <name>`).
 */
export function defineScript(source: string, name: string): LuaScript {
  void nameScript(source, name);
  let sha: Promise<string> | undefined;
  let known: string | undefined;
  return {
    source,
    sha() {
      sha ??= sha1Hex(source).then((value) => (known = value));
      return sha;
    },
    get knownSha() {
      return known;
    },
  };
}

async function sha1Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-1", new TextEncoder().encode(text));
  return hex(new Uint8Array(digest));
}

/** Lower-case hex of bytes. */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

/** One item of {@link Wire.pipeline}: a plain command or a script call. */
export type PipelineItem =
  readonly WireArg[] | { script: LuaScript; keys: readonly string[]; args: readonly WireArg[] };

/** One reply of a pipeline: the value, or the error Redis gave that command. */
export type PipelineReply = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Raw command execution on an `@upstash/redis` client's `Requester` (the same object the SDK
 * sends its commands through, over REST or TCP): replies come back undecoded (no automatic
 * JSON parsing), every call is bounded by `timeoutMs`, and failures become
 * {@link RedisUnavailableError}.
 */
export interface Wire {
  /** Per-call timeout in ms. */
  readonly timeoutMs: number;
  /** Runs one command (one round trip); `map` transforms the reply in the same promise step. */
  command(args: readonly WireArg[]): Promise<unknown>;
  command<R>(args: readonly WireArg[], map: (reply: unknown) => R): Promise<R>;
  /** Runs a script (EVALSHA, falling back to EVAL once when Redis lost its script cache). */
  script(script: LuaScript, keys: readonly string[], args: readonly WireArg[]): Promise<unknown>;
  /** Runs commands in one round trip; per-command errors are returned, not thrown. */
  pipeline(items: readonly PipelineItem[]): Promise<PipelineReply[]>;
}

type UpstashResponseItem = { result?: unknown; error?: string };

/** Largest pipeline request body the wire sends at once (JSON characters, roughly bytes). */
const MAX_PIPELINE_BYTES = 512 * 1024;

/** Creates a {@link Wire} over `redis`. */
export function createWire(
  redis: RedisClient,
  timeoutMs = 1000,
  options: { circuitBreakerMs?: number } = {},
): Wire {
  // `requester` is HotpathRedis's public property (the public Requester interface of @upstash/redis).
  const requester = (redis as Partial<{ requester: Requester }> | undefined)?.requester;
  if (!requester || typeof requester.request !== "function") {
    throw new TypeError(
      "@hotpath/cache needs a client created by createRedis() of @hotpath/redis (it sends raw commands through the client's `requester`)",
    );
  }
  // REST: commands of one tick share one HTTP request (see request-batcher.ts).
  const sendOne: SendCommand =
    (redis as Partial<{ transport: string }>).transport === "rest"
      ? createRequestBatcher(requester)
      : (body) => requester.request<unknown>({ body });
  const loaded = new WeakSet<LuaScript>();
  const breakerMs = options.circuitBreakerMs ?? 0;
  let openUntil = 0;
  const circuitOpen = (): RedisUnavailableError | undefined =>
    breakerMs > 0 && openUntil > Date.now()
      ? new RedisUnavailableError(
          "CACHE_REDIS_UNAVAILABLE",
          `Redis failed less than ${breakerMs} ms ago (circuit open); not asked.`,
        )
      : undefined;
  /** Converts a failure and opens the circuit when Redis itself failed (not for a command error). */
  const fail = (error: unknown): RedisUnavailableError => {
    const wrapped = toWireError(error);
    if (breakerMs > 0 && wrapped.code !== "CACHE_REDIS_ERROR") openUntil = Date.now() + breakerMs;
    return wrapped;
  };

  const send = async (body: unknown, path?: string[]): Promise<unknown> => {
    const open = circuitOpen();
    if (open) throw open;
    const pending = requester.request<unknown>({ body, path });
    const response = await withTimeout(pending, timeoutMs);
    return response;
  };

  const onReply = (response: unknown): unknown => {
    const item = response as UpstashResponseItem;
    if (item.error) throw new RedisUnavailableError("CACHE_REDIS_ERROR", item.error);
    return item.result ?? null;
  };
  const onFailure = (error: unknown): never => {
    throw fail(error);
  };
  // Not async on purpose: the hot path adds one promise, not three.
  const command = <R = unknown>(
    args: readonly WireArg[],
    map?: (reply: unknown) => R,
  ): Promise<R> => {
    const open = circuitOpen();
    if (open) return Promise.reject(open);
    let pending: Promise<unknown>;
    try {
      pending = withTimeout(sendOne(args.map(String)), timeoutMs);
    } catch (error) {
      return Promise.reject(fail(error));
    }
    return (
      map
        ? pending.then((response) => map(onReply(response)), onFailure)
        : pending.then(onReply, onFailure)
    ) as Promise<R>;
  };

  const script = async (
    lua: LuaScript,
    keys: readonly string[],
    args: readonly WireArg[],
  ): Promise<unknown> => {
    const sha = lua.knownSha ?? (await lua.sha());
    try {
      const value = await command(["EVALSHA", sha, keys.length, ...keys, ...args]);
      loaded.add(lua);
      return value;
    } catch (error) {
      if (!isNoScript(error)) throw error;
      const value = await command(["EVAL", lua.source, keys.length, ...keys, ...args]);
      loaded.add(lua);
      return value;
    }
  };

  /**
   * Encodes pipeline items. A script Redis may not know yet is sent as EVAL once, at its first
   * place in the batch; later calls of it use EVALSHA (a pipeline runs in order, so the EVAL has
   * loaded it by then; on a node that still lacks it, such as another node of a cluster, the
   * NOSCRIPT retry below sends EVAL for every call).
   */
  const encodeAll = async (
    batch: readonly PipelineItem[],
    forceEval: boolean,
  ): Promise<string[][]> => {
    const evalSent = new Set<LuaScript>();
    const bodies: string[][] = [];
    for (const item of batch) {
      if (Array.isArray(item)) {
        bodies.push((item as readonly WireArg[]).map(String));
        continue;
      }
      const call = item as Exclude<PipelineItem, readonly WireArg[]>;
      // On a retry every call is an EVAL: on a cluster each node has its own script cache.
      const sendEval = forceEval || (!loaded.has(call.script) && !evalSent.has(call.script));
      if (sendEval) evalSent.add(call.script);
      const head = sendEval
        ? ["EVAL", call.script.source]
        : ["EVALSHA", call.script.knownSha ?? (await call.script.sha())];
      bodies.push([...head, String(call.keys.length), ...call.keys, ...call.args.map(String)]);
    }
    return bodies;
  };

  const sendPipeline = async (bodies: string[][]): Promise<PipelineReply[]> => {
    let response: unknown;
    try {
      response = await send(bodies, ["pipeline"]);
    } catch (error) {
      throw error instanceof RedisUnavailableError ? error : fail(error);
    }
    if (!Array.isArray(response))
      throw new RedisUnavailableError("CACHE_REDIS_ERROR", "Malformed pipeline reply");
    return (response as UpstashResponseItem[]).map((item) =>
      item.error ? { ok: false, error: item.error } : { ok: true, value: item.result ?? null },
    );
  };

  /**
   * Sends `bodies` in order, in requests of at most {@link MAX_PIPELINE_BYTES} each (a REST
   * endpoint refuses larger bodies: Upstash's request limit, the gateway's 1 MiB default).
   */
  const runPipeline = async (bodies: string[][]): Promise<PipelineReply[]> => {
    const replies: PipelineReply[] = [];
    let chunk: string[][] = [];
    let bytes = 0;
    for (const body of bodies) {
      const size = body.reduce((sum, arg) => sum + arg.length + 3, 2);
      if (chunk.length > 0 && bytes + size > MAX_PIPELINE_BYTES) {
        replies.push(...(await sendPipeline(chunk)));
        chunk = [];
        bytes = 0;
      }
      chunk.push(body);
      bytes += size;
    }
    if (chunk.length > 0) replies.push(...(await sendPipeline(chunk)));
    return replies;
  };

  const pipeline = async (items: readonly PipelineItem[]): Promise<PipelineReply[]> => {
    if (items.length === 0) return [];
    const replies = await runPipeline(await encodeAll(items, false));
    const retry = replies.flatMap((reply, index) =>
      !reply.ok && /NOSCRIPT/i.test(reply.error) ? [index] : [],
    );
    if (retry.length > 0) {
      const again = await runPipeline(
        await encodeAll(
          retry.map((index) => items[index] as PipelineItem),
          true,
        ),
      );
      retry.forEach((index, at) => (replies[index] = again[at] as PipelineReply));
    }
    for (const item of items)
      if (!Array.isArray(item)) loaded.add((item as { script: LuaScript }).script);
    return replies;
  };

  return { timeoutMs, command, script, pipeline };
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && /NOSCRIPT/i.test(error.message);
}

/**
 * Converts whatever the requester threw into a {@link RedisUnavailableError}: Redis unreachable
 * (also when a gateway reports it), timed out, or a command error Redis returned.
 */
export function toWireError(error: unknown): RedisUnavailableError {
  if (error instanceof RedisUnavailableError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const cut = message.indexOf(", command was:");
  const isCommandReply = cut >= 0;
  const head = isCommandReply ? message.slice(0, cut) : message;
  if (code === "REDIS_TIMEOUT" || /did not answer|timed? ?out|abort/i.test(head)) {
    return new RedisUnavailableError(
      "CACHE_REDIS_TIMEOUT",
      `Redis did not answer in time: ${head}`,
      { cause: error },
    );
  }
  if (
    code === "REDIS_UNAVAILABLE" ||
    /unavailable|ECONNREFUSED|ECONNRESET|fetch failed|socket|connection is closed/i.test(head)
  ) {
    return new RedisUnavailableError("CACHE_REDIS_UNAVAILABLE", `Redis is unavailable: ${head}`, {
      cause: error,
    });
  }
  if (isCommandReply)
    return new RedisUnavailableError("CACHE_REDIS_ERROR", message, { cause: error });
  return new RedisUnavailableError("CACHE_REDIS_UNAVAILABLE", `Redis is unavailable: ${message}`, {
    cause: error,
  });
}

const TIMEOUT_OPTIONS = {
  error: (ms: number): Error =>
    new RedisUnavailableError("CACHE_REDIS_TIMEOUT", `Redis did not answer within ${ms} ms`),
};

/**
 * Rejects with `CACHE_REDIS_TIMEOUT` after about `ms` (one shared sweeper timer, no timer per call;
 * the original promise's rejection is still observed).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return withDeadline(promise, ms, TIMEOUT_OPTIONS);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** Reads a reply as a string (null stays null). */
export function asString(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  return typeof value === "number" || typeof value === "bigint" || typeof value === "boolean"
    ? String(value)
    : JSON.stringify(value);
}

/** Reads a reply as a number (null and garbage become `fallback`). */
export function asNumber(value: unknown, fallback = 0): number {
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : fallback;
}
