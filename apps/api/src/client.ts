import {
  createTRPCClient,
  httpBatchLink,
  httpLink,
  isTRPCClientError,
  splitLink,
  type TRPCClient,
  type TRPCClientError,
} from "@trpc/client";
import { MAX_BATCH_SIZE } from "./batch-limit.ts";
import type { AppRouter } from "./trpc/router.ts";

export type { AppRouter, RouterInputs, RouterOutputs } from "./trpc/router.ts";

/** Headers: a fixed record, or a function called per HTTP request (e.g. to read a token). */
export type HeadersOption =
  Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);

/** Options of {@link createHotpathClient}. */
export interface HotpathClientOptions {
  /** The tRPC endpoint, e.g. `http://127.0.0.1:3000/trpc` or `/trpc` in a browser. */
  url: string;
  /** Extra request headers (Authorization: Bearer <session token>, …). */
  headers?: HeadersOption;
  /** A fetch implementation (tests, cookies jars). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** Per-call context understood by the client: `{ context: { idempotencyKey } }` on a mutation. */
export interface HotpathCallContext {
  /** Sent as `Idempotency-Key` (the call then goes unbatched so the header is its own). */
  idempotencyKey?: string;
  [key: string]: unknown;
}

/** The typed client of the Hotpath API. */
export type HotpathClient = TRPCClient<AppRouter>;

/**
 * A typed client: queries and plain mutations are batched (httpBatchLink); a call with
 * `context.idempotencyKey` goes alone (httpLink) with the `Idempotency-Key` header.
 * @example
 * const api = createHotpathClient({ url: "http://127.0.0.1:3000/trpc" });
 * const { token } = await api.sessions.login.mutate({ username: "dave", password: "hotpath-demo" });
 * const authed = createHotpathClient({ url, headers: { authorization: `Bearer ${token}` } });
 * await authed.tips.quick.mutate({ streamId: 1, amount: 5 }, { context: { idempotencyKey: crypto.randomUUID() } });
 */
export function createHotpathClient(options: HotpathClientOptions): HotpathClient {
  const baseHeaders = async (): Promise<Record<string, string>> =>
    typeof options.headers === "function" ? await options.headers() : (options.headers ?? {});
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => typeof (op.context as HotpathCallContext).idempotencyKey === "string",
        true: httpLink({
          url: options.url,
          ...fetchOption,
          headers: async ({ op }) => ({
            ...(await baseHeaders()),
            "Idempotency-Key": String((op.context as HotpathCallContext).idempotencyKey),
          }),
        }),
        false: httpBatchLink({
          url: options.url,
          ...fetchOption,
          headers: baseHeaders,
          maxItems: MAX_BATCH_SIZE,
        }),
      }),
    ],
  });
}

/** The client error type of this API (its `data` carries zodError, retryAfter, limit, remaining). */
export type HotpathClientError = TRPCClientError<AppRouter>;

/** True when `error` is an error of this API's client (narrows `error.data`). */
export function isHotpathClientError(error: unknown): error is HotpathClientError {
  return isTRPCClientError<AppRouter>(error);
}
